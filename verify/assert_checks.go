package verify

import (
	"context"

	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/verify/target"
)

// The per-check functions below run one check alone with default options
// (use RunCheck for others, e.g. AlarmWait or FireAlarm): CheckX returns
// its result, AssertXE a *CheckError unless it passes (t is not failed;
// it is taken so every function has terratest's shape), AssertX fails the
// test unless it passes. Only CheckAlert, AssertAlertE and AssertAlert
// change the environment.

// CheckTables runs the tables check alone.
func CheckTables(ctx context.Context, c Clients, tgt target.Env) report.Check {
	return RunCheck(ctx, c, tgt, IDTables, Options{})
}

// AssertTablesE returns a *CheckError unless the tables check passes.
func AssertTablesE(t TestingT, ctx context.Context, c Clients, tgt target.Env) error {
	return AssertCheckE(t, ctx, c, tgt, IDTables)
}

// AssertTables fails the test unless the tables check passes.
func AssertTables(t TestingT, ctx context.Context, c Clients, tgt target.Env) {
	if h, ok := t.(helperT); ok {
		h.Helper()
	}
	AssertCheck(t, ctx, c, tgt, IDTables)
}

// CheckSSE runs the sse check alone.
func CheckSSE(ctx context.Context, c Clients, tgt target.Env) report.Check {
	return RunCheck(ctx, c, tgt, IDSSE, Options{})
}

// AssertSSEE returns a *CheckError unless the sse check passes.
func AssertSSEE(t TestingT, ctx context.Context, c Clients, tgt target.Env) error {
	return AssertCheckE(t, ctx, c, tgt, IDSSE)
}

// AssertSSE fails the test unless the sse check passes.
func AssertSSE(t TestingT, ctx context.Context, c Clients, tgt target.Env) {
	if h, ok := t.(helperT); ok {
		h.Helper()
	}
	AssertCheck(t, ctx, c, tgt, IDSSE)
}

// CheckTTL runs the ttl check alone.
func CheckTTL(ctx context.Context, c Clients, tgt target.Env) report.Check {
	return RunCheck(ctx, c, tgt, IDTTL, Options{})
}

// AssertTTLE returns a *CheckError unless the ttl check passes.
func AssertTTLE(t TestingT, ctx context.Context, c Clients, tgt target.Env) error {
	return AssertCheckE(t, ctx, c, tgt, IDTTL)
}

// AssertTTL fails the test unless the ttl check passes.
func AssertTTL(t TestingT, ctx context.Context, c Clients, tgt target.Env) {
	if h, ok := t.(helperT); ok {
		h.Helper()
	}
	AssertCheck(t, ctx, c, tgt, IDTTL)
}

// CheckPITR runs the pitr check alone; Details hold each table's restore window.
func CheckPITR(ctx context.Context, c Clients, tgt target.Env) report.Check {
	return RunCheck(ctx, c, tgt, IDPITR, Options{})
}

// AssertPITRE returns a *CheckError unless the pitr check passes.
func AssertPITRE(t TestingT, ctx context.Context, c Clients, tgt target.Env) error {
	return AssertCheckE(t, ctx, c, tgt, IDPITR)
}

// AssertPITR fails the test unless the pitr check passes.
func AssertPITR(t TestingT, ctx context.Context, c Clients, tgt target.Env) {
	if h, ok := t.(helperT); ok {
		h.Helper()
	}
	AssertCheck(t, ctx, c, tgt, IDPITR)
}

// CheckKMS runs the kms check alone.
func CheckKMS(ctx context.Context, c Clients, tgt target.Env) report.Check {
	return RunCheck(ctx, c, tgt, IDKMS, Options{})
}

// AssertKMSE returns a *CheckError unless the kms check passes.
func AssertKMSE(t TestingT, ctx context.Context, c Clients, tgt target.Env) error {
	return AssertCheckE(t, ctx, c, tgt, IDKMS)
}

// AssertKMS fails the test unless the kms check passes.
func AssertKMS(t TestingT, ctx context.Context, c Clients, tgt target.Env) {
	if h, ok := t.(helperT); ok {
		h.Helper()
	}
	AssertCheck(t, ctx, c, tgt, IDKMS)
}

// CheckAlarms runs the alarms check alone (without waiting: set Options.AlarmWait with RunCheck).
func CheckAlarms(ctx context.Context, c Clients, tgt target.Env) report.Check {
	return RunCheck(ctx, c, tgt, IDAlarms, Options{})
}

// AssertAlarmsE returns a *CheckError unless the alarms check passes.
func AssertAlarmsE(t TestingT, ctx context.Context, c Clients, tgt target.Env) error {
	return AssertCheckE(t, ctx, c, tgt, IDAlarms)
}

// AssertAlarms fails the test unless the alarms check passes.
func AssertAlarms(t TestingT, ctx context.Context, c Clients, tgt target.Env) {
	if h, ok := t.(helperT); ok {
		h.Helper()
	}
	AssertCheck(t, ctx, c, tgt, IDAlarms)
}

// CheckSNS runs the sns check alone.
func CheckSNS(ctx context.Context, c Clients, tgt target.Env) report.Check {
	return RunCheck(ctx, c, tgt, IDSNS, Options{})
}

// AssertSNSE returns a *CheckError unless the sns check passes.
func AssertSNSE(t TestingT, ctx context.Context, c Clients, tgt target.Env) error {
	return AssertCheckE(t, ctx, c, tgt, IDSNS)
}

// AssertSNS fails the test unless the sns check passes.
func AssertSNS(t TestingT, ctx context.Context, c Clients, tgt target.Env) {
	if h, ok := t.(helperT); ok {
		h.Helper()
	}
	AssertCheck(t, ctx, c, tgt, IDSNS)
}

// CheckAlert runs the alert check alone: it publishes a test alert to the ops topic (and needs a verification subscriber, target.Env.VerifyQueueURL, to pass).
func CheckAlert(ctx context.Context, c Clients, tgt target.Env) report.Check {
	return RunCheck(ctx, c, tgt, IDAlert, Options{})
}

// AssertAlertE returns a *CheckError unless the alert check passes.
func AssertAlertE(t TestingT, ctx context.Context, c Clients, tgt target.Env) error {
	return AssertCheckE(t, ctx, c, tgt, IDAlert)
}

// AssertAlert fails the test unless the alert check passes.
func AssertAlert(t TestingT, ctx context.Context, c Clients, tgt target.Env) {
	if h, ok := t.(helperT); ok {
		h.Helper()
	}
	AssertCheck(t, ctx, c, tgt, IDAlert)
}

// CheckOIDC runs the oidc check alone.
func CheckOIDC(ctx context.Context, c Clients, tgt target.Env) report.Check {
	return RunCheck(ctx, c, tgt, IDOIDC, Options{})
}

// AssertOIDCE returns a *CheckError unless the oidc check passes.
func AssertOIDCE(t TestingT, ctx context.Context, c Clients, tgt target.Env) error {
	return AssertCheckE(t, ctx, c, tgt, IDOIDC)
}

// AssertOIDC fails the test unless the oidc check passes.
func AssertOIDC(t TestingT, ctx context.Context, c Clients, tgt target.Env) {
	if h, ok := t.(helperT); ok {
		h.Helper()
	}
	AssertCheck(t, ctx, c, tgt, IDOIDC)
}

// CheckNonce runs the nonce check alone.
func CheckNonce(ctx context.Context, c Clients, tgt target.Env) report.Check {
	return RunCheck(ctx, c, tgt, IDNonce, Options{})
}

// AssertNonceE returns a *CheckError unless the nonce check passes.
func AssertNonceE(t TestingT, ctx context.Context, c Clients, tgt target.Env) error {
	return AssertCheckE(t, ctx, c, tgt, IDNonce)
}

// AssertNonce fails the test unless the nonce check passes.
func AssertNonce(t TestingT, ctx context.Context, c Clients, tgt target.Env) {
	if h, ok := t.(helperT); ok {
		h.Helper()
	}
	AssertCheck(t, ctx, c, tgt, IDNonce)
}

// CheckData runs the data check alone (SKIP on empty tables, which AssertData counts as not passing).
func CheckData(ctx context.Context, c Clients, tgt target.Env) report.Check {
	return RunCheck(ctx, c, tgt, IDData, Options{})
}

// AssertDataE returns a *CheckError unless the data check passes.
func AssertDataE(t TestingT, ctx context.Context, c Clients, tgt target.Env) error {
	return AssertCheckE(t, ctx, c, tgt, IDData)
}

// AssertData fails the test unless the data check passes.
func AssertData(t TestingT, ctx context.Context, c Clients, tgt target.Env) {
	if h, ok := t.(helperT); ok {
		h.Helper()
	}
	AssertCheck(t, ctx, c, tgt, IDData)
}

// CheckBaselines runs the baselines check alone.
func CheckBaselines(ctx context.Context, c Clients, tgt target.Env) report.Check {
	return RunCheck(ctx, c, tgt, IDBaselines, Options{})
}

// AssertBaselinesE returns a *CheckError unless the baselines check passes.
func AssertBaselinesE(t TestingT, ctx context.Context, c Clients, tgt target.Env) error {
	return AssertCheckE(t, ctx, c, tgt, IDBaselines)
}

// AssertBaselines fails the test unless the baselines check passes.
func AssertBaselines(t TestingT, ctx context.Context, c Clients, tgt target.Env) {
	if h, ok := t.(helperT); ok {
		h.Helper()
	}
	AssertCheck(t, ctx, c, tgt, IDBaselines)
}
