package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/verify"
)

var verifyLong = `The checks of the verifier catalogue (SPEC 6), run concurrently; every
check reports, none stops the others. By default only the read-only ones
run: verify never writes unless asked. The alert check, which publishes
to the ops topic (and pages whoever is subscribed), runs only when named
(--checks alert) and in deploy's post-up stage.

` + checkList() + `
Targets: by default from the stack's outputs (read through the pulumi CLI
and the stack's backend, as the driver does). With --from-env, from the SPEC
naming of the stack's environment (Pulumi.<stack>.yaml), each name
overridable by an environment variable:

  MD_FP_EVENTS_TABLE, MD_CONSENT_TABLE, MD_BLOCK_COUNTER_TABLE
  MD_KMS_KEY (id, ARN or alias; default the alias), MD_KMS_ALIAS
  MD_OPS_TOPIC_ARN (default built from the account), MD_OPS_TOPIC_NAME
  MD_ALARM_NAMES (comma-separated), MD_DASHBOARD_NAME
  MD_OIDC_PROVIDER_ARN (default built from the account)
  MD_DEPLOY_ROLE, MD_PREVIEW_ROLE (name or ARN)
  MD_NONCE_PREFIX (default /guardian/<env>/redaction_nonce_v), MD_NONCE_GRACE (1h)
  MD_VERIFY_QUEUE_URL, MD_ALARM_WAIT (0s), MD_FIRE_ALARM (false)
  (these four settings also apply with stack outputs)
  MD_AWS_REGION (default: the stack's aws:region)

AWS access uses the SDK's standard sources (AWS_ENDPOINT_URL, AWS_PROFILE,
web identity, AWS_MAX_ATTEMPTS). An unreachable endpoint is reported at
once as FAIL with exit 3.

Exit: 0 all passed (WARN allowed), 1 a check failed, 2 bad usage or
configuration (also no AWS credentials), 3 AWS unreachable or failing.`

type verifyOptions struct {
	common
	target    targetFlags
	checks    []string
	alarmWait time.Duration
}

var verifySpec = commandSpec{use: "verify <stack>", short: "the read-only checks of the verifier catalogue (alert only when named)", long: verifyLong,
	timeout: 2 * time.Minute, bounds: "the whole run"}

func (o *verifyOptions) flags(c *cobra.Command, env environ) {
	o.target.add(c)
	c.Flags().StringSliceVar(&o.checks, "checks", nil, "run only these check `IDS` (comma-separated; default: every read-only check; alert runs only when named)")
	c.Flags().DurationVar(&o.alarmWait, "alarm-wait", 0, "wait up to this long for alarms to leave INSUFFICIENT_DATA (default: MD_ALARM_WAIT, else 0s)")
	_ = c.RegisterFlagCompletionFunc("checks", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return verify.IDs(), cobra.ShellCompDirectiveNoFileComp
	})
}

func (o *verifyOptions) run(ctx context.Context, a *app, c *cobra.Command, stack string) (*report.Report, error) {
	cfg, dir, err := stackOf(c, stack)
	if err != nil {
		return nil, err
	}
	// MD_ALARM_WAIT, MD_FIRE_ALARM and MD_NONCE_GRACE apply with either
	// source of targets.
	opts, err := a.runOptions(ctx)
	if err != nil {
		return nil, err
	}
	if c.Flags().Changed("alarm-wait") {
		if o.alarmWait < 0 {
			return nil, usageErrorf("--alarm-wait %s: must be 0 or positive", o.alarmWait)
		}
		opts.AlarmWait = o.alarmWait
	}
	// The read-only set unless checks are named: verify never writes
	// unless asked (alert publishes to the ops topic).
	opts.Checks = verify.DefaultIDs()
	if len(o.checks) > 0 {
		opts.Checks = nil
		for _, id := range o.checks {
			opts.Checks = append(opts.Checks, strings.TrimSpace(id))
		}
	}
	for _, id := range opts.Checks {
		if !contains(verify.IDs(), id) {
			return nil, usageErrorf("--checks: unknown check %q (known: %s)", id, strings.Join(verify.IDs(), ", "))
		}
	}
	opts.Timeout = o.timeout
	expectFromConfig(&opts, cfg)
	tgt, err := a.resolveTarget(ctx, dir, cfg, o.target)
	if err != nil {
		return nil, err
	}
	awsCfg, err := awsConfig(ctx, tgt.Region)
	if err != nil {
		return nil, err
	}
	r, err := verify.Run(ctx, verify.NewClients(awsCfg), tgt, opts)
	if err != nil {
		return nil, asUsage(err)
	}
	r.Stack = stack
	return r, nil
}

// one is a run function's single report as the runner takes it.
func one(r *report.Report, err error) ([]*report.Report, error) {
	if r == nil {
		return nil, err
	}
	return []*report.Report{r}, err
}

// checkList is the catalogue as help shows it, from verify.Catalogue (the
// only list of checks), so help cannot miss one.
func checkList() string {
	var b strings.Builder
	w := 0
	for _, e := range verify.Catalogue() {
		w = max(w, len(e.ID))
	}
	for _, e := range verify.Catalogue() {
		s := e.Summary
		if e.Writes {
			s += " (writes: only when named)"
		}
		fmt.Fprintf(&b, "  %-*s  %s\n", w, e.ID, s)
	}
	return b.String()
}
