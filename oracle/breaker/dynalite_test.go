package breaker_test

import (
	"context"
	"testing"
	"time"

	"github.com/mirror-dissonance/mirror-infra/emulator"
	"github.com/mirror-dissonance/mirror-infra/oracle/breaker"
)

// TestCounterOnDynalite runs the block counter's requests (an atomic ADD
// with the TTL attribute, a consistent read, a delete) against dynalite,
// an independent DynamoDB. It skips only when node is missing.
func TestCounterOnDynalite(t *testing.T) {
	t.Parallel()
	env := emulator.NewDynaliteTestEnv(t, emulator.SeedOptions{SkipNonce: true})
	t.Logf("DynamoDB on dynalite at %s", env.Dynalite.URL)
	ctx := context.Background()
	c := breaker.NewCounterFromConfig(env.Config, env.Target().BlockCounterTable)
	for want := int64(1); want <= 3; want++ {
		got, err := c.Increment(ctx, "R1", "acme")
		if err != nil || got != want {
			t.Fatalf("increment %d: %d, %v", want, got, err)
		}
	}
	if n, err := c.Count(ctx, "R1", "acme"); err != nil || n != 3 {
		t.Fatalf("count: %d, %v; want 3", n, err)
	}
	if n, err := c.Count(ctx, "R2", "acme"); err != nil || n != 0 {
		t.Fatalf("count of another rule: %d, %v; want 0", n, err)
	}
	if err := c.Delete(ctx, "R1", "acme", time.Now()); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if n, err := c.Count(ctx, "R1", "acme"); err != nil || n != 0 {
		t.Fatalf("count after delete: %d, %v; want 0", n, err)
	}
}
