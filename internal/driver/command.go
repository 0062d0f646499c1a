package driver

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/blang/semver"
	"github.com/pulumi/pulumi/sdk/v3/go/auto"
)

// DefaultCancelGrace is how long a cancelled operation may take to stop
// after its interrupt before the CLI is killed.
const DefaultCancelGrace = 5 * time.Minute

// CICancelGrace is the grace on GitHub Actions, which kills a cancelled
// job's processes about ten seconds after the cancel: the driver must stop
// the CLI, and release its lock, before that happens.
const CICancelGrace = 5 * time.Second

// command runs the pulumi CLI for the Automation API with a cancellation
// that leaves the stack recoverable. The Automation API's own runner sends
// SIGINT on cancel and kills the CLI ten seconds later, and on Unix leaves
// the CLI in the terminal's process group, so a Ctrl-C reaches the CLI
// twice (the terminal's and the runner's), which the CLI takes as "stop
// now". Here the CLI runs in its own process group and gets exactly one
// interrupt: it finishes the resource operations in flight, writes the
// state, releases the lock and exits; only after grace is it killed.
type command struct {
	path    string
	version semver.Version
	grace   time.Duration
	// afterKill runs when the CLI had to be killed after the grace period
	// (it could not release its lock itself), with its pid.
	afterKill func(pid int)
}

var _ auto.PulumiCommand = command{}

func (c command) Version() semver.Version { return c.version }

func (c command) Run(ctx context.Context, workdir string, stdin io.Reader,
	additionalOutput, additionalErrorOutput []io.Writer, additionalEnv []string, args ...string,
) (string, string, int, error) {
	flags := args
	if i := slices.Index(args, "--"); i >= 0 {
		flags = args[:i]
	}
	if !slices.Contains(flags, "--non-interactive") {
		args = append([]string{"--non-interactive"}, args...)
	}
	cmd := exec.Command(c.path, args...)
	cmd.Dir = workdir
	cmd.Stdin = stdin
	cmd.Env = append(withPathFirst(os.Environ(), filepath.Dir(c.path)), additionalEnv...)
	cmd.Env = append(cmd.Env, "PULUMI_AUTOMATION_API=true")
	var stdout, stderr bytes.Buffer
	cmd.Stdout = io.MultiWriter(append(additionalOutput, &stdout)...)
	cmd.Stderr = io.MultiWriter(append(additionalErrorOutput, &stderr)...)
	ownProcessGroup(cmd)
	if err := cmd.Start(); err != nil {
		return "", "", -1, err
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	var err error
	select {
	case err = <-waited:
	case <-ctx.Done():
		_ = interrupt(cmd.Process)
		select {
		case err = <-waited:
		case <-time.After(c.grace):
			_ = kill(cmd.Process)
			err = <-waited
			if c.afterKill != nil {
				c.afterKill(cmd.Process.Pid)
			}
		}
		if err == nil {
			err = ctx.Err()
		}
	}
	code := 0
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		code = exitErr.ExitCode()
	} else if err != nil {
		code = -1
	}
	return stdout.String(), stderr.String(), code, err
}

// withPathFirst puts dir first on PATH, so the CLI finds the plugins and
// tools installed next to it.
func withPathFirst(env []string, dir string) []string {
	out := make([]string, 0, len(env)+1)
	found := false
	for _, e := range env {
		if len(e) >= 5 && strings.EqualFold(e[:5], "PATH=") {
			e = e[:5] + dir + string(os.PathListSeparator) + e[5:]
			found = true
		}
		out = append(out, e)
	}
	if !found {
		out = append(out, "PATH="+dir)
	}
	return out
}
