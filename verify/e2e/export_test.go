package e2e

import (
	"context"

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
