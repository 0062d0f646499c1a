package verify

import (
	"cmp"
	"context"
	"time"

	"github.com/mirror-dissonance/mirror-infra/oracle/drift"
	"github.com/mirror-dissonance/mirror-infra/oracle/nonce"
	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/verify/e2e"
)

// IDE2E is the id of the E2E cycle's summary check (package verify/e2e).
const IDE2E = e2e.CheckID

func init() {
	register(check{Entry: Entry{ID: IDE2E, Writes: true,
		Summary: "the cycle PR to Oracle to FP event to drift detection: every step observed, everything it wrote removed"},
		rank: 120, run: (*session).checkE2E})
}

// checkE2E runs the cycle and returns its summary (the steps' statuses in
// Details; e2e.Run gives every step). It writes and deletes items and a
// baseline, with the calls NewClients' clients have.
func (s *session) checkE2E(ctx context.Context) report.Check {
	s.nonceWrites.Lock()
	defer s.nonceWrites.Unlock()
	db, ok := s.c.DynamoDB.(e2e.DynamoDB)
	if !ok {
		return lacksCalls(IDE2E, "Clients.DynamoDB", "the item calls of the Oracle layer (PutItem, Query, UpdateItem, DeleteItem, GetItem)")
	}
	ssmc, ok := s.c.SSM.(nonce.SSMAPI)
	if !ok {
		return lacksCalls(IDE2E, "Clients.SSM", "GetParametersByPath and PutParameter")
	}
	obj, ok := s.c.S3.(drift.ObjectAPI)
	if !ok {
		return lacksCalls(IDE2E, "Clients.S3", "the object calls of the baselines store")
	}
	opts := s.opts.E2E
	opts.NonceGrace = cmp.Or(opts.NonceGrace, s.opts.NonceGrace)
	opts.Logger = cmp.Or(opts.Logger, s.log)
	// The cycle's cleanup may run CleanupGrace past its own deadline:
	// end the steps early enough that it still fits in the run's.
	if dl, ok := ctx.Deadline(); ok {
		opts.Timeout = max(min(cmp.Or(opts.Timeout, e2e.DefaultTimeout), time.Until(dl)-e2e.CleanupGrace), time.Millisecond)
	}
	// Run's probe has been made: no STS client, no second probe.
	return e2e.Run(ctx, e2e.Clients{DynamoDB: db, SSM: ssmc, S3: obj}, s.tgt, opts).Checks[0]
}
