package postdeploy

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mirror-dissonance/mirror-infra/emulator"
	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/verify"
)

func TestRunBootstrapsVerifiesRotatesAndCycles(t *testing.T) {
	e := emulator.Start()
	defer e.Close()
	ctx := context.Background()
	s, err := e.Seed(ctx, emulator.SeedOptions{Defects: []emulator.Defect{emulator.DefectNonceMissing}, VerifyQueue: true})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := e.Config(ctx)
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{Verify: verify.Options{AlarmPoll: 20 * time.Millisecond, AlertWait: 2 * time.Second}}
	first := &report.Report{Checks: Run(ctx, cfg, s.Target(), opts)}
	order := []string{}
	for _, c := range first.Checks {
		// The verifier runs before the E2E cycle writes anything, so the
		// data check finds empty tables.
		if want := map[bool]report.Status{true: report.Skip, false: report.Pass}[c.ID == verify.IDData]; c.Status != want {
			t.Errorf("%s = %s, want %s: %s", c.ID, c.Status, want, c.Reason)
		}
		if !strings.HasPrefix(c.ID, "e2e.") {
			order = append(order, c.ID)
		}
	}
	want := append(append([]string{BootstrapID}, verify.IDs...), "rotation", "e2e")
	if strings.Join(order, ",") != strings.Join(want, ",") {
		t.Errorf("steps %v, want %v", order, want)
	}
	if b, _ := first.Find(BootstrapID); !strings.Contains(b.Reason, "created "+s.Target().NoncePrefix+"1") {
		t.Errorf("first bootstrap: %s", b.Reason)
	}

	// A second run creates nothing and can leave rotation and E2E out.
	second := &report.Report{Checks: Run(ctx, cfg, s.Target(), Options{Verify: opts.Verify, SkipRotation: true, SkipE2E: true})}
	if b, _ := second.Find(BootstrapID); b.Status != report.Pass || !strings.Contains(b.Reason, "nothing created") {
		t.Errorf("second bootstrap: %+v", b)
	}
	for _, id := range []string{"rotation", "e2e"} {
		if c, _ := second.Find(id); c.Status != report.Skip || !strings.Contains(c.Reason, "skipped by request") {
			t.Errorf("%s = %+v, want SKIP by request", id, c)
		}
	}
}
