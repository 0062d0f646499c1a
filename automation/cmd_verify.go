package main

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/mirror-dissonance/mirror-infra/internal/awsclient"
	"github.com/mirror-dissonance/mirror-infra/internal/driver"
	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/spec"
	"github.com/mirror-dissonance/mirror-infra/stacks/stackconfig"
	"github.com/mirror-dissonance/mirror-infra/verify"
	"github.com/mirror-dissonance/mirror-infra/verify/target"
)

const verifyDetail = `The read-only checks of the verifier catalogue (SPEC 6), run concurrently;
every check reports, none stops the others:

  tables  the three tables ACTIVE, keys, index FindingIndex, PAY_PER_REQUEST
  sse     each table encrypted with the environment CMK
  ttl     TTL on expiresAt for fp-events and block-counter
  pitr    point-in-time recovery on all three, with the restore window
  kms     the CMK enabled, rotating, its alias present
  alarms  the six throttle alarms as SPEC 2.4 (one DescribeAlarms call), in OK;
          INSUFFICIENT_DATA after --alarm-wait is WARN, never PASS
  sns     the ops topic exists, encrypted with the CMK; subscriptions pending
  alert   publishes a test alert; with MD_VERIFY_QUEUE_URL (an SQS queue
          subscribed to the topic) confirms delivery, otherwise WARN: a
          person must confirm it; MD_FIRE_ALARM=true also sets one alarm to
          ALARM and back to OK
  oidc    the GitHub OIDC provider and the deploy/preview role trust
  nonce   /guardian/<env>/redaction_nonce_v<N>: a valid SecureString under
          the CMK, 64 lowercase hex (values are never printed)
  baselines  the drift bucket (MD_BASELINES_BUCKET): versioned, CMK, private, TLS-only

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
  (these four settings, with MD_NONCE_GRACE, also apply with stack outputs)
  MD_AWS_REGION (default: the stack's aws:region)

AWS access uses the SDK's standard sources (AWS_ENDPOINT_URL, AWS_PROFILE,
web identity, AWS_MAX_ATTEMPTS). An unreachable endpoint is reported at
once as FAIL with exit 3.

Flags besides the common ones:
  --checks a,b,...    run only these checks
  --timeout D         bound the whole run (default 2m)
  --alarm-wait D      wait up to D for alarms to leave INSUFFICIENT_DATA
                      (default MD_ALARM_WAIT)

Exit: 0 all passed (WARN allowed), 1 a check failed, 2 bad usage or
configuration, 3 AWS unreachable or failing.`

// targetFromOutputs builds the target from the stack's outputs (SPEC 2.8).
// It returns the exit code for a failure: 3 when the engine cannot be run
// or the backend read, 2 when the stack has no usable outputs.
func targetFromOutputs(ctx context.Context, dir, stack string) (target.Env, int, error) {
	outs, err := driver.Outputs(ctx, dir, stack)
	if err != nil {
		return target.Env{}, report.ExitEngine, fmt.Errorf("reading the outputs of stack %s: %w (without a deployed stack, use --from-env)", stack, err)
	}
	t, err := target.FromOutputs(outs)
	if err != nil {
		return target.Env{}, report.ExitUsage, fmt.Errorf("stack %s: %w (or use --from-env)", stack, err)
	}
	// The verification subscriber is not a stack output of every stack:
	// MD_VERIFY_QUEUE_URL names it, as with --from-env.
	if q := os.Getenv(target.EnvPrefix + "VERIFY_QUEUE_URL"); q != "" {
		t.VerifyQueueURL = q
	}
	return t, 0, nil
}

func runVerify(ctx context.Context, io stdio, args []string) int {
	fs := newFlagSet("verify", io)
	var o options
	addCommon(fs, &o, false, true)
	checks := fs.String("checks", "", "comma-separated check ids to run (default: all)")
	timeout := fs.Duration("timeout", 2*time.Minute, "bound the whole run")
	alarmWait := fs.Duration("alarm-wait", -1, "wait up to this long for alarms to leave INSUFFICIENT_DATA (default MD_ALARM_WAIT)")
	stack, code, ok := oneStack(io, fs, "verify", args)
	if !ok {
		return code
	}
	dir, err := projectDir(o.projectDir)
	if err != nil {
		return usageErrorf(io, "verify", "%v", err)
	}
	cfg, err := stackconfig.Load(dir, stack)
	if err != nil {
		return usageErrorf(io, "verify", "%v", err)
	}
	var tgt target.Env
	if o.fromEnv {
		tgt, err = target.FromEnv(ctx, cfg.Environment, nil)
		if err == nil && os.Getenv(target.EnvPrefix+"AWS_REGION") == "" {
			tgt.Region = cfg.Region
		}
		if err != nil {
			return usageErrorf(io, "verify", "%v", err)
		}
	} else {
		var code int
		if tgt, code, err = targetFromOutputs(ctx, dir, stack); err != nil {
			fmt.Fprintf(io.err, "automation verify: %v\n", err)
			return code
		}
		if tgt.Environment != cfg.Environment {
			return usageErrorf(io, "verify", "stack %s outputs environment %q but its config says %q", stack, tgt.Environment, cfg.Environment)
		}
	}
	// MD_ALARM_WAIT, MD_FIRE_ALARM and MD_NONCE_GRACE apply with either
	// source of targets.
	opts, err := verify.OptionsFromEnv(ctx, nil)
	if err != nil {
		return usageErrorf(io, "verify", "%v", err)
	}
	if *timeout <= 0 {
		return usageErrorf(io, "verify", "--timeout %s: must be positive (default 2m)", *timeout)
	}
	if isSet(fs, "alarm-wait") && *alarmWait < 0 {
		return usageErrorf(io, "verify", "--alarm-wait %s: must be 0 or positive", *alarmWait)
	}
	opts.Timeout = *timeout
	// The library's default leaves out the alert check (it publishes);
	// the command has always run the whole catalogue, so it names it.
	opts.Checks = verify.IDs
	if *checks != "" {
		opts.Checks = nil
		for _, id := range strings.Split(*checks, ",") {
			opts.Checks = append(opts.Checks, strings.TrimSpace(id))
		}
	}
	if *alarmWait >= 0 {
		opts.AlarmWait = *alarmWait
	}
	opts.ExpectedThreshold = float64(cfg.ThrottleThreshold)
	opts.DeletionProtection = &cfg.DeletionProtection
	tgt.Region = cmp.Or(tgt.Region, spec.DefaultRegion)
	awsCfg, err := awsclient.Load(ctx, awsclient.Options{Region: tgt.Region})
	if err != nil {
		return usageErrorf(io, "verify", "loading the AWS configuration: %v", err)
	}
	r, err := verify.Run(ctx, verify.NewClients(awsCfg), tgt, opts)
	if err != nil {
		return usageErrorf(io, "verify", "%v", err)
	}
	r.Stack = stack
	return emit(io, o, r)
}
