package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/cobra"

	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/stacks/stackconfig"
	"github.com/mirror-dissonance/mirror-infra/verify"
	"github.com/mirror-dissonance/mirror-infra/verify/e2e"
	"github.com/mirror-dissonance/mirror-infra/verify/target"
)

const e2eLong = `The E2E cycle of SPEC 7, "PR to Oracle to FP event to drift detection",
against the stack's tables and nonce. Each step is a check:

  e2e.nonce                the valid nonce set loads (fail closed)
  e2e.consent              consent granted to a synthetic organisation, read back
  e2e.pull-request         a synthetic PR (critical, medium, low findings) goes
                           through the Oracle: decision block, one FP event per
                           finding, signature verifies
  e2e.read-by-rule         the events read back by rule, newest first
  e2e.read-by-finding      the events read back through FindingIndex
  e2e.mark-false-positive  one event marked false positive; window FP rate
  e2e.drift                drift detection on a temporary tree: unchanged (no
                           drift), tampered (drift, event eventType=drift)
  e2e.cleanup              everything the run wrote is deleted and verified
                           gone; runs even when a step failed

The summary check "e2e" passes when every step passed. Every key the run
writes carries a unique run id, so the cycle is safe against a live stack.
It needs a nonce: bootstrap one with "nonce rotate <stack> --from 0".

Targets: from the stack's outputs, or with --from-env from the SPEC naming
of the stack's environment plus MD_* overrides (MD_FP_EVENTS_TABLE,
MD_CONSENT_TABLE, MD_BLOCK_COUNTER_TABLE, MD_NONCE_PREFIX, MD_NONCE_GRACE,
MD_KMS_KEY, MD_AWS_REGION). AWS endpoint and credentials: the SDK's
standard sources (AWS_ENDPOINT_URL, profiles, web identity).

Every item a run writes carries the E2E marker (attribute e2eRunId, the
run id; baseline metadata e2e-run-id) and an expiry, so what a killed run
left can be found. While it runs, a run holds a lease (block-counter item
e2e-lease:e2e-<run id>:1970-01-01T00:00:00.000Z) that lasts --lease
(default 30s) and is renewed every third of it; its drift tree is
md-e2e-drift-<run id>-* in the temporary directory. Each run first sweeps
(check e2e.sweep, WARN when it cannot finish; it never changes the cycle's
verdict). --timeout bounds the steps; the sweep before them and the cleanup
after them get up to 30s each beyond it, the cleanup at most 10s past the
deadline. --sweep only sweeps: it removes what dead runs left (items,
baseline versions, drift trees): at once for a run whose lease lapsed (so
at most --lease after a kill), after --sweep-age for a run without a lease;
never anything of a run whose lease is live, whatever --sweep-age says, and
never anything without the marker. Against production the cycle needs --allow-production (it writes,
then removes, items in production's tables).

Exit: 0 the cycle passed (or the sweep finished), 1 a step failed, 2 bad
usage or configuration, 3 AWS unreachable or failing (or the sweep could
not finish).`

type e2eOptions struct {
	common
	target    targetFlags
	sweepOnly bool
	sweepAge  time.Duration
	lease     time.Duration
	allowProd bool
}

// e2eSpec: the sweep before the steps and the cleanup after them each
// get up to e2e.CleanupTimeout beyond --timeout.
var e2eSpec = commandSpec{use: "e2e <stack>", short: "the E2E cycle: PR to Oracle to FP event to drift detection, against the stack's tables", long: e2eLong,
	timeout: e2e.DefaultTimeout, bounds: "the cycle's steps", extra: 2 * e2e.CleanupTimeout}

func (o *e2eOptions) flags(c *cobra.Command, _ environ) {
	o.target.add(c)
	c.Flags().BoolVar(&o.sweepOnly, "sweep", false, "only remove what earlier runs left (items with the E2E marker)")
	c.Flags().DurationVar(&o.sweepAge, "sweep-age", e2e.DefaultSweepAge, "the youngest a marked item of a run without a lease may be to be swept (before a run, at least the run's timeout plus cleanup); a live lease protects a run whatever this says")
	c.Flags().DurationVar(&o.lease, "lease", e2e.DefaultLease, "how long the run's lease lasts unless renewed (renewed every third of it); a sweep can clean up a killed run this long after the kill")
	c.Flags().BoolVar(&o.allowProd, "allow-production", false, "run against production (the cycle writes, then removes, items in its tables)")
}

func (o *e2eOptions) run(ctx context.Context, a *app, c *cobra.Command, stack string) (*report.Report, error) {
	if o.sweepAge <= 0 {
		return nil, usageErrorf("--sweep-age %s: must be positive", o.sweepAge)
	}
	if o.lease < e2e.MinLease {
		return nil, usageErrorf("--lease %s: must be at least %s", o.lease, e2e.MinLease)
	}
	run, err := a.openOracle(ctx, c, stack, o.target, func(tgt target.Env) error {
		if tgt.Environment == "production" && !o.allowProd {
			return usageErrorf("stack %s is production: the cycle writes (then removes) items in its tables; pass --allow-production to run it there", stack)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	start := time.Now()
	clients := e2e.NewClients(run.aws)
	r := &report.Report{Command: "e2e", Stack: stack, Started: start}
	if o.sweepOnly {
		r.Add(sweepE2E(ctx, clients, run.tgt, o.sweepAge))
	} else {
		// A run in progress elsewhere must keep its items: sweep only what
		// is older than this run's own bound.
		age := max(o.sweepAge, o.timeout+e2e.CleanupTimeout+time.Minute)
		sw := sweepE2E(ctx, clients, run.tgt, age)
		if sw.Status != report.Pass {
			// Housekeeping does not decide the cycle's verdict.
			sw.Status, sw.Infra = report.Warn, false
		}
		runCtx, cancel := context.WithTimeout(ctx, o.timeout)
		defer cancel()
		r.Add(e2e.Run(runCtx, clients, run.tgt, e2e.Options{Logger: slog.Default(), NonceGrace: run.opts.NonceGrace, Timeout: o.timeout, Lease: o.lease}).Checks...)
		r.Add(sw)
	}
	r.Elapsed = time.Since(start).Round(time.Millisecond).String()
	return r, nil
}

// sweepE2E removes what earlier runs left and reports it as a check: an
// incomplete sweep is an infrastructure failure (exit 3 for --sweep).
func sweepE2E(ctx context.Context, c e2e.Clients, tgt target.Env, age time.Duration) report.Check {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, e2e.CleanupTimeout)
	defer cancel()
	res, err := e2e.Sweep(ctx, c, tgt, e2e.SweepOptions{OlderThan: age})
	ch := e2e.SweepCheck(res, err, time.Since(start))
	if err != nil {
		ch.Status, ch.Infra = report.Fail, true
	}
	return ch
}

// oracleRun is what the e2e and nonce commands act on: the environment's
// resources, the AWS configuration for its region and the MD_* run options.
type oracleRun struct {
	tgt  target.Env
	aws  aws.Config
	opts verify.Options
	cfg  stackconfig.Config
}

// openOracle resolves the stack's target, its run options and an AWS
// configuration with credentials; guard, when set, may refuse the target
// before any credentials are looked for.
func (a *app) openOracle(ctx context.Context, c *cobra.Command, stack string, f targetFlags, guard func(target.Env) error) (oracleRun, error) {
	cfg, dir, err := stackOf(c, stack)
	if err != nil {
		return oracleRun{}, err
	}
	opts, err := a.runOptions(ctx)
	if err != nil {
		return oracleRun{}, err
	}
	tgt, err := a.resolveTarget(ctx, dir, cfg, f)
	if err != nil {
		return oracleRun{}, err
	}
	if guard != nil {
		if err := guard(tgt); err != nil {
			return oracleRun{}, err
		}
	}
	awsCfg, err := awsConfig(ctx, tgt.Region)
	if err != nil {
		return oracleRun{}, err
	}
	return oracleRun{tgt: tgt, aws: awsCfg, opts: opts, cfg: cfg}, nil
}
