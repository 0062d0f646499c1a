package main

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/mirror-dissonance/mirror-infra/internal/driver"
	"github.com/mirror-dissonance/mirror-infra/internal/postdeploy"
	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/stacks/stackconfig"
	"github.com/mirror-dissonance/mirror-infra/verify"
	"github.com/mirror-dissonance/mirror-infra/verify/e2e"
	"github.com/mirror-dissonance/mirror-infra/verify/target"
)

const deployLong = `The whole Phase 4 cycle, in this order; a step that fails stops the ones
after it (except the post-up checks, which all run):

  1. config   Pulumi.<stack>.yaml is validated (exit 2 on a bad value).
  2. preview  the stack is selected (or created) on the backend and
              "pulumi preview --save-plan" runs the program; progress is
              streamed to stderr; the plan, a JSON summary and a Markdown
              summary (for a PR comment) are written to out/<stack>/.
              The pre-flight then stops the run (exit 1) when a planned
              create's name already exists in the account, pointing to
              "adopt <stack>" (--skip-preflight turns it off).
  3. gate     the SPEC 5 rules run on the planned resource inputs taken
              from the preview's engine events (exit 1 on a finding).
  4. approval production: only --approve <fingerprint>; other stacks:
              --approve, --yes, or "yes" at the prompt. --non-interactive
              without approval stops here: nothing applied, exit 0.
  5. up       "pulumi up --plan": exactly the reviewed plan; the CLI refuses
              if the program's changes no longer match it (exit 1). Ctrl-C
              cancels cleanly; a concurrent run is refused (the backend lock),
              naming its holder; "unlock <stack>" clears a stale one.
  6. post-up  against the new outputs: nonce bootstrap (v1 when none
              exists), the whole verifier catalogue including the alert
              check (waiting up to 6m, or MD_ALARM_WAIT, for new alarms to
              leave INSUFFICIENT_DATA), the rotation policy (rotate when due,
              prune; --rotate, --skip-rotation), the E2E cycle.

Against real AWS (credentials from the SDK's standard sources):

  make tools                                    # ./bin/pulumi
  pulumi plugin install resource aws v6.83.4    # once per machine
  export PULUMI_CONFIG_PASSPHRASE=...           # or PULUMI_BACKEND_URL + --secrets-provider awskms://...
  go run ./automation preview staging           # review out/staging/staging.summary.md
  go run ./automation staging --approve sha256:...

Several stacks at once: "deploy staging production", "--stacks a,b" or
"--all" runs each stack's whole cycle, at most --parallel N at a time, each
with its own plan, gate and approval. --all is every Pulumi.<stack>.yaml
except the acceptance stacks (acc-*, among them the template
Pulumi.acc-example.yaml): those are made per acceptance run and are always
named. Approve each plan by stack: --approve staging=sha256:... repeated
(production still needs its own fingerprint; --yes covers the others).
There is no prompt with several stacks: a stack without approval stops
after its preview. Progress lines start with [stack]; the report has one
section per stack and a summary (--json: "checks" has one entry per stack,
"reports" the full reports). One stack's failure never stops the others;
the exit code is the worst of them (3 > 2 > 1 > 0).

  go run ./automation deploy staging production --non-interactive --json
  go run ./automation deploy staging production --yes --approve production=sha256:...`

// deployTimeout bounds a whole deploy: preview, up, the post-up alarm wait
// (up to deployAlarmWait) and the E2E cycle, for one stack or several.
const deployTimeout = time.Hour

// deployAlarmWait bounds the post-up wait for new alarms to leave
// INSUFFICIENT_DATA (MD_ALARM_WAIT overrides it).
const deployAlarmWait = 6 * time.Minute

// rotationFlags are deploy's say over the nonce after up.
type rotationFlags struct{ skip, force bool }

type deployOptions struct {
	common
	approval approvalFlags
	driver   driverFlags
	rotation rotationFlags
	allow    listFlag
	skipPre  bool
	stacks   string
	all      bool
	parallel int
}

func newCmdDeploy(a *app) *cobra.Command {
	o := &deployOptions{}
	c := &cobra.Command{
		Use:               "deploy <stack>",
		Short:             "the whole cycle: preview, gate, up with the saved plan, verify (also: automation <stack>)",
		Long:              deployLong,
		ValidArgsFunction: completeStacks,
	}
	a.define(c, &o.common, deployTimeout, "the whole run, every stack's cycle included", 0, func(ctx context.Context, args []string) ([]*report.Report, error) {
		return a.runDeploy(ctx, c, o, args)
	})
	o.approval.add(c, a.env)
	o.driver.add(c, a.env)
	c.Flags().BoolVar(&o.rotation.skip, "skip-rotation", false, "after up, leave the nonce versions alone (no rotation, no prune)")
	c.Flags().BoolVar(&o.rotation.force, "rotate", false, "after up, rotate the nonce even when it is not due (nonceRotationDays)")
	c.Flags().Var(&o.allow, "allow-stateful", "allow the plan to delete or replace this stateful resource (table or key); repeat for each one")
	c.Flags().BoolVar(&o.skipPre, "skip-preflight", false, "do not check planned creates against names that already exist in the account (only for an account known to be empty)")
	c.Flags().StringVar(&o.stacks, "stacks", "", "deploy these stacks together (comma-separated `LIST`), like naming them as arguments")
	c.Flags().BoolVar(&o.all, "all", false, "deploy every stack that has a Pulumi.<stack>.yaml, except the acceptance stacks (acc-*)")
	c.Flags().IntVar(&o.parallel, "parallel", defaultParallel, "with several stacks: at most `N` stack cycles at once")
	return c
}

// runDeploy is one stack's cycle, or several stacks' side by side.
func (a *app) runDeploy(ctx context.Context, c *cobra.Command, o *deployOptions, args []string) ([]*report.Report, error) {
	a.cmd = c
	names, err := o.selectStacks(c, args)
	if err != nil {
		return nil, err
	}
	if len(names) > 1 || a.deps.cycle != nil {
		return a.deployMany(ctx, c, o, names)
	}
	if err := o.approval.checkApprovals(names); err != nil {
		return nil, err
	}
	runOpts, err := a.runOptions(ctx)
	if err != nil {
		return nil, err
	}
	return one(a.driverCommand(ctx, c, "deploy", names[0], o.driver, false, o.preflight(), func(d *driver.Driver, s stackRun, r *report.Report) {
		s.approval = o.approval.approval(a, s.cfg, true, a.io.err)
		d.Deploy(ctx, cycleOptions(s, o.allow, postUpHooks(s.cfg, o.rotation, runOpts)), r)
	}))
}

// preflight is the pre-flight hook maker, nil with --skip-preflight.
func (o *deployOptions) preflight() func(stackconfig.Config) driver.PreFlight {
	if o.skipPre {
		return nil
	}
	return preflightHook
}

// postUpHooks are the steps after up, against the new outputs: the shared
// post-deploy stage (nonce bootstrap, verifier, rotation check, E2E cycle),
// the same function the rehearsal runs. run carries the MD_* settings.
func postUpHooks(cfg stackconfig.Config, rot rotationFlags, run verify.Options) []driver.Hook {
	return []driver.Hook{func(ctx context.Context, outs map[string]any) []report.Check {
		tgt, err := target.FromOutputs(outs)
		if err != nil {
			return []report.Check{{ID: "outputs", Status: report.Fail, Reason: fmt.Sprintf("the stack outputs do not name every resource: %v", err),
				Fix: "the program must export the outputs of SPEC 2.8"}}
		}
		awsCfg, err := awsConfig(ctx, tgt.Region)
		if err != nil {
			return []report.Check{{ID: "outputs", Status: report.Fail, Infra: true, Reason: err.Error()}}
		}
		// New alarms sit in INSUFFICIENT_DATA until CloudWatch first
		// evaluates them (a few minutes): wait, bounded, so a fresh deploy
		// reports alarms and alert PASS or a precise reason, not a WARN.
		wait := cmp.Or(run.AlarmWait, deployAlarmWait)
		vo := verify.Options{AlarmWait: wait, Timeout: wait + 2*time.Minute, NonceGrace: run.NonceGrace, FireAlarm: run.FireAlarm, Wait: run.Wait}
		expectFromConfig(&vo, cfg)
		return postdeploy.Run(ctx, awsCfg, tgt, postdeploy.Options{
			Verify:       vo,
			E2E:          e2e.Options{Logger: slog.Default()},
			E2ETimeout:   e2e.DefaultTimeout,
			SkipRotation: rot.skip,
			Rotation: postdeploy.RotationPolicy{
				Force:  rot.force,
				MaxAge: time.Duration(cfg.NonceRotationDays) * 24 * time.Hour,
				Keep:   cfg.NonceKeepVersions,
			},
		})
	}}
}

// expectFromConfig sets what the verifier holds the stack to from its
// config: the alarm threshold, deletion protection and the Oracle role's
// exact subjects (so a trust wider or other than oracleSubjects FAILs).
func expectFromConfig(o *verify.Options, cfg stackconfig.Config) {
	o.ExpectedThreshold = float64(cfg.ThrottleThreshold)
	o.DeletionProtection = &cfg.DeletionProtection
	o.OracleSubjects = cfg.OracleSubjects
}
