package consumer

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/mirror-dissonance/mirror-infra/emulator"
	"github.com/mirror-dissonance/mirror-infra/oracle/fpevents"
	"github.com/mirror-dissonance/mirror-infra/verify"
	"github.com/mirror-dissonance/mirror-infra/verify/e2e"
	"github.com/mirror-dissonance/mirror-infra/verify/target"
)

// TestEnvironmentIsSound: the read-only catalogue passes against a seeded
// environment (WARN tolerated: an empty data sample is SKIP).
func TestEnvironmentIsSound(t *testing.T) {
	t.Parallel()
	env := emulator.NewTestEnv(t, emulator.SeedOptions{})
	verify.RequireNoFailure(t, context.Background(), verify.NewClients(env.Config), env.Target(), verify.Options{})
	verify.AssertCheck(t, context.Background(), verify.NewClients(env.Config), env.Target(), verify.IDKMS)
}

// TestNamedEnvironment seeds the fixed name "staging": the harness tears
// it down with the test, so -count=2 passes.
func TestNamedEnvironment(t *testing.T) {
	env := emulator.NewTestEnv(t, emulator.SeedOptions{Env: "staging"})
	if got := env.Target().FPEventsTable; got != "mirror-dissonance-staging-fp-events" {
		t.Fatalf("fp-events table %s", got)
	}
	verify.AssertCheck(t, context.Background(), verify.NewClients(env.Config), env.Target(), verify.IDTables)
}

// TestRecordAndReadBack: an FP event written through the adapter layer is
// read back by finding.
func TestRecordAndReadBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := emulator.NewTestEnv(t, emulator.SeedOptions{})
	store := fpevents.NewFromConfig(env.Config, env.Target().FPEventsTable)
	ev, err := store.Record(ctx, fpevents.Event{
		RuleID: "R1", RuleVersion: "1", FindingID: "F1", Outcome: fpevents.OutcomeBlock,
		Context: fpevents.Context{Repo: "acme/api", Branch: "main", EventType: fpevents.EventPullRequest},
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := store.ByFinding(ctx, "F1")
	if err != nil || len(got) != 1 || got[0].EventID != ev.EventID {
		t.Fatalf("read back %+v, %v; want event %s", got, err, ev.EventID)
	}
}

// TestE2ECycle: the whole cycle against the environment, bounded.
func TestE2ECycle(t *testing.T) {
	t.Parallel()
	env := emulator.NewTestEnv(t, emulator.SeedOptions{})
	e2e.RequireAllPass(t, context.Background(), e2e.NewClients(env.Config), env.Target(), e2e.Options{Timeout: 30 * time.Second, TempDir: t.TempDir()})
}

// TestLiveEnvironment runs against a real account when MD_LIVE_ENV names
// the environment (CI assumes the Oracle role first; see
// docs/verify-library.md).
func TestLiveEnvironment(t *testing.T) {
	envName := os.Getenv("MD_LIVE_ENV")
	if envName == "" {
		t.Skip("MD_LIVE_ENV not set: no live environment to verify")
	}
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tgt, err := target.FromEnv(ctx, envName, nil)
	if err != nil {
		t.Fatal(err)
	}
	verify.RequireNoFailure(t, ctx, verify.NewClients(cfg), tgt, verify.Options{})
}
