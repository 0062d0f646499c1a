package e2e

import (
	"context"
	"strings"

	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/verify/target"
)

// TestingT is what RequireAllPass and AssertAllPass need of a test: the
// method set of verify.TestingT (terratest's testing.TestingT), so the same
// *testing.T or framework value serves both packages. When the value also
// has a Helper method, failures are reported at the caller's line.
type TestingT interface {
	Fail()
	FailNow()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
	Error(args ...any)
	Errorf(format string, args ...any)
	Name() string
}

// RequireAllPass runs the cycle and fails the test now (Fatalf), naming
// every step that did not pass with its reason, unless the cycle passed.
func RequireAllPass(t TestingT, ctx context.Context, c Clients, tgt target.Env, opts Options) *report.Report {
	if h, ok := t.(interface{ Helper() }); ok {
		h.Helper()
	}
	r := Run(ctx, c, tgt, opts)
	if msg := notPassed(r); msg != "" {
		t.Fatalf("e2e %s: %s", tgt.Environment, msg)
	}
	return r
}

// AssertAllPass is RequireAllPass that marks the test failed (Errorf) and
// lets it go on.
func AssertAllPass(t TestingT, ctx context.Context, c Clients, tgt target.Env, opts Options) *report.Report {
	if h, ok := t.(interface{ Helper() }); ok {
		h.Helper()
	}
	r := Run(ctx, c, tgt, opts)
	if msg := notPassed(r); msg != "" {
		t.Errorf("e2e %s: %s", tgt.Environment, msg)
	}
	return r
}

// notPassed lists the failed checks of r ("" when the summary passed).
func notPassed(r *report.Report) string {
	if len(r.Checks) > 0 && r.Checks[0].Status == report.Pass {
		return ""
	}
	var lines []string
	for _, c := range r.Checks {
		if c.Status == report.Fail {
			line := c.ID + " FAIL: " + c.Reason
			if c.Fix != "" {
				line += " (fix: " + c.Fix + ")"
			}
			lines = append(lines, line)
		}
	}
	return "the cycle did not pass:\n  " + strings.Join(lines, "\n  ")
}
