// Package report is the one result format of every command: a list of checks
// with PASS/FAIL/WARN/SKIP, rendered as aligned text, JSON or Markdown, and
// mapped onto the exit codes of SPEC 3.1.
package report

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// Status of one check.
type Status string

const (
	Pass Status = "PASS"
	Fail Status = "FAIL"
	Warn Status = "WARN"
	Skip Status = "SKIP"
)

// Exit codes of SPEC 3.1.
const (
	ExitOK     = 0 // everything passed
	ExitFailed = 1 // a gate or check failed
	ExitUsage  = 2 // bad usage or configuration, before any cloud call
	ExitEngine = 3 // the engine or the cloud failed
)

// Check is the result of one check or step.
type Check struct {
	ID       string            `json:"id"`
	Status   Status            `json:"status"`
	Reason   string            `json:"reason"`
	Fix      string            `json:"fix,omitempty"`
	Details  map[string]string `json:"details,omitempty"`
	Duration time.Duration     `json:"durationNs,omitempty"`
	// Infra marks a FAIL caused by the engine or cloud being unreachable
	// rather than by a wrong resource; it turns exit 1 into exit 3.
	Infra bool `json:"infraError,omitempty"`
}

// Report is what a command prints at the end.
type Report struct {
	Command string `json:"command"`
	Stack   string `json:"stack,omitempty"`
	// Fingerprint is the saved plan's fingerprint, on preview and deploy
	// reports, so CI can read it with `jq -r .fingerprint`.
	Fingerprint string    `json:"fingerprint,omitempty"`
	Checks      []Check   `json:"checks"`
	Resources   []any     `json:"resources,omitempty"`
	Started     time.Time `json:"started"`
	Elapsed     string    `json:"elapsed,omitempty"`
}

// Add appends checks.
func (r *Report) Add(c ...Check) { r.Checks = append(r.Checks, c...) }

// Counts returns how many checks have each status.
func (r *Report) Counts() map[Status]int {
	m := map[Status]int{}
	for _, c := range r.Checks {
		m[c.Status]++
	}
	return m
}

// Passed is true when no check failed.
func (r *Report) Passed() bool { return r.Counts()[Fail] == 0 }

// ExitCode maps the report onto SPEC 3.1: 3 when a failure was an
// infrastructure error, 1 for any other failure, 0 otherwise.
func (r *Report) ExitCode() int {
	code := ExitOK
	for _, c := range r.Checks {
		if c.Status != Fail {
			continue
		}
		if c.Infra {
			return ExitEngine
		}
		code = ExitFailed
	}
	return code
}

// Find returns the first check with id, and whether there was one.
func (r *Report) Find(id string) (Check, bool) {
	for _, c := range r.Checks {
		if c.ID == id {
			return c, true
		}
	}
	return Check{}, false
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	r = r.redacted()
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// Summary is a one-line tally such as "5 passed, 1 failed, 0 warned, 0 skipped".
func (r *Report) Summary() string {
	c := r.Counts()
	return fmt.Sprintf("%d passed, %d failed, %d warned, %d skipped", c[Pass], c[Fail], c[Warn], c[Skip])
}

const (
	ansiReset  = "\x1b[0m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiGrey   = "\x1b[90m"
)

func colour(s Status) string {
	switch s {
	case Pass:
		return ansiGreen
	case Fail:
		return ansiRed
	case Warn:
		return ansiYellow
	default:
		return ansiGrey
	}
}

// WriteText writes an aligned human report; colour adds ANSI colours (use it
// only when w is a terminal).
func (r *Report) WriteText(w io.Writer, useColour bool) error {
	r = r.redacted()
	width := 2
	for _, c := range r.Checks {
		width = max(width, len(c.ID))
	}
	var b strings.Builder
	title := r.Command
	if r.Stack != "" {
		title += " " + r.Stack
	}
	fmt.Fprintf(&b, "%s\n", title)
	for _, c := range r.Checks {
		st := string(c.Status)
		if useColour {
			st = colour(c.Status) + st + ansiReset
		}
		fmt.Fprintf(&b, "  %-*s  %s  %s\n", width, c.ID, st, oneLine(c.Reason))
		if c.Fix != "" && c.Status != Pass {
			fmt.Fprintf(&b, "  %-*s        fix: %s\n", width, "", oneLine(c.Fix))
		}
		for _, k := range sortedKeys(c.Details) {
			fmt.Fprintf(&b, "  %-*s        %s: %s\n", width, "", k, c.Details[k])
		}
	}
	fmt.Fprintf(&b, "%s\n", r.Summary())
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteMarkdown writes the report as a Markdown table for PR comments and CI
// job summaries.
func (r *Report) WriteMarkdown(w io.Writer) error {
	r = r.redacted()
	var b strings.Builder
	title := r.Command
	if r.Stack != "" {
		title += " `" + r.Stack + "`"
	}
	fmt.Fprintf(&b, "### %s\n\n", title)
	fmt.Fprintf(&b, "%s\n\n", r.Summary())
	b.WriteString("| check | status | reason | fix |\n|---|---|---|---|\n")
	for _, c := range r.Checks {
		fmt.Fprintf(&b, "| `%s` | %s %s | %s | %s |\n", c.ID, emoji(c.Status), c.Status, mdCell(c.Reason), mdCell(c.Fix))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func emoji(s Status) string {
	switch s {
	case Pass:
		return "✅"
	case Fail:
		return "❌"
	case Warn:
		return "⚠️"
	default:
		return "⏭️"
	}
}

func oneLine(s string) string { return strings.ReplaceAll(strings.TrimSpace(s), "\n", " ") }

func mdCell(s string) string { return strings.ReplaceAll(oneLine(s), "|", "\\|") }

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
