// Package report is the one result format of every command: a list of checks
// with PASS/FAIL/WARN/SKIP, rendered as aligned text, JSON or Markdown, and
// mapped onto the exit codes of SPEC 3.1.
package report

import (
	"encoding/json"
	"fmt"
	"io"
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

// MarshalJSON encodes the redacted report, so a report embedded in another
// JSON document (the combined report of several stacks) masks its secrets
// as WriteJSON does.
func (r *Report) MarshalJSON() ([]byte, error) {
	type plain Report // without this method
	return json.Marshal((*plain)(r.redacted()))
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// Summary is a one-line tally such as "5 passed, 1 failed, 0 warned, 0 skipped".
func (r *Report) Summary() string {
	c := r.Counts()
	return fmt.Sprintf("%d passed, %d failed, %d warned, %d skipped", c[Pass], c[Fail], c[Warn], c[Skip])
}
