// Command automation is the Mirror Dissonance deploy driver: it previews,
// gates, applies exactly the reviewed plan and verifies, plus the offline
// check, the verifier, the E2E cycle, nonce rotation, drift, a guarded
// destroy and an offline rehearsal. Run it with --help.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/mirror-dissonance/mirror-infra/report"
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

// command is one form of the command line (SPEC 3.1).
type command struct {
	name    string
	args    string // synopsis after the name
	summary string
	detail  string
	run     func(ctx context.Context, io stdio, args []string) int
}

// commands lists every form; the run functions live in cmd_*.go.
func commands() []command {
	return []command{
		{name: "deploy", args: "<stack>", summary: "the whole cycle: preview, gate, up with the saved plan, verify (also: automation <stack>)", detail: deployDetail, run: runDeploy},
		{name: "preview", args: "<stack>", summary: "preview and save the plan; print the summary and its fingerprint", detail: previewDetail, run: runPreview},
		{name: "check", args: "<stack>", summary: "offline: run the program under mocks and apply the gate rules (no credentials, network, CLI or plugin)", detail: checkDetail, run: runCheck},
		{name: "verify", args: "<stack>", summary: "the read-only checks of the verifier catalogue", detail: verifyDetail, run: runVerify},
		{name: "e2e", args: "<stack>", summary: "the E2E cycle: PR to Oracle to FP event to drift detection, against the stack's tables", detail: e2eDetail, run: runE2E},
		{name: "nonce", args: "rotate <stack> --from N", summary: "rotate the redaction nonce from version N (--from 0 bootstraps v1)", detail: nonceDetail, run: runNonce},
		{name: "drift", args: "<stack>", summary: "what changed outside Pulumi (refresh in preview mode); exit 1 on drift", detail: driftDetail, run: runDrift},
		{name: "destroy", args: "<stack>", summary: "guarded destroy: refuses while protected resources exist unless each is named", detail: destroyDetail, run: runDestroy},
		{name: "rehearse", args: "<stack>", summary: "the whole cycle offline against an in-process AWS emulator", detail: rehearseDetail, run: runRehearse},
		{name: "adopt", args: "<stack>", summary: "take over existing (Terraform-made) resources of the stack's names: discover, plan, import, preview", detail: adoptDetail, run: runAdopt},
		{name: "unlock", args: "<stack>", summary: "show a stack's state lock (holder, age); --yes removes a stale one after checking no update runs here", detail: unlockDetail, run: runUnlock},
		{name: "leftovers", args: "<acc-stack>", summary: "after an acceptance run's destroy: list what is still named after it (exit 1 if anything)", detail: leftoversDetail, run: runLeftovers},
	}
}

func findCommand(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

func run(ctx context.Context, args []string, io stdio) int {
	slog.SetDefault(slog.New(slog.NewTextHandler(io.err, &slog.HandlerOptions{Level: logLevel()})))
	if len(args) == 0 {
		usage(io.err)
		return report.ExitUsage
	}
	switch args[0] {
	case "-h", "--help", "-help", "help":
		if len(args) > 1 {
			if c, ok := findCommand(args[1]); ok {
				commandHelp(io.out, c)
				return report.ExitOK
			}
			fmt.Fprintf(io.err, "automation: no command %q\n\n", args[1])
			usage(io.err)
			return report.ExitUsage
		}
		usage(io.out)
		return report.ExitOK
	}
	if c, ok := findCommand(args[0]); ok {
		return c.run(ctx, io, args[1:])
	}
	if strings.HasPrefix(args[0], "-") {
		fmt.Fprintf(io.err, "automation: flag %s given before a command or stack\n\n", args[0])
		usage(io.err)
		return report.ExitUsage
	}
	// "automation <stack>" is the whole cycle.
	return runDeploy(ctx, io, args)
}

func logLevel() slog.Level {
	if os.Getenv("MD_DEBUG") != "" {
		return slog.LevelDebug
	}
	return slog.LevelWarn
}

func usage(w io.Writer) {
	var b strings.Builder
	b.WriteString(`automation: deploy and prove the Mirror Dissonance infrastructure.

Usage:
  go run ./automation <stack> [flags]           the whole cycle (same as "deploy <stack>")
  go run ./automation <command> <stack> [flags]
  go run ./automation deploy <stack> <stack>... [--parallel N] | --stacks a,b | --all
  go run ./automation help <command>            flags and details of one command

<stack> is staging, production or any stack with a Pulumi.<stack>.yaml in
the project directory.

Commands:
`)
	cmds := commands()
	width := 0
	for _, c := range cmds {
		width = max(width, len(c.name+" "+c.args))
	}
	for _, c := range cmds {
		fmt.Fprintf(&b, "  %-*s  %s\n", width, c.name+" "+c.args, c.summary)
	}
	b.WriteString(`
Common flags (where a command takes them):
  --json              the report as JSON on stdout; human text goes to stderr
  --markdown FILE     also write the report as Markdown (for PR comments, CI summaries)
  --from-env          verify, e2e, nonce: take names from the SPEC naming of the
                      stack's environment plus MD_* environment variables instead
                      of stack outputs
  --yes               approve the plan without asking (not enough for production)
  --approve FP        approve exactly the plan whose fingerprint is FP
  --non-interactive   never prompt; without approval, stop after the preview
  --project-dir DIR   where Pulumi.yaml is (default: found upward from the cwd)

AWS endpoint and credentials come from the SDK's standard sources (profiles,
web identity, AWS_ENDPOINT_URL), so the same commands run against AWS or an
emulator. PULUMI_BACKEND_URL selects the state backend (default: a local
file backend under .pulumi-state in the project); a team shares
s3://<bucket>/<prefix>?region=<region> with --secrets-provider
awskms://alias/<name>?region=<region> (docs/operations.md).

Exit codes:
  0  success
  1  a gate or check failed
  2  bad usage or configuration (before any cloud call)
  3  the engine or the cloud failed
`)
	_, _ = io.WriteString(w, b.String())
}

func commandHelp(w io.Writer, c command) {
	fmt.Fprintf(w, "Usage: go run ./automation %s %s [flags]\n\n%s\n", c.name, c.args, c.summary)
	if c.detail != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(c.detail))
	}
}

// usageErrorf prints a usage error and returns exit code 2.
func usageErrorf(io stdio, cmd string, format string, a ...any) int {
	fmt.Fprintf(io.err, "automation %s: %s\n", cmd, fmt.Sprintf(format, a...))
	fmt.Fprintf(io.err, "run \"go run ./automation help %s\" for usage\n", cmd)
	return report.ExitUsage
}

// sortedNames is used by tests and help to list command names.
func sortedNames() []string {
	var names []string
	for _, c := range commands() {
		names = append(names, c.name)
	}
	sort.Strings(names)
	return names
}

// newFlagSet returns a flag set that reports errors instead of exiting.
func newFlagSet(name string, io stdio) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.err)
	return fs
}
