package main

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/mirror-dissonance/mirror-infra/internal/awsclient"
	"github.com/mirror-dissonance/mirror-infra/oracle/e2e"
	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/spec"
	"github.com/mirror-dissonance/mirror-infra/stacks/stackconfig"
	"github.com/mirror-dissonance/mirror-infra/verify"
	"github.com/mirror-dissonance/mirror-infra/verify/target"
)

const e2eDetail = `The E2E cycle of SPEC 7, "PR to Oracle to FP event to drift detection",
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
left can be found: each run first sweeps (check e2e.sweep, WARN when it
cannot finish; it never changes the cycle's verdict).

Flags besides the common ones:
  --timeout D    bound the steps (default 1m); cleanup always runs, for up to
                 30s, and at most 10s past the deadline
  --sweep        only sweep: remove items and baseline versions that carry
                 the E2E marker and were last written --sweep-age ago (or
                 have expired); never anything without the marker
  --sweep-age D  the youngest a marked item may be to be swept (default 15m;
                 before a run, at least the run's timeout plus cleanup)
  --allow-production
                 required to run the cycle against production (it writes,
                 then removes, items in production's tables)

Exit: 0 the cycle passed (or the sweep finished), 1 a step failed, 2 bad
usage or configuration, 3 AWS unreachable or failing (or the sweep could
not finish).`

func runE2E(ctx context.Context, io stdio, args []string) int {
	fs := newFlagSet("e2e", io)
	var o options
	addCommon(fs, &o, false, true)
	timeout := fs.Duration("timeout", time.Minute, "bound the cycle's steps")
	sweepOnly := fs.Bool("sweep", false, "only remove what earlier runs left (items with the E2E marker)")
	sweepAge := fs.Duration("sweep-age", e2e.DefaultSweepAge, "the youngest a marked item may be to be swept")
	allowProd := fs.Bool("allow-production", false, "run against production (the cycle writes, then removes, items in its tables)")
	stack, code, ok := oneStack(io, fs, "e2e", args)
	if !ok {
		return code
	}
	if *sweepAge <= 0 {
		return usageErrorf(io, "e2e", "--sweep-age %s: must be positive", *sweepAge)
	}
	if *timeout <= 0 {
		return usageErrorf(io, "e2e", "--timeout %s: must be positive (default 1m)", *timeout)
	}
	run, code, ok := openOracleRun(ctx, io, "e2e", o, stack)
	if !ok {
		return code
	}
	if run.tgt.Environment == "production" && !*allowProd {
		return usageErrorf(io, "e2e", "stack %s is production: the cycle writes (then removes) items in its tables; pass --allow-production to run it there", stack)
	}
	start := time.Now()
	clients := e2e.NewClients(run.aws)
	if *sweepOnly {
		sw := sweepE2E(ctx, clients, run.tgt, *sweepAge)
		r := &report.Report{Command: "e2e", Stack: stack, Checks: []report.Check{sw}, Started: start, Elapsed: time.Since(start).Round(time.Millisecond).String()}
		return emit(io, o, r)
	}
	// A run in progress elsewhere must keep its items: sweep only what is
	// older than this run's own bound.
	age := max(*sweepAge, *timeout+e2e.CleanupTimeout+time.Minute)
	sw := sweepE2E(ctx, clients, run.tgt, age)
	if sw.Status != report.Pass {
		// Housekeeping does not decide the cycle's verdict.
		sw.Status, sw.Infra = report.Warn, false
	}
	runCtx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	checks := e2e.Run(runCtx, clients, run.tgt, e2e.Options{Logger: slog.Default(), NonceGrace: run.opts.NonceGrace, Timeout: *timeout})
	checks = append(checks, sw)
	r := &report.Report{Command: "e2e", Stack: stack, Checks: checks, Started: start, Elapsed: time.Since(start).Round(time.Millisecond).String()}
	return emit(io, o, r)
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
}

// openOracleRun resolves an oracleRun; it prints the error and returns the
// exit code when it cannot.
func openOracleRun(ctx context.Context, io stdio, cmd string, o options, stack string) (oracleRun, int, bool) {
	tgt, _, code, ok := oracleTarget(ctx, io, cmd, o, stack)
	if !ok {
		return oracleRun{}, code, false
	}
	opts, err := verify.OptionsFromEnv(ctx, nil)
	if err != nil {
		return oracleRun{}, usageErrorf(io, cmd, "%v", err), false
	}
	tgt.Region = cmp.Or(tgt.Region, spec.DefaultRegion)
	awsCfg, err := awsclient.Load(ctx, awsclient.Options{Region: tgt.Region})
	if err != nil {
		return oracleRun{}, usageErrorf(io, cmd, "loading the AWS configuration: %v", err), false
	}
	return oracleRun{tgt: tgt, aws: awsCfg, opts: opts}, 0, true
}

// oracleTarget resolves the environment the e2e and nonce commands act on:
// from the stack's outputs, or with --from-env from the SPEC naming of the
// stack's environment plus MD_* overrides. It prints the error and returns
// the exit code when it cannot.
func oracleTarget(ctx context.Context, io stdio, cmd string, o options, stack string) (target.Env, stackconfig.Config, int, bool) {
	dir, err := projectDir(o.projectDir)
	if err != nil {
		return target.Env{}, stackconfig.Config{}, usageErrorf(io, cmd, "%v", err), false
	}
	cfg, err := stackconfig.Load(dir, stack)
	if err != nil {
		return target.Env{}, stackconfig.Config{}, usageErrorf(io, cmd, "%v", err), false
	}
	if !o.fromEnv {
		tgt, code, err := targetFromOutputs(ctx, dir, stack)
		if err != nil {
			fmt.Fprintf(io.err, "automation %s: %v\n", cmd, err)
			return target.Env{}, cfg, code, false
		}
		return tgt, cfg, 0, true
	}
	tgt, err := target.FromEnv(ctx, cfg.Environment, nil)
	if err != nil {
		return target.Env{}, cfg, usageErrorf(io, cmd, "%v", err), false
	}
	if os.Getenv(target.EnvPrefix+"AWS_REGION") == "" && cfg.Region != "" {
		tgt.Region = cfg.Region
	}
	return tgt, cfg, 0, true
}
