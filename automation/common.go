package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"golang.org/x/term"

	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/stacks/stackconfig"
)

// options are the common flags of SPEC 3.1.
type options struct {
	json     bool
	markdown string
	fromEnv  bool
	yes      bool
	approve  string
	// approvals are --approve STACK=FP, one per stack of a multi-stack run.
	approvals      map[string]string
	nonInteractive bool
	projectDir     string
}

// approveValue is --approve: a bare fingerprint for a one-stack run (as
// always), or STACK=FINGERPRINT, repeated, one per stack; a fingerprint
// (sha256:<hex>) has no "=", so the forms cannot be confused.
type approveValue struct{ o *options }

func (a approveValue) String() string {
	if a.o == nil {
		return ""
	}
	return a.o.approve
}

func (a approveValue) Set(v string) error {
	stack, fp, named := strings.Cut(v, "=")
	if !named {
		a.o.approve = v
		return nil
	}
	if stack == "" || fp == "" {
		return fmt.Errorf("want FINGERPRINT or STACK=FINGERPRINT, got %q", v)
	}
	if prev, ok := a.o.approvals[stack]; ok && prev != fp {
		return fmt.Errorf("two fingerprints for stack %s: %s and %s", stack, prev, fp)
	}
	if a.o.approvals == nil {
		a.o.approvals = map[string]string{}
	}
	a.o.approvals[stack] = fp
	return nil
}

// fingerprintFor is the approved fingerprint of stack: its STACK=FP, else
// the bare --approve.
func (o options) fingerprintFor(stack string) string {
	if fp, ok := o.approvals[stack]; ok {
		return fp
	}
	return o.approve
}

// checkApprovals refuses --approve values that cannot apply to the stacks
// of this run: a STACK=FP of another stack (a typo would silently leave a
// stack unapproved) or, with several stacks, a bare fingerprint (it can
// match only one of their plans).
func (o options) checkApprovals(stacks []string) error {
	var unknown []string
	for s := range o.approvals {
		if !slices.Contains(stacks, s) {
			unknown = append(unknown, s)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return fmt.Errorf("--approve names stack(s) %s not in this run (%s)", strings.Join(unknown, ", "), strings.Join(stacks, ", "))
	}
	if len(stacks) > 1 && o.approve != "" {
		return fmt.Errorf("--approve %s: with several stacks name the stack of each fingerprint, e.g. --approve %s=%s", o.approve, stacks[len(stacks)-1], o.approve)
	}
	return nil
}

// addCommon registers the common flags a command takes.
func addCommon(fs *flag.FlagSet, o *options, withApproval, withFromEnv bool) {
	fs.BoolVar(&o.json, "json", false, "the report as JSON on stdout; human text goes to stderr")
	fs.StringVar(&o.markdown, "markdown", "", "also write the report as Markdown to this file")
	fs.StringVar(&o.projectDir, "project-dir", "", "directory holding Pulumi.yaml (default: found upward from the cwd)")
	fs.BoolVar(&o.nonInteractive, "non-interactive", os.Getenv("CI") != "", "never prompt (default true when CI is set)")
	if withFromEnv {
		fs.BoolVar(&o.fromEnv, "from-env", false, "names from the SPEC naming of the stack's environment plus MD_* variables, not stack outputs")
	}
	if withApproval {
		fs.BoolVar(&o.yes, "yes", false, "approve the saved plan without asking (not enough for production)")
		fs.Var(approveValue{o}, "approve", "approve exactly the saved plan with this fingerprint; with several stacks STACK=FINGERPRINT, repeated")
	}
}

// parseArgs parses flags placed before, between or after positional
// arguments (the standard flag package stops at the first positional).
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if rest[0] == "--" {
			return append(pos, rest[1:]...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// projectDir returns the directory holding Pulumi.yaml: the flag's value, or
// the nearest ancestor of the working directory that has one.
func projectDir(flagValue string) (string, error) {
	if flagValue != "" {
		if _, err := os.Stat(filepath.Join(flagValue, "Pulumi.yaml")); err != nil {
			return "", fmt.Errorf("--project-dir %q has no Pulumi.yaml", flagValue)
		}
		return filepath.Abs(flagValue)
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("finding the working directory: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "Pulumi.yaml")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no Pulumi.yaml in the working directory or above it (use --project-dir)")
		}
		dir = parent
	}
}

// emit prints a report: human text on stdout (stderr with --json), JSON on
// stdout with --json, Markdown to --markdown FILE. It returns the exit code.
func emit(io stdio, o options, r *report.Report) int {
	liftFingerprint(r)
	human := io.out
	if o.json {
		human = io.err
	}
	_ = r.WriteText(human, isTerminal(human))
	if o.json {
		if err := r.WriteJSON(io.out); err != nil {
			fmt.Fprintf(io.err, "writing the JSON report: %v\n", err)
			return report.ExitEngine
		}
	}
	if o.markdown != "" {
		f, err := os.Create(o.markdown)
		if err == nil {
			err = r.WriteMarkdown(f)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			fmt.Fprintf(io.err, "writing the Markdown report to %s: %v\n", o.markdown, err)
			return report.ExitEngine
		}
	}
	return r.ExitCode()
}

// liftFingerprint copies the plan's fingerprint to the report's top level:
// CI reads it there (jq -r .fingerprint).
func liftFingerprint(r *report.Report) {
	if r.Fingerprint != "" {
		return
	}
	for _, c := range r.Checks {
		if fp := c.Details["fingerprint"]; fp != "" {
			r.Fingerprint = fp
			return
		}
	}
}

func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd())) && os.Getenv("NO_COLOR") == ""
}

// loadStackConfig finds the project and validates Pulumi.<stack>.yaml; a
// problem is reported as bad usage (exit 2) before any cloud call.
// It also returns the project directory.
func loadStackConfig(io stdio, cmd string, o options, stack string) (stackconfig.Config, string, int, bool) {
	dir, err := projectDir(o.projectDir)
	if err != nil {
		return stackconfig.Config{}, "", usageErrorf(io, cmd, "%v", err), false
	}
	cfg, err := stackconfig.Load(dir, stack)
	if err != nil {
		fmt.Fprintf(io.err, "automation %s: %v\n", cmd, err)
		return stackconfig.Config{}, "", report.ExitUsage, false
	}
	return cfg, dir, 0, true
}

// oneStack parses a command's flags and requires exactly one stack name.
func oneStack(io stdio, fs *flag.FlagSet, name string, args []string) (string, int, bool) {
	pos, err := parseArgs(fs, args)
	if err != nil {
		if err == flag.ErrHelp {
			return "", report.ExitOK, false
		}
		return "", report.ExitUsage, false
	}
	if len(pos) != 1 {
		return "", usageErrorf(io, name, "want exactly one stack name, got %d argument(s): %s", len(pos), strings.Join(pos, " ")), false
	}
	if err := checkOutputs(fs); err != nil {
		return "", usageErrorf(io, name, "%v", err), false
	}
	return pos[0], 0, true
}

// oneStackConfig parses a command's flags into o (through fs), requires
// exactly one stack name and loads its configuration: the stack, its
// configuration and the project directory. ok is false when the caller
// should return code.
func oneStackConfig(io stdio, fs *flag.FlagSet, cmd string, o *options, args []string) (string, stackconfig.Config, string, int, bool) {
	stack, code, ok := oneStack(io, fs, cmd, args)
	if !ok {
		return "", stackconfig.Config{}, "", code, false
	}
	cfg, dir, code, ok := loadStackConfig(io, cmd, *o, stack)
	return stack, cfg, dir, code, ok
}

// checkOutputs makes sure the report files can be written before any
// cloud call, so a typo in --markdown never hides a verdict after the work
// is done. It creates the file (empty) without truncating an existing one.
func checkOutputs(fs *flag.FlagSet) error {
	f := fs.Lookup("markdown")
	if f == nil || f.Value.String() == "" {
		return nil
	}
	path := f.Value.String()
	if st, err := os.Stat(filepath.Dir(path)); err != nil || !st.IsDir() {
		return fmt.Errorf("--markdown %s: the folder %s does not exist (create it first)", path, filepath.Dir(path))
	}
	out, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("--markdown %s: cannot be written: %w", path, err)
	}
	return out.Close()
}

// isSet reports whether a flag was given on the command line (a default
// can mean "unset", a given value never does).
func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
