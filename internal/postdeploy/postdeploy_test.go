package postdeploy

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/mirror-dissonance/mirror-infra/emulator"
	"github.com/mirror-dissonance/mirror-infra/oracle/nonce"
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
	// Forced, as deploy --rotate and the rehearsal do: the fresh v1 is not
	// due by age.
	opts := Options{Verify: verify.Options{AlarmPoll: 20 * time.Millisecond, AlertWait: 2 * time.Second}, Rotation: RotationPolicy{Force: true}}
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
	want := append(append([]string{BootstrapID}, verifyIDs()...), "rotation", PruneID, "e2e")
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
	for _, id := range []string{"rotation", PruneID, "e2e"} {
		if c, _ := second.Find(id); c.Status != report.Skip || !strings.Contains(c.Reason, "skipped by request") {
			t.Errorf("%s = %+v, want SKIP by request", id, c)
		}
	}
}

// TestRotationPolicy: a deploy rotates only when the newest version is due
// (or when forced), and a prune deletes only versions past the grace period
// beyond the newest Keep, never a valid one.
func TestRotationPolicy(t *testing.T) {
	e := emulator.Start()
	defer e.Close()
	ctx := context.Background()
	s, err := e.Seed(ctx, emulator.SeedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := e.Config(ctx)
	if err != nil {
		t.Fatal(err)
	}
	store := nonce.New(ssm.NewFromConfig(cfg), s.Env, s.Target().NoncePrefix, s.Target().KMSKey, time.Hour)
	day := 24 * time.Hour
	now := time.Now()

	if c := rotateIfDue(ctx, store, RotationPolicy{}, now.Add(89*day)); c.Status != report.Skip || !strings.Contains(c.Reason, "not due") {
		t.Errorf("an 89-day-old v1: %+v, want SKIP not due", c)
	}
	if c := rotateIfDue(ctx, store, RotationPolicy{}, now.Add(91*day)); c.Status != report.Pass {
		t.Errorf("a 91-day-old v1: %+v, want the rotation check to run and PASS", c)
	}
	for from := 2; from <= 4; from++ { // v3..v5, all created now
		if _, err := store.Rotate(ctx, from); err != nil {
			t.Fatal(err)
		}
	}
	versions := func() []int {
		vs, err := store.Versions(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var out []int
		for _, v := range vs {
			out = append(out, v.N)
		}
		return out
	}
	del := ssm.NewFromConfig(cfg)
	// Within the grace period every superseded version is still valid.
	if c := prune(ctx, store, del, RotationPolicy{Keep: 1}, time.Hour, now.Add(time.Minute)); c.Status != report.Pass || !strings.Contains(c.Reason, "nothing to prune") {
		t.Errorf("prune within grace: %+v", c)
	}
	if got := versions(); len(got) != 5 {
		t.Fatalf("a prune within grace deleted something: %v", got)
	}
	// Two hours later only v5 is valid: keep the newest 3, delete v1 and v2.
	c := prune(ctx, store, del, RotationPolicy{Keep: 3}, time.Hour, now.Add(2*time.Hour))
	if c.Status != report.Pass || !strings.Contains(c.Reason, "pruned v2, v1") {
		t.Errorf("prune past grace: %+v", c)
	}
	if got := versions(); strings.Trim(strings.Join(strings.Fields(fmt.Sprint(got)), ","), "[]") != "3,4,5" {
		t.Errorf("after the prune: %v, want v3, v4, v5", got)
	}
}
