package verify

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/verify/target"
)

// TestingT is what the Assert* and Require* functions need of a test: the
// method set of terratest's testing.TestingT, so *testing.T, *testing.B,
// terratest's own T and any other framework's test value can be passed.
// When the value also has a Helper method (as *testing.T does), failures
// are reported at the caller's line.
type TestingT interface {
	Fail()
	FailNow()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
	Error(args ...any)
	Errorf(format string, args ...any)
	Name() string
}

// helperT is the optional part of TestingT that *testing.T has.
type helperT interface{ Helper() }

// CheckError is a check that did not pass; errors.As finds it in the
// errors of the *E functions.
type CheckError struct {
	Check report.Check
}

func (e *CheckError) Error() string {
	msg := fmt.Sprintf("%s %s: %s", e.Check.ID, e.Check.Status, e.Check.Reason)
	if e.Check.Fix != "" {
		msg += " (fix: " + e.Check.Fix + ")"
	}
	return msg
}

// InfraError is one infrastructure failure (an unreachable endpoint,
// rejected credentials) that stopped several checks; it is reported once,
// with the ids of the checks it stopped. errors.As finds it in the errors
// of the *E functions.
type InfraError struct {
	// Checks are the ids of the checks the failure stopped, in report
	// order.
	Checks []string
	Reason string
	Fix    string
}

func (e *InfraError) Error() string {
	msg := fmt.Sprintf("%s (stopped checks: %s)", e.Reason, strings.Join(e.Checks, ", "))
	if e.Fix != "" {
		msg += " (fix: " + e.Fix + ")"
	}
	return msg
}

// RunCheck runs one check of the catalogue on its own, with opts (its
// Checks are ignored): the one entry point for a single check, e.g.
// RunCheck(ctx, c, tgt, verify.IDPITR, verify.Options{}).
func RunCheck(ctx context.Context, c Clients, tgt target.Env, id string, opts Options) report.Check {
	opts.Checks = []string{id}
	r, err := Run(ctx, c, tgt, opts)
	if err != nil {
		return report.Check{ID: id, Status: report.Fail, Reason: err.Error()}
	}
	return r.Checks[0]
}

// ReportError returns nil when no check of r failed and, unless
// allowWarn, none warned; SKIP always counts as passing (a check with
// nothing to check, such as data on empty tables). Otherwise the error
// lists each check that did not pass: a *CheckError per finding, and one
// *InfraError for an infrastructure failure that stopped several checks.
func ReportError(r *report.Report, allowWarn bool) error {
	var errs []error
	infra := map[string]*InfraError{}
	for _, ch := range r.Checks {
		if ch.Status != report.Fail && (ch.Status != report.Warn || allowWarn) {
			continue
		}
		if by, ok := ch.Details[DetailStoppedBy]; ok && ch.Infra {
			if ie := infra[by]; ie != nil {
				ie.Checks = append(ie.Checks, ch.ID)
				continue
			}
		}
		if _, ok := ch.Details[DetailStopped]; ok && ch.Infra {
			ie := &InfraError{Checks: []string{ch.ID}, Reason: ch.Reason, Fix: ch.Fix}
			infra[ch.ID] = ie
			errs = append(errs, ie)
			continue
		}
		errs = append(errs, &CheckError{Check: ch})
	}
	return errors.Join(errs...)
}

// RequireAllPassE runs the checks of opts (default: the read-only ones)
// and returns the report and an error listing every check that did not
// pass; WARN counts as not passing. t is not failed: it is taken, as
// terratest's *E functions take it, so every function has one shape.
func RequireAllPassE(t TestingT, ctx context.Context, c Clients, tgt target.Env, opts Options) (*report.Report, error) {
	return allPass(ctx, c, tgt, opts, false)
}

// RequireNoFailureE is RequireAllPassE that tolerates WARN.
func RequireNoFailureE(t TestingT, ctx context.Context, c Clients, tgt target.Env, opts Options) (*report.Report, error) {
	return allPass(ctx, c, tgt, opts, true)
}

func allPass(ctx context.Context, c Clients, tgt target.Env, opts Options, allowWarn bool) (*report.Report, error) {
	r, err := Run(ctx, c, tgt, opts)
	if err != nil {
		return nil, err
	}
	return r, ReportError(r, allowWarn)
}

// RequireAllPass fails the test now, naming every check that failed or
// warned with its reason, unless every check of opts (default: the
// read-only ones) passes.
func RequireAllPass(t TestingT, ctx context.Context, c Clients, tgt target.Env, opts Options) *report.Report {
	if h, ok := t.(helperT); ok {
		h.Helper()
	}
	return requirePass(t, ctx, c, tgt, opts, false, "not every check passed")
}

// RequireNoFailure is RequireAllPass that tolerates WARN (e.g. alarms still
// INSUFFICIENT_DATA right after a deploy, or no verification subscriber).
func RequireNoFailure(t TestingT, ctx context.Context, c Clients, tgt target.Env, opts Options) *report.Report {
	if h, ok := t.(helperT); ok {
		h.Helper()
	}
	return requirePass(t, ctx, c, tgt, opts, true, "checks failed")
}

// requirePass is RequireAllPass and RequireNoFailure: allPass, and
// t.Fatalf saying failed and listing the checks when it returns an error.
func requirePass(t TestingT, ctx context.Context, c Clients, tgt target.Env, opts Options, allowWarn bool, failed string) *report.Report {
	if h, ok := t.(helperT); ok {
		h.Helper()
	}
	r, err := allPass(ctx, c, tgt, opts, allowWarn)
	if err != nil {
		t.Fatalf("verify %s: %s:\n%s", tgt.Environment, failed, indent(err.Error()))
	}
	return r
}

func indent(s string) string { return "  " + strings.ReplaceAll(s, "\n", "\n  ") }

// AssertCheckE returns a *CheckError unless check id passes when run alone
// with default options (SKIP does not pass here). t is not failed.
func AssertCheckE(t TestingT, ctx context.Context, c Clients, tgt target.Env, id string) error {
	if _, ok := lookup(id); !ok {
		return unknownCheck(id)
	}
	if ch := RunCheck(ctx, c, tgt, id, Options{}); ch.Status != report.Pass {
		return &CheckError{Check: ch}
	}
	return nil
}

// AssertCheck fails the test (FailNow, as terratest's Assert functions
// do) unless check id passes when run alone with default options.
func AssertCheck(t TestingT, ctx context.Context, c Clients, tgt target.Env, id string) {
	if h, ok := t.(helperT); ok {
		h.Helper()
	}
	if err := AssertCheckE(t, ctx, c, tgt, id); err != nil {
		t.Fatal(err)
	}
}
