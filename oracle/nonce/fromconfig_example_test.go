package nonce_test

import (
	"context"
	"fmt"
	"time"

	"github.com/mirror-dissonance/mirror-infra/emulator"
	"github.com/mirror-dissonance/mirror-infra/oracle/breaker"
	"github.com/mirror-dissonance/mirror-infra/oracle/consent"
	"github.com/mirror-dissonance/mirror-infra/oracle/drift"
	"github.com/mirror-dissonance/mirror-infra/oracle/nonce"
)

// Every package of the Oracle layer is built the same way: from an
// aws.Config and the names of the target.
func ExampleNewFromConfig() {
	ctx := context.Background()
	e := emulator.Start()
	defer e.Close()
	s, err := e.Seed(ctx, emulator.SeedOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	tgt := s.Target()
	nonces := nonce.NewFromConfig(s.Config, tgt.Environment, tgt.NoncePrefix, tgt.KMSKey, time.Hour)
	consents := consent.NewFromConfig(s.Config, tgt.ConsentTable)
	counter := breaker.NewCounterFromConfig(s.Config, tgt.BlockCounterTable)
	baselines := drift.NewStoreFromConfig(s.Config, tgt.BaselinesBucket)

	set, err := nonces.ValidSet(ctx)
	fmt.Println(set.Newest().N, err)
	st, err := consents.Check(ctx, "acme", "pull_request_analysis")
	fmt.Println(st.State, err)
	n, err := counter.Count(ctx, "R1", "acme")
	fmt.Println(n, err)
	_, found, err := baselines.Get(ctx, "acme/api")
	fmt.Println(found, err)
	// Output:
	// 1 <nil>
	// none <nil>
	// 0 <nil>
	// false <nil>
}
