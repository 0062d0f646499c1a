package verify

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/verify/target"
)

// Run executes the checks concurrently against target tgt and returns every
// result in the order asked. The error is only for unusable input (an
// unknown check id, an empty target, a target region that contradicts the
// clients'); cloud failures are FAIL results with Infra set, so
// report.ExitCode gives 3 for them. An endpoint that cannot be reached at
// all is reported once, on the first check, with the others pointing at it.
func Run(ctx context.Context, c Clients, tgt target.Env, opts Options) (*report.Report, error) {
	if tgt.Environment == "" {
		return nil, errors.New("verify: the target has no environment (set target.Env.Environment, e.g. \"staging\")")
	}
	region, err := ResolveRegion(tgt.Region, c.Region)
	if err != nil {
		return nil, fmt.Errorf("verify %s: %w", tgt.Environment, err)
	}
	tgt.Region = region
	tgt.Defaults()
	opts = opts.withDefaults()
	for _, id := range opts.Checks {
		if _, ok := lookup(id); !ok {
			return nil, unknownCheck(id)
		}
	}
	r := &report.Report{Command: "verify", Started: opts.Now()}
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	s := newSession(ctx, c, tgt, opts)

	// One cheap call first: if the endpoint cannot be reached at all, say so
	// once instead of letting every check retry into the deadline.
	if err := s.probe(ctx); err != nil {
		r.Add(Unreachable(opts.Checks, err)...)
	} else {
		r.Add(s.runAll(ctx)...)
	}
	r.Elapsed = time.Since(r.Started).Round(time.Millisecond).String()
	return r, nil
}

// runAll runs the session's checks concurrently and returns their results
// in the order asked; a check still running at the deadline is a FAIL.
func (s *session) runAll(ctx context.Context) []report.Check {
	ids := s.opts.Checks
	type result struct {
		i int
		c report.Check
	}
	results := make(chan result, len(ids))
	for i, id := range ids {
		go func() {
			start := time.Now()
			c := s.runOne(ctx, id)
			c.ID, c.Duration = id, time.Since(start)
			results <- result{i, c}
		}()
	}
	got := make([]*report.Check, len(ids))
	for n := 0; n < len(ids); n++ {
		select {
		case res := <-results:
			got[res.i] = &res.c
		case <-ctx.Done():
			n = len(ids) // stop waiting; the rest are reported as unfinished
		}
	}
	out := make([]report.Check, len(ids))
	for i, id := range ids {
		out[i] = report.Check{ID: id, Status: report.Fail, Infra: true,
			Reason: fmt.Sprintf("did not finish within the run's deadline (%s)", s.opts.Timeout),
			Fix:    "check the endpoint's latency and throttling; raise Options.Timeout (--timeout on the command line) if the environment is slow"}
		if got[i] != nil {
			out[i] = *got[i]
		}
	}
	return out
}

// runOne runs one check, turning a panic into a FAIL so the others still
// report.
func (s *session) runOne(ctx context.Context, id string) (c report.Check) {
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("check panicked", "check", id, "panic", fmt.Sprint(p))
			c = report.Check{ID: id, Status: report.Fail, Infra: true,
				Reason: fmt.Sprintf("the check panicked: %v", p),
				Fix:    "this is a bug in the verifier (github.com/mirror-dissonance/mirror-infra/verify); report it with this output"}
		}
	}()
	def, _ := lookup(id) // Run accepts known ids only
	return def.run(s, ctx)
}
