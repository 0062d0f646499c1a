package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mirror-dissonance/mirror-infra/report"
)

// outputFlags say where the report goes besides the human text.
type outputFlags struct {
	json     bool
	markdown string
	quiet    bool
	verbose  bool
}

func (o *outputFlags) add(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&o.json, "json", false, "the report as JSON on stdout; human text goes to stderr")
	cmd.Flags().StringVar(&o.markdown, "markdown", "", "also write the report as Markdown to this `FILE` (PR comments, CI summaries)")
	cmd.Flags().BoolVarP(&o.quiet, "quiet", "q", false, "details only for checks that did not pass (the default on a terminal)")
	cmd.Flags().BoolVar(&o.verbose, "verbose", false, "every check's details, also on a terminal")
	cmd.MarkFlagsMutuallyExclusive("quiet", "verbose")
}

// check makes sure the Markdown file can be written before any cloud
// call, so a typo never hides a verdict after the work is done. It creates
// the file (empty) without truncating an existing one.
func (o *outputFlags) check() error {
	if o.markdown == "" {
		return nil
	}
	path := o.markdown
	if st, err := os.Stat(filepath.Dir(path)); err != nil || !st.IsDir() {
		return usageErrorf("--markdown %s: the folder %s does not exist (create it first)", path, filepath.Dir(path))
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return usageErrorf("--markdown %s: cannot be written: %v", path, err)
	}
	return f.Close()
}

// common are the flags of every command: the outputs and the deadline.
type common struct {
	out     outputFlags
	timeout time.Duration
}

// commandRun is a command's run function as the runner calls it.
type commandRun func(ctx context.Context, args []string) ([]*report.Report, error)

// define registers the common flags on cmd and makes run its action:
// the flags are checked, the deadline set (timeout is its default, what
// the help says it bounds), the reports recorded for main. extra, when
// not zero, is time the command gets past --timeout (e2e's cleanup).
func (a *app) define(cmd *cobra.Command, c *common, timeout time.Duration, bounds string, extra time.Duration, run commandRun) *cobra.Command {
	c.out.add(cmd)
	cmd.Flags().DurationVar(&c.timeout, "timeout", timeout, "bound "+bounds)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		a.cmd, a.out = cmd, &c.out
		if c.timeout <= 0 {
			return syntaxErrorf("--timeout %s: must be positive (default %s)", c.timeout, timeout)
		}
		if err := c.out.check(); err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(cmd.Context(), c.timeout+extra)
		defer cancel()
		reports, err := run(ctx, args)
		a.result(ctx, "--timeout "+c.timeout.String(), reports)
		return err
	}
	return cmd
}

// commandSpec is what a command's help and deadline say about it.
type commandSpec struct {
	use, short, long string
	// timeout is --timeout's default; bounds says what it bounds.
	timeout time.Duration
	bounds  string
	// extra is time the command gets past --timeout (e2e's cleanup).
	extra time.Duration
}

// stackCommand is a command of one stack: its arguments, common flags
// and deadline, and run as its action.
func (a *app) stackCommand(s commandSpec, c *common, run func(ctx context.Context, cmd *cobra.Command, stack string) ([]*report.Report, error)) *cobra.Command {
	cmd := &cobra.Command{Use: s.use, Short: s.short, Long: s.long}
	a.stackArgs(cmd)
	return a.define(cmd, c, s.timeout, s.bounds, s.extra, func(ctx context.Context, args []string) ([]*report.Report, error) {
		return run(ctx, cmd, args[0])
	})
}

// stackCmd is a one-stack command's options: the common flags (embedded),
// its own flags, and its run function.
type stackCmd interface {
	base() *common
	flags(c *cobra.Command, env environ)
	run(ctx context.Context, a *app, c *cobra.Command, stack string) (*report.Report, error)
}

func (c *common) base() *common { return c }

// register makes the command of spec s from its options o.
func (a *app) register(s commandSpec, o stackCmd) *cobra.Command {
	c := a.stackCommand(s, o.base(), func(ctx context.Context, c *cobra.Command, stack string) ([]*report.Report, error) {
		return one(o.run(ctx, a, c, stack))
	})
	o.flags(c, a.env)
	return c
}

// approvalFlags are the say of the operator over a plan (SPEC 5).
type approvalFlags struct {
	yes     bool
	approve string
	// approvals are --approve STACK=FP, one per stack of a multi-stack run.
	approvals      map[string]string
	nonInteractive bool
}

func (f *approvalFlags) add(cmd *cobra.Command, env environ) {
	cmd.Flags().BoolVar(&f.yes, "yes", false, "approve the saved plan without asking (not enough for production)")
	cmd.Flags().Var(approveValue{f}, "approve", "approve exactly the saved plan with this `FINGERPRINT`; with several stacks STACK=FINGERPRINT, repeated")
	cmd.Flags().BoolVar(&f.nonInteractive, "non-interactive", env.get("CI") != "", "never prompt; without approval, stop after the preview (default true when CI is set)")
}

// fingerprintFor is the approved fingerprint of stack: its STACK=FP, else
// the bare --approve.
func (f approvalFlags) fingerprintFor(stack string) string {
	if fp, ok := f.approvals[stack]; ok {
		return fp
	}
	return f.approve
}

// checkApprovals refuses --approve values that cannot apply to the stacks
// of this run: a STACK=FP of another stack (a typo would silently leave a
// stack unapproved) or, with several stacks, a bare fingerprint (it can
// match only one of their plans).
func (f approvalFlags) checkApprovals(stacks []string) error {
	var unknown []string
	for s := range f.approvals {
		if !slices.Contains(stacks, s) {
			unknown = append(unknown, s)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return usageErrorf("--approve names stack(s) %s not in this run (%s)", strings.Join(unknown, ", "), strings.Join(stacks, ", "))
	}
	if len(stacks) > 1 && f.approve != "" {
		return usageErrorf("--approve %s: with several stacks name the stack of each fingerprint, e.g. --approve %s=%s", f.approve, stacks[len(stacks)-1], f.approve)
	}
	return nil
}

// approveValue is --approve: a bare fingerprint for a one-stack run, or
// STACK=FINGERPRINT, repeated, one per stack; a fingerprint (sha256:<hex>)
// has no "=", so the forms cannot be confused.
type approveValue struct{ f *approvalFlags }

func (a approveValue) String() string {
	if a.f == nil {
		return ""
	}
	return a.f.approve
}

func (a approveValue) Type() string { return "FINGERPRINT" }

func (a approveValue) Set(v string) error {
	stack, fp, named := strings.Cut(v, "=")
	if !named {
		a.f.approve = v
		return nil
	}
	if stack == "" || fp == "" {
		return fmt.Errorf("want FINGERPRINT or STACK=FINGERPRINT, got %q", v)
	}
	if prev, ok := a.f.approvals[stack]; ok && prev != fp {
		return fmt.Errorf("two fingerprints for stack %s: %s and %s", stack, prev, fp)
	}
	if a.f.approvals == nil {
		a.f.approvals = map[string]string{}
	}
	a.f.approvals[stack] = fp
	return nil
}

// listFlag is a repeatable name flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Type() string   { return "NAME" }
func (l *listFlag) Set(v string) error {
	if strings.TrimSpace(v) == "" {
		return errors.New("empty name")
	}
	*l = append(*l, v)
	return nil
}

// projectDir returns the directory holding Pulumi.yaml: the flag's value, or
// the nearest ancestor of the working directory that has one.
func projectDir(flagValue string) (string, error) {
	if flagValue != "" {
		if _, err := os.Stat(filepath.Join(flagValue, "Pulumi.yaml")); err != nil {
			return "", usageErrorf("--project-dir %q has no Pulumi.yaml", flagValue)
		}
		return filepath.Abs(flagValue)
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", usageErrorf("finding the working directory: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "Pulumi.yaml")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", usageErrorf("no Pulumi.yaml in the working directory or above it (use --project-dir)")
		}
		dir = parent
	}
}

// projectDirArg finds --project-dir in raw arguments (before parsing, to
// tell a bare stack from a mistyped command).
func projectDirArg(args []string) string {
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, "--project-dir="); ok {
			return v
		}
		if a == "--project-dir" && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}
