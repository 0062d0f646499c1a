// Package oracletest gives the oracle packages' tests an environment seeded
// in the in-process AWS emulator (the three SPEC 2.2 tables and the KMS key
// under a unique environment name, no nonce yet) and the emulator's request
// counter and fault injector, on the real SDK path.
package oracletest

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/mirror-dissonance/mirror-infra/emulator"
	"github.com/mirror-dissonance/mirror-infra/verify/target"
)

// Env is one test's view of the emulator.
type Env struct {
	// Emulator counts the requests (Counts, ResetCounts) and injects
	// faults (SetFaults, or Fail and Heal here).
	*emulator.Emulator
	Seeded *emulator.Seeded
	// Config is the client config, with SDK retries off so an injected
	// fault is seen once (it shadows Emulator.Config, which keeps them on).
	Config aws.Config
	Target target.Env
	DB     *dynamodb.Client
	SSM    *ssm.Client
}

// New starts an emulator and seeds an environment of a unique name without
// a nonce, then zeroes the request counts.
func New(tb testing.TB) *Env {
	tb.Helper()
	em := emulator.Start()
	tb.Cleanup(em.Close)
	ctx := context.Background()
	cfg, err := em.Config(ctx)
	if err != nil {
		tb.Fatalf("emulator config: %v", err)
	}
	cfg.RetryMaxAttempts = 1
	s, err := emulator.Seed(ctx, cfg, emulator.SeedOptions{SkipNonce: true})
	if err != nil {
		tb.Fatal(err)
	}
	em.ResetCounts()
	return &Env{Emulator: em, Seeded: s, Config: cfg, Target: s.Target(), DB: dynamodb.NewFromConfig(cfg), SSM: ssm.NewFromConfig(cfg)}
}

// Fail makes every request a rule matches fail (by default as an
// unreachable endpoint would), replacing earlier faults.
func (e *Env) Fail(rules ...emulator.FaultRule) { e.SetFaults(emulator.Faults{Rules: rules}) }

// Heal turns every fault off.
func (e *Env) Heal() { e.SetFaults(emulator.Faults{}) }

// NonceParameters reads (decrypted) every parameter under the nonce path.
func (e *Env) NonceParameters(tb testing.TB) []ssmtypes.Parameter {
	tb.Helper()
	out, err := e.SSM.GetParametersByPath(context.Background(), &ssm.GetParametersByPathInput{
		Path: aws.String(e.Target.NonceParameterPath()), WithDecryption: aws.Bool(true), MaxResults: aws.Int32(10),
	})
	if err != nil {
		tb.Fatalf("reading the nonce parameters: %v", err)
	}
	return out.Parameters
}

// Clock returns a settable time, starting at t, and the Now function of a
// store that reads it.
func Clock(t time.Time) (*time.Time, func() time.Time) {
	now := t
	return &now, func() time.Time { return now }
}

// Snapshot returns every item of the three tables, rendered canonically, so
// that a test can assert a run left them as it found them.
func Snapshot(ctx context.Context, db *dynamodb.Client, t target.Env) (map[string][]string, error) {
	out := map[string][]string{}
	for _, name := range []string{t.FPEventsTable, t.ConsentTable, t.BlockCounterTable} {
		p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: aws.String(name)})
		var items []string
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("scanning %s: %w", name, err)
			}
			for _, it := range page.Items {
				var m map[string]any
				if err := attributevalue.UnmarshalMap(it, &m); err != nil {
					return nil, fmt.Errorf("decoding an item of %s: %w", name, err)
				}
				b, err := json.Marshal(m)
				if err != nil {
					return nil, fmt.Errorf("encoding an item of %s: %w", name, err)
				}
				items = append(items, string(b))
			}
			sort.Strings(items)
		}
		out[name] = items
	}
	return out, nil
}
