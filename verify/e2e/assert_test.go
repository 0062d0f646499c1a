package e2e_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mirror-dissonance/mirror-infra/emulator"
	"github.com/mirror-dissonance/mirror-infra/oracle/nonce"
	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/verify"
	"github.com/mirror-dissonance/mirror-infra/verify/e2e"
)

// recordT records what RequireAllPass and AssertAllPass do to a test.
type recordT struct {
	fatal, errored bool
	msg            string
}

func (r *recordT) Fail()                     { r.errored = true }
func (r *recordT) FailNow()                  { r.fatal = true }
func (r *recordT) Fatal(a ...any)            { r.fatal, r.msg = true, fmt.Sprint(a...) }
func (r *recordT) Fatalf(f string, a ...any) { r.fatal, r.msg = true, fmt.Sprintf(f, a...) }
func (r *recordT) Error(a ...any)            { r.errored, r.msg = true, fmt.Sprint(a...) }
func (r *recordT) Errorf(f string, a ...any) { r.errored, r.msg = true, fmt.Sprintf(f, a...) }
func (r *recordT) Name() string              { return "record" }

// TestRequireAndAssertAllPass: a cycle without a nonce fails closed; the
// helpers say which step failed, Require stops the test, Assert does not;
// a verify.TestingT serves both packages.
func TestRequireAndAssertAllPass(t *testing.T) {
	env := emulator.NewTestEnv(t, emulator.SeedOptions{SkipNonce: true})
	ctx := context.Background()
	opts := e2e.Options{TempDir: t.TempDir(), Timeout: 30 * time.Second}
	var vt verify.TestingT = &recordT{}
	req := vt.(*recordT)
	r := e2e.RequireAllPass(req, ctx, e2e.NewClients(env.Config), env.Target(), opts)
	if !req.fatal || !strings.Contains(req.msg, "e2e.nonce FAIL") {
		t.Errorf("RequireAllPass: fatal %v, message %q; want a fatal failure naming e2e.nonce", req.fatal, req.msg)
	}
	if r.Command != "e2e" || r.ExitCode() != report.ExitFailed && r.ExitCode() != report.ExitEngine {
		t.Errorf("report %s, exit %d; want the e2e report of a failed cycle", r.Command, r.ExitCode())
	}
	as := &recordT{}
	e2e.AssertAllPass(as, ctx, e2e.NewClients(env.Config), env.Target(), opts)
	if as.fatal || !as.errored {
		t.Errorf("AssertAllPass: fatal %v, errored %v; want errored only", as.fatal, as.errored)
	}
	ok := &recordT{}
	if _, _, err := nonce.New(env.SSM(), env.Env, env.Target().NoncePrefix, env.Target().KMSKey, time.Hour).Bootstrap(ctx); err != nil {
		t.Fatal(err)
	}
	if r := e2e.RequireAllPass(ok, ctx, e2e.NewClients(env.Config), env.Target(), opts); ok.fatal || ok.errored || r.Checks[0].Status != report.Pass {
		t.Errorf("a passing cycle: %q, summary %s", ok.msg, r.Checks[0].Status)
	}
}
