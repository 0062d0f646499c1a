package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/mirror-dissonance/mirror-infra/internal/driver"
	"github.com/mirror-dissonance/mirror-infra/report"
)

// emit prints the reports of a run, one stack's or several: human text on
// stdout (stderr with --json), JSON on stdout with --json, Markdown to
// --markdown FILE. Several reports get a combined summary (one check per
// stack) after them, and their JSON is a combinedReport. It fails only
// when an output cannot be written.
func emit(io stdio, env environ, o outputFlags, reports []*report.Report) error {
	for _, r := range reports {
		liftFingerprint(r)
	}
	human := io.out
	if o.json {
		human = io.err
	}
	opts := o.textOptions(human, env)
	var js any = reports[0]
	var md bytes.Buffer
	if len(reports) == 1 {
		_ = reports[0].WriteTextWith(human, opts)
		_ = reports[0].WriteMarkdown(&md)
	} else {
		sum, combined := combine(reports)
		for _, r := range reports {
			_ = r.WriteTextWith(human, opts)
			fmt.Fprintln(human)
		}
		_ = sum.WriteTextWith(human, opts)
		fmt.Fprintf(human, "exit %d (the worst of %d stacks)\n", combined.ExitCode, len(reports))
		js = combined
		fmt.Fprintf(&md, "## %s: %d stacks, exit %d\n\n", sum.Command, len(reports), combined.ExitCode)
		_ = sum.WriteMarkdown(&md)
		for _, r := range reports {
			md.WriteString("\n")
			_ = r.WriteMarkdown(&md)
		}
	}
	if o.json {
		enc := json.NewEncoder(io.out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(js); err != nil {
			return engineErrorf("writing the JSON report: %v", err)
		}
	}
	if o.markdown != "" {
		if err := os.WriteFile(o.markdown, md.Bytes(), 0o644); err != nil {
			return engineErrorf("writing the Markdown report to %s: %v", o.markdown, err)
		}
	}
	return nil
}

// combinedReport is the JSON of a multi-stack run: a top-level checks
// array (one check per stack, as every report has) and each stack's full
// report under reports.
type combinedReport struct {
	Command  string           `json:"command"`
	Stacks   []string         `json:"stacks"`
	ExitCode int              `json:"exitCode"`
	Checks   []report.Check   `json:"checks"`
	Reports  []*report.Report `json:"reports"`
	Started  time.Time        `json:"started"`
	Elapsed  string           `json:"elapsed"`
}

// combine sums several stacks' reports up: a report with one check per
// stack, and the combined JSON.
func combine(reports []*report.Report) (*report.Report, combinedReport) {
	started := reports[0].Started
	for _, r := range reports {
		if !r.Started.IsZero() && r.Started.Before(started) {
			started = r.Started
		}
	}
	names := make([]string, len(reports))
	sum := &report.Report{Command: reports[0].Command, Started: started, Elapsed: time.Since(started).Round(time.Millisecond).String()}
	for i, r := range reports {
		names[i] = r.Stack
		sum.Add(stackCheck(r))
	}
	sum.Stack = strings.Join(names, ", ")
	return sum, combinedReport{Command: sum.Command, Stacks: names, ExitCode: driver.WorstExit(reports), Checks: sum.Checks,
		Reports: reports, Started: started, Elapsed: sum.Elapsed}
}

// stackCheck sums one stack's report up as one check of the combined report.
func stackCheck(r *report.Report) report.Check {
	code := r.ExitCode()
	c := report.Check{ID: r.Stack, Reason: fmt.Sprintf("exit %d: %s", code, r.Summary()), Details: map[string]string{}}
	if r.Fingerprint != "" {
		c.Details["fingerprint"] = r.Fingerprint
	}
	a, hasApproval := r.Find("approval")
	switch {
	case code != report.ExitOK:
		c.Status, c.Infra = report.Fail, code == report.ExitEngine
		for _, x := range r.Checks {
			if x.Status == report.Fail {
				c.Reason += "; " + x.ID + ": " + x.Reason
				c.Fix = x.Fix
				break
			}
		}
	case hasApproval && a.Status == report.Skip:
		c.Status, c.Reason, c.Fix = report.Skip, c.Reason+"; "+a.Reason, a.Fix
		if c.Fix != "" && r.Fingerprint != "" {
			c.Fix = fmt.Sprintf("after review: --approve %s=%s", r.Stack, r.Fingerprint)
		}
	case r.Counts()[report.Warn] > 0:
		c.Status = report.Warn
	default:
		c.Status = report.Pass
	}
	return c
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

// textOptions is the layout of the human text: compact, wrapped and
// coloured on a terminal (never coloured with NO_COLOR), every detail
// elsewhere; --quiet and --verbose override the detection.
func (o outputFlags) textOptions(w io.Writer, env environ) report.TextOptions {
	f, _ := w.(*os.File)
	opts := report.TextOptionsFor(f, env.get)
	switch {
	case o.quiet:
		opts.Quiet = true
	case o.verbose:
		opts.Quiet = false
	}
	return opts
}

// progressTo is where a command shows its waits and the engine's events:
// on the process's stderr a report.Progress (a redrawn status line on a
// terminal, a line a wait elsewhere); tests' buffers take the events as
// they are.
func progressTo(w io.Writer) io.Writer {
	if f, ok := w.(*os.File); ok {
		return report.ProgressFor(f, false)
	}
	return w
}
