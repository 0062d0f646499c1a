package e2e_test

import (
	"context"
	"fmt"
	"time"

	"github.com/mirror-dissonance/mirror-infra/emulator"
	"github.com/mirror-dissonance/mirror-infra/verify/e2e"
)

// The cycle against a seeded environment, bounded by Options.Timeout (a
// real one works the same way with clients from config.LoadDefaultConfig
// and a role allowed to write the tables and the bucket).
func ExampleRun() {
	ctx := context.Background()
	e := emulator.Start()
	defer e.Close()
	s, err := e.Seed(ctx, emulator.SeedOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = emulator.Teardown(ctx, s) }()
	checks := e2e.Run(ctx, e2e.NewClients(s.Config), s.Target(), e2e.Options{Timeout: 30 * time.Second}).Checks
	for _, c := range checks {
		fmt.Println(c.ID, c.Status)
	}
	// Output:
	// e2e PASS
	// e2e.nonce PASS
	// e2e.consent PASS
	// e2e.pull-request PASS
	// e2e.read-by-rule PASS
	// e2e.read-by-finding PASS
	// e2e.mark-false-positive PASS
	// e2e.drift PASS
	// e2e.cleanup PASS
}
