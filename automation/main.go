// Command automation is the Mirror Dissonance deploy driver: it previews,
// gates, applies exactly the reviewed plan and verifies, plus the offline
// check, the verifier, the E2E cycle, nonce rotation, drift, a guarded
// destroy and an offline rehearsal. Run it with --help.
//
// Each command is one file (cmd_<name>.go): an options struct, a
// constructor that defines its flags (its help is generated from them plus
// one paragraph) and a run function returning the report and a typed
// error. Exit codes are made in one place, exitCode below.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/mirror-dissonance/mirror-infra/internal/driver"
	"github.com/mirror-dissonance/mirror-infra/internal/sweep"
	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/verify/target"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// The first Ctrl-C cancels cleanly (the driver interrupts the pulumi CLI
	// once and waits for it); restoring the default handler then lets a
	// second Ctrl-C end the process at once.
	go func() {
		<-ctx.Done()
		stop()
	}()
	code := run(ctx, os.Args[1:], stdio{in: os.Stdin, out: os.Stdout, err: os.Stderr})
	stop()
	os.Exit(code)
}

// stdio is where a command reads and writes; tests substitute buffers.
type stdio struct {
	in  io.Reader
	out io.Writer
	err io.Writer
}

// run is the command line with the process environment and the real
// engine; it returns the exit code.
func run(ctx context.Context, args []string, io stdio) int {
	return execute(ctx, args, io, readEnviron(os.Environ()), deps{})
}

// execute parses args, runs the command, prints its report and maps the
// outcome to the exit code. A panic becomes an engine failure with a
// report (exit 3), never a crash with Go's exit 2; so does running past
// the memory bound (see watchMemory).
func execute(ctx context.Context, args []string, io stdio, env environ, d deps) (code int) {
	slog.SetDefault(slog.New(slog.NewTextHandler(io.err, &slog.HandlerOptions{Level: env.logLevel()})))
	a := newApp(io, env, d)
	defer func() {
		if p := recover(); p != nil {
			slog.Debug("panic", "stack", string(debug.Stack()))
			code = a.abort("panic", fmt.Sprintf("the command panicked: %v (a bug: please report it with the command line)", p))
		}
	}()
	stopWatch := watchMemory(ctx, a.memoryLimit, heapInUse, time.Second/4, func(used uint64) {
		a.exit(a.abort("memory", fmt.Sprintf("stopped: the process used %s of memory, past its bound of %s (an answer too large to read?)",
			formatBytes(used), formatBytes(a.memoryLimit))))
	})
	defer stopWatch()
	return a.finish(a.execute(ctx, args))
}

// exitCode is the one mapping from an outcome to the exit code (SPEC 3.1):
// 2 for bad usage or configuration found before any cloud call, 3 for the
// engine or the cloud failing (and for any error not typed as usage),
// else the reports' verdict: 1 when a gate rule or check failed, 3 when a
// check could not run, 0 otherwise.
func exitCode(reports []*report.Report, err error) int {
	var ue *usageError
	switch {
	case errors.As(err, &ue), errors.Is(err, target.ErrInvalid), errors.Is(err, sweep.ErrRefused):
		// A target that names another environment's resource or breaks
		// AWS's naming rules, or a refused purge: found before any call.
		return report.ExitUsage
	case err != nil:
		return report.ExitEngine
	}
	return driver.WorstExit(reports)
}

// usageError is bad usage or configuration, found before any cloud call.
type usageError struct {
	msg string
	// syntax: the command line itself is wrong (a flag, the arguments), so
	// the command's usage follows the message.
	syntax bool
}

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, a ...any) error {
	return &usageError{msg: fmt.Sprintf(format, a...)}
}

// syntaxErrorf is a usage error in the command line's form.
func syntaxErrorf(format string, a ...any) error {
	return &usageError{msg: fmt.Sprintf(format, a...), syntax: true}
}

// asUsage marks err as bad usage (it keeps the message).
func asUsage(err error) error {
	if err == nil {
		return nil
	}
	var ue *usageError
	if errors.As(err, &ue) {
		return err
	}
	return &usageError{msg: err.Error()}
}

// engineError is the engine, the backend or the cloud failing where no
// report can carry it.
type engineError struct{ err error }

func (e *engineError) Error() string { return e.err.Error() }
func (e *engineError) Unwrap() error { return e.err }

func engineErrorf(format string, a ...any) error {
	return &engineError{err: fmt.Errorf(format, a...)}
}
