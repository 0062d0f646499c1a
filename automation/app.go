package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/sethvargo/go-envconfig"
	"github.com/spf13/cobra"

	"github.com/mirror-dissonance/mirror-infra/internal/driver"
	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/verify/target"
)

// environ is the process environment, read once at start; commands take
// their MD_* settings and defaults from it, never from os.Getenv.
type environ struct{ vars map[string]string }

func readEnviron(kv []string) environ {
	m := make(map[string]string, len(kv))
	for _, x := range kv {
		if k, v, ok := strings.Cut(x, "="); ok {
			m[k] = v
		}
	}
	return environ{vars: m}
}

func (e environ) get(k string) string { return e.vars[k] }

func (e environ) has(k string) bool {
	_, ok := e.vars[k]
	return ok
}

// lookuper serves the MD_* readers of target and verify from the snapshot.
func (e environ) lookuper() envconfig.Lookuper { return envconfig.MapLookuper(e.vars) }

func (e environ) logLevel() slog.Level {
	if e.get("MD_DEBUG") != "" {
		return slog.LevelDebug
	}
	return slog.LevelWarn
}

// secretsProviderEnv is the driver's own MD_* variable: the state's secrets
// provider (the workflows set it from vars.PULUMI_SECRETS_PROVIDER).
const secretsProviderEnv = "MD_SECRETS_PROVIDER"

// deps are what tests replace: nil fields mean the real ones.
type deps struct {
	// cycle replaces each stack's deploy cycle of a multi-stack deploy.
	cycle stackCycle
	// outputs reads a deployed stack's outputs.
	outputs func(ctx context.Context, dir, stack string) (map[string]any, error)
	// exit ends the process when the memory bound is hit.
	exit func(code int)
	// memoryLimit overrides defaultMemoryLimit.
	memoryLimit uint64
}

// app is one execution of the command line: where it writes, the
// environment it was started with, and the outcome of the command.
type app struct {
	io          stdio
	env         environ
	deps        deps
	memoryLimit uint64
	// Set by the command that ran: its reports and how to print them.
	reports []*report.Report
	out     *outputFlags
	cmd     *cobra.Command

	mu       sync.Mutex
	finished bool
}

func newApp(io stdio, env environ, d deps) *app {
	a := &app{io: io, env: env, deps: d, memoryLimit: d.memoryLimit}
	if a.memoryLimit == 0 {
		a.memoryLimit = defaultMemoryLimit
	}
	if a.deps.outputs == nil {
		a.deps.outputs = driver.Outputs
	}
	if a.deps.exit == nil {
		a.deps.exit = os.Exit
	}
	return a
}

func (a *app) exit(code int) { a.deps.exit(code) }

// execute runs the command args name. "automation <stack>" is a deploy,
// but only when Pulumi.<stack>.yaml exists: anything else that is not a
// command is bad usage with a suggestion.
func (a *app) execute(ctx context.Context, args []string) error {
	root := newRootCmd(a)
	if len(args) == 0 {
		a.printRootHelp(root, a.io.err)
		return &usageError{msg: "no command or stack given"}
	}
	if first := args[0]; !strings.HasPrefix(first, "-") && !isCommand(root, first) {
		dir, _ := projectDir(projectDirArg(args))
		if dir == "" || !stackExists(dir, first) {
			return unknownCommand(root, dir, first)
		}
		args = append([]string{"deploy"}, args...)
	} else if strings.HasPrefix(first, "-") && !isHelpFlag(first) {
		return usageErrorf("flag %s given before a command or stack (write: go run ./automation <command> <stack> %s)", first, first)
	}
	root.SetArgs(args)
	root.SetContext(ctx)
	c, err := root.ExecuteC()
	if a.cmd == nil {
		a.cmd = c
	}
	return err
}

// finish prints what the command produced and returns the exit code:
// the reports (text, --json, --markdown), or the error as one line, with
// the command's usage after a usage error.
func (a *app) finish(err error) int {
	// The memory watchdog may finish while the command still runs: one
	// of them prints.
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.finished {
		return exitCode(a.reports, err)
	}
	a.finished = true
	out := outputFlags{}
	if a.out != nil {
		out = *a.out
	}
	if len(a.reports) > 0 {
		if werr := emit(a.io, a.env, out, a.reports); werr != nil && err == nil {
			err = werr
		}
	}
	if err != nil {
		name := "automation"
		if n := a.commandName(); n != name {
			name += " " + n
		}
		fmt.Fprintf(a.io.err, "%s: %s\n", name, oneLine(err.Error()))
		var ue *usageError
		if errors.As(err, &ue) && ue.syntax && a.cmd != nil && a.cmd.HasParent() {
			fmt.Fprintf(a.io.err, "\n%s", usageBlock(a.cmd))
		}
	}
	return exitCode(a.reports, err)
}

// abort ends the command with an infrastructure FAIL check id (a panic,
// the memory bound) in a report, and returns the exit code (3).
func (a *app) abort(id, reason string) int {
	r := &report.Report{Command: a.commandName(), Started: time.Now()}
	r.Add(report.Check{ID: id, Status: report.Fail, Infra: true, Reason: reason,
		Fix: "run again with MD_DEBUG=1 for details; report it with the command line if it persists"})
	a.reports = append(a.reports, r)
	return a.finish(nil)
}

func (a *app) commandName() string {
	if a.cmd == nil || !a.cmd.HasParent() {
		return "automation"
	}
	return strings.TrimPrefix(a.cmd.CommandPath(), a.cmd.Root().Name()+" ")
}

// oneLine keeps an error message on one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// result records a command's reports for finish; the timeout bound, when
// the command's context hit it, is added to the last report as a FAIL.
func (a *app) result(ctx context.Context, bound string, reports []*report.Report) {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		c := report.Check{ID: "timeout", Status: report.Fail, Infra: true,
			Reason: fmt.Sprintf("stopped at the %s bound: the command did not finish in time", bound),
			Fix:    "check that the endpoint answers (AWS_ENDPOINT_URL, network); raise --timeout only when the work is known to take longer"}
		if len(reports) == 0 {
			reports = []*report.Report{{Command: a.cmd.Name(), Started: time.Now()}}
		}
		reports[len(reports)-1].Add(c)
	}
	a.reports = reports
}

// env variable names the commands read besides the MD_* overrides of
// target.Env and verify.EnvSettings.
var (
	envVerifyQueue = target.EnvPrefix + "VERIFY_QUEUE_URL"
)
