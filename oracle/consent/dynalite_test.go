package consent_test

import (
	"context"
	"testing"

	"github.com/mirror-dissonance/mirror-infra/emulator"
	"github.com/mirror-dissonance/mirror-infra/oracle/consent"
)

// TestStoreOnDynalite runs the consent store's requests (conditional
// writes with a version, reads, deletes) against dynalite, an independent
// DynamoDB: grant, check, revoke, request and delete behave as on our
// emulator. It skips only when node is missing.
func TestStoreOnDynalite(t *testing.T) {
	t.Parallel()
	env := emulator.NewDynaliteTestEnv(t, emulator.SeedOptions{SkipNonce: true})
	t.Logf("DynamoDB on dynalite at %s", env.Dynalite.URL)
	ctx := context.Background()
	s := consent.NewFromConfig(env.Config, env.Target().ConsentTable)
	if err := s.Grant(ctx, "acme", "fp-events", consent.Grant{By: "alice", PolicyVersion: "v1"}); err != nil {
		t.Fatalf("grant: %v", err)
	}
	if st, err := s.Check(ctx, "acme", "fp-events"); err != nil || !st.Allowed {
		t.Fatalf("check after grant: %+v, %v", st, err)
	}
	if err := s.Request(ctx, "acme", "baselines", "v1"); err != nil {
		t.Fatalf("request: %v", err)
	}
	if err := s.Revoke(ctx, "acme", "fp-events"); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	if st, err := s.Check(ctx, "acme", "fp-events"); err != nil || st.Allowed {
		t.Fatalf("check after revoke: %+v, %v", st, err)
	}
	res, _, err := s.Resources(ctx, "acme")
	if err != nil || len(res) != 2 {
		t.Fatalf("resources: %v, %v; want fp-events and baselines", res, err)
	}
	if err := s.Delete(ctx, "acme"); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if res, _, err := s.Resources(ctx, "acme"); err != nil || len(res) != 0 {
		t.Fatalf("resources after delete: %v, %v", res, err)
	}
}
