package verify

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/verify/target"
)

// CheckError is a check that did not pass; errors.As finds it in the
// errors of the Assert*E functions.
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

// RunCheck runs one check of the catalogue on its own, with opts.
func RunCheck(ctx context.Context, c Clients, t target.Env, id string, opts Options) report.Check {
	opts.Checks = []string{id}
	r, err := Run(ctx, c, t, opts)
	if err != nil {
		return report.Check{ID: id, Status: report.Fail, Reason: err.Error()}
	}
	return r.Checks[0]
}

// AllPassE runs the checks of opts and returns an error listing every check
// that did not pass; WARN counts as not passing unless allowWarn.
func AllPassE(ctx context.Context, c Clients, t target.Env, opts Options, allowWarn bool) (*report.Report, error) {
	r, err := Run(ctx, c, t, opts)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, ch := range r.Checks {
		if ch.Status == report.Fail || (ch.Status == report.Warn && !allowWarn) {
			errs = append(errs, &CheckError{Check: ch})
		}
	}
	return r, errors.Join(errs...)
}

// RequireAllPass fails the test, naming every check that failed or warned
// with its reason, unless the whole catalogue passes.
func RequireAllPass(t testing.TB, ctx context.Context, c Clients, tgt target.Env, opts Options) *report.Report {
	t.Helper()
	return require(t, ctx, c, tgt, opts, false, "not every check passed")
}

// RequireNoFailure is RequireAllPass that tolerates WARN (e.g. alarms still
// INSUFFICIENT_DATA right after a deploy, or no verification subscriber).
func RequireNoFailure(t testing.TB, ctx context.Context, c Clients, tgt target.Env, opts Options) *report.Report {
	t.Helper()
	return require(t, ctx, c, tgt, opts, true, "checks failed")
}

func require(t testing.TB, ctx context.Context, c Clients, tgt target.Env, opts Options, allowWarn bool, what string) *report.Report {
	t.Helper()
	r, err := AllPassE(ctx, c, tgt, opts, allowWarn)
	if err != nil {
		t.Fatalf("verify %s: %s:\n%s", tgt.Environment, what, indent(err.Error()))
	}
	return r
}

func indent(s string) string { return "  " + strings.ReplaceAll(s, "\n", "\n  ") }

// AssertCheckE returns a *CheckError unless check id passes when run alone
// with default options. The per-check Assert*E functions are this for
// their id.
func AssertCheckE(ctx context.Context, c Clients, t target.Env, id string) error {
	if ch := RunCheck(ctx, c, t, id, Options{}); ch.Status != report.Pass {
		return &CheckError{Check: ch}
	}
	return nil
}

// AssertCheck fails the test unless check id passes when run alone with
// default options.
func AssertCheck(tb testing.TB, ctx context.Context, c Clients, t target.Env, id string) {
	tb.Helper()
	if err := AssertCheckE(ctx, c, t, id); err != nil {
		tb.Fatal(err)
	}
}

// The per-check functions below run one check alone with default options
// (use RunCheck for others, e.g. AlarmWait or FireAlarm): CheckX returns
// its result, AssertXE a *CheckError unless it passes, AssertX fails the
// test unless it passes.

// CheckTables runs the tables check alone.
func CheckTables(ctx context.Context, c Clients, t target.Env) report.Check {
	return RunCheck(ctx, c, t, IDTables, Options{})
}

// AssertTablesE returns a *CheckError unless the tables check passes.
func AssertTablesE(ctx context.Context, c Clients, t target.Env) error {
	return AssertCheckE(ctx, c, t, IDTables)
}

// AssertTables fails the test unless the tables check passes.
func AssertTables(tb testing.TB, ctx context.Context, c Clients, t target.Env) {
	tb.Helper()
	AssertCheck(tb, ctx, c, t, IDTables)
}

// CheckSSE runs the sse check alone.
func CheckSSE(ctx context.Context, c Clients, t target.Env) report.Check {
	return RunCheck(ctx, c, t, IDSSE, Options{})
}

// AssertSSEE returns a *CheckError unless the sse check passes.
func AssertSSEE(ctx context.Context, c Clients, t target.Env) error {
	return AssertCheckE(ctx, c, t, IDSSE)
}

// AssertSSE fails the test unless the sse check passes.
func AssertSSE(tb testing.TB, ctx context.Context, c Clients, t target.Env) {
	tb.Helper()
	AssertCheck(tb, ctx, c, t, IDSSE)
}

// CheckTTL runs the ttl check alone.
func CheckTTL(ctx context.Context, c Clients, t target.Env) report.Check {
	return RunCheck(ctx, c, t, IDTTL, Options{})
}

// AssertTTLE returns a *CheckError unless the ttl check passes.
func AssertTTLE(ctx context.Context, c Clients, t target.Env) error {
	return AssertCheckE(ctx, c, t, IDTTL)
}

// AssertTTL fails the test unless the ttl check passes.
func AssertTTL(tb testing.TB, ctx context.Context, c Clients, t target.Env) {
	tb.Helper()
	AssertCheck(tb, ctx, c, t, IDTTL)
}

// CheckPITR runs the pitr check alone; Details hold each table's
// restore window.
func CheckPITR(ctx context.Context, c Clients, t target.Env) report.Check {
	return RunCheck(ctx, c, t, IDPITR, Options{})
}

// AssertPITRE returns a *CheckError unless the pitr check passes.
func AssertPITRE(ctx context.Context, c Clients, t target.Env) error {
	return AssertCheckE(ctx, c, t, IDPITR)
}

// AssertPITR fails the test unless the pitr check passes.
func AssertPITR(tb testing.TB, ctx context.Context, c Clients, t target.Env) {
	tb.Helper()
	AssertCheck(tb, ctx, c, t, IDPITR)
}

// CheckKMS runs the kms check alone.
func CheckKMS(ctx context.Context, c Clients, t target.Env) report.Check {
	return RunCheck(ctx, c, t, IDKMS, Options{})
}

// AssertKMSE returns a *CheckError unless the kms check passes.
func AssertKMSE(ctx context.Context, c Clients, t target.Env) error {
	return AssertCheckE(ctx, c, t, IDKMS)
}

// AssertKMS fails the test unless the kms check passes.
func AssertKMS(tb testing.TB, ctx context.Context, c Clients, t target.Env) {
	tb.Helper()
	AssertCheck(tb, ctx, c, t, IDKMS)
}

// CheckAlarms runs the alarms check alone (without waiting: set
// Options.AlarmWait with RunCheck).
func CheckAlarms(ctx context.Context, c Clients, t target.Env) report.Check {
	return RunCheck(ctx, c, t, IDAlarms, Options{})
}

// AssertAlarmsE returns a *CheckError unless the alarms check passes.
func AssertAlarmsE(ctx context.Context, c Clients, t target.Env) error {
	return AssertCheckE(ctx, c, t, IDAlarms)
}

// AssertAlarms fails the test unless the alarms check passes.
func AssertAlarms(tb testing.TB, ctx context.Context, c Clients, t target.Env) {
	tb.Helper()
	AssertCheck(tb, ctx, c, t, IDAlarms)
}

// CheckSNS runs the sns check alone.
func CheckSNS(ctx context.Context, c Clients, t target.Env) report.Check {
	return RunCheck(ctx, c, t, IDSNS, Options{})
}

// AssertSNSE returns a *CheckError unless the sns check passes.
func AssertSNSE(ctx context.Context, c Clients, t target.Env) error {
	return AssertCheckE(ctx, c, t, IDSNS)
}

// AssertSNS fails the test unless the sns check passes.
func AssertSNS(tb testing.TB, ctx context.Context, c Clients, t target.Env) {
	tb.Helper()
	AssertCheck(tb, ctx, c, t, IDSNS)
}

// CheckAlert runs the alert check alone: it publishes a test alert.
func CheckAlert(ctx context.Context, c Clients, t target.Env) report.Check {
	return RunCheck(ctx, c, t, IDAlert, Options{})
}

// AssertAlertE returns a *CheckError unless the alert check passes (which
// needs a verification subscriber, t.VerifyQueueURL).
func AssertAlertE(ctx context.Context, c Clients, t target.Env) error {
	return AssertCheckE(ctx, c, t, IDAlert)
}

// AssertAlert fails the test unless the alert check passes.
func AssertAlert(tb testing.TB, ctx context.Context, c Clients, t target.Env) {
	tb.Helper()
	AssertCheck(tb, ctx, c, t, IDAlert)
}

// CheckOIDC runs the oidc check alone.
func CheckOIDC(ctx context.Context, c Clients, t target.Env) report.Check {
	return RunCheck(ctx, c, t, IDOIDC, Options{})
}

// AssertOIDCE returns a *CheckError unless the oidc check passes.
func AssertOIDCE(ctx context.Context, c Clients, t target.Env) error {
	return AssertCheckE(ctx, c, t, IDOIDC)
}

// AssertOIDC fails the test unless the oidc check passes.
func AssertOIDC(tb testing.TB, ctx context.Context, c Clients, t target.Env) {
	tb.Helper()
	AssertCheck(tb, ctx, c, t, IDOIDC)
}

// CheckNonce runs the nonce check alone.
func CheckNonce(ctx context.Context, c Clients, t target.Env) report.Check {
	return RunCheck(ctx, c, t, IDNonce, Options{})
}

// AssertNonceE returns a *CheckError unless the nonce check passes.
func AssertNonceE(ctx context.Context, c Clients, t target.Env) error {
	return AssertCheckE(ctx, c, t, IDNonce)
}

// AssertNonce fails the test unless the nonce check passes.
func AssertNonce(tb testing.TB, ctx context.Context, c Clients, t target.Env) {
	tb.Helper()
	AssertCheck(tb, ctx, c, t, IDNonce)
}
