package e2e

import (
	"context"
	"time"

	"github.com/mirror-dissonance/mirror-infra/verify/target"
)

// KilledRun runs the first n steps of a cycle and stops without cleanup,
// as a run killed with SIGKILL midway would; it returns the run id.
func KilledRun(ctx context.Context, c Clients, env target.Env, opts Options, n int) string {
	r := newRun(c, env, opts)
	steps := []func(context.Context) (string, error){r.stepNonce, r.stepConsent, r.stepPullRequest, r.stepReadByRule, r.stepReadByFinding, r.stepMarkFP, r.stepDrift}
	for _, fn := range steps[:n] {
		if _, err := fn(ctx); err != nil {
			break
		}
	}
	return r.id
}

// KilledLeasedRun takes a lease of duration d, runs the first n steps and
// stops without renewing or releasing it, as a run killed midway; it
// returns the run id.
func KilledLeasedRun(ctx context.Context, c Clients, env target.Env, opts Options, d time.Duration, n int) string {
	r := newRun(c, env, opts)
	l := &lease{db: c.DynamoDB, table: env.BlockCounterTable, run: r.id, d: d}
	if err := l.acquire(ctx); err != nil {
		panic(err)
	}
	steps := []func(context.Context) (string, error){r.stepNonce, r.stepConsent, r.stepPullRequest, r.stepReadByRule, r.stepReadByFinding, r.stepMarkFP, r.stepDrift}
	for _, fn := range steps[:n] {
		if _, err := fn(ctx); err != nil {
			break
		}
	}
	return r.id
}

// RenewLease renews run's lease as its holder would.
func RenewLease(ctx context.Context, c Clients, env target.Env, run string, d time.Duration) error {
	return (&lease{db: c.DynamoDB, table: env.BlockCounterTable, run: run, d: d}).renew(ctx)
}
