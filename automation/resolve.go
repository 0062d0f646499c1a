package main

import (
	"cmp"
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/ec2rolecreds"
	"github.com/spf13/cobra"

	"github.com/mirror-dissonance/mirror-infra/awsclient"
	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/spec"
	"github.com/mirror-dissonance/mirror-infra/stacks/stackconfig"
	"github.com/mirror-dissonance/mirror-infra/verify"
	"github.com/mirror-dissonance/mirror-infra/verify/target"
)

// stackOf finds the project and validates Pulumi.<stack>.yaml; a problem
// is bad usage (exit 2), before any cloud call. It also returns the
// project directory.
func stackOf(c *cobra.Command, stack string) (stackconfig.Config, string, error) {
	dir, err := projectDirOf(c)
	if err != nil {
		return stackconfig.Config{}, "", err
	}
	cfg, err := stackconfig.Load(dir, stack)
	if err != nil {
		return stackconfig.Config{}, "", asUsage(err)
	}
	return cfg, dir, nil
}

// targetFlags choose where the names of the resources come from.
type targetFlags struct{ fromEnv bool }

func (f *targetFlags) add(c *cobra.Command) {
	c.Flags().BoolVar(&f.fromEnv, "from-env", false, "names from the SPEC naming of the stack's environment plus MD_* variables, not stack outputs")
}

// resolveTarget is the one way verify, e2e and nonce find the resources
// they act on: the stack's outputs (SPEC 2.8), or with --from-env the SPEC
// naming of the stack's environment plus MD_* overrides. Either way the
// target's environment must be the stack config's, and the region is the
// target's own (the outputs', or MD_AWS_REGION), else the stack's
// aws:region, else the SPEC default.
func (a *app) resolveTarget(ctx context.Context, dir string, cfg stackconfig.Config, f targetFlags) (target.Env, error) {
	var tgt target.Env
	if f.fromEnv {
		t, err := target.FromEnv(ctx, cfg.Environment, a.env.lookuper())
		if err != nil {
			return target.Env{}, asUsage(err)
		}
		tgt = t
	} else {
		if err := a.requirePassphrase(a.env.get(secretsProviderEnv)); err != nil {
			return target.Env{}, err
		}
		outs, err := a.deps.outputs(ctx, dir, cfg.Stack)
		if err != nil {
			return target.Env{}, engineErrorf("reading the outputs of stack %s: %w (without a deployed stack, use --from-env)", cfg.Stack, err)
		}
		t, err := target.FromOutputs(outs)
		if err != nil {
			return target.Env{}, usageErrorf("stack %s: %v (or use --from-env)", cfg.Stack, err)
		}
		// The verification subscriber is not a stack output of every
		// stack: MD_VERIFY_QUEUE_URL names it, as with --from-env.
		if q := a.env.get(envVerifyQueue); q != "" {
			t.VerifyQueueURL = q
		}
		tgt = t
	}
	if tgt.Environment != cfg.Environment {
		return target.Env{}, usageErrorf("stack %s: the target's environment is %q but its config says %q", cfg.Stack, tgt.Environment, cfg.Environment)
	}
	tgt.Region = cmp.Or(tgt.Region, cfg.Region, spec.DefaultRegion)
	return tgt, nil
}

// runOptions are the verifier's MD_* settings (MD_ALARM_WAIT,
// MD_FIRE_ALARM, MD_NONCE_GRACE), from the environment read at start.
func (a *app) runOptions(ctx context.Context) (verify.Options, error) {
	o, err := verify.OptionsFromEnv(ctx, a.env.lookuper())
	// Long waits (alarms settling, an alert's delivery) show as a
	// progress line on stderr.
	if p, ok := progressTo(a.io.err).(*report.Progress); ok {
		o.Wait = p.Start
	}
	return o, asUsage(err)
}

// credentialSources names where the SDK looks, for the one-line error.
const credentialSources = "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE with ~/.aws/config or ~/.aws/credentials (also SSO), " +
	"web identity (AWS_WEB_IDENTITY_TOKEN_FILE with AWS_ROLE_ARN), the container credentials endpoint, or an EC2 instance role"

// awsConfig loads the SDK configuration for region and makes sure it has
// credentials: none at all is one line naming the SDK's sources (exit 2,
// before any call to a service); a source that fails is exit 3.
func awsConfig(ctx context.Context, region string) (aws.Config, error) {
	cfg, err := awsclient.Load(ctx, awsclient.Options{Region: region})
	if err != nil {
		return aws.Config{}, usageErrorf("loading the AWS configuration: %v", err)
	}
	if cfg.Credentials == nil {
		return aws.Config{}, usageErrorf("no AWS credentials: set one of the SDK's sources: %s", credentialSources)
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		// The instance role is the chain's last resort: reaching it means
		// no source was configured.
		if aws.IsCredentialsProvider(cfg.Credentials, (*ec2rolecreds.Provider)(nil)) {
			return aws.Config{}, usageErrorf("no AWS credentials: set one of the SDK's sources: %s", credentialSources)
		}
		return aws.Config{}, engineErrorf("getting AWS credentials: %v", err)
	}
	return cfg, nil
}

// requirePassphrase refuses a passphrase secrets provider without a
// passphrase: the pulumi CLI would otherwise use an empty one silently.
func (a *app) requirePassphrase(provider string) error {
	if provider != "" && provider != "passphrase" {
		return nil
	}
	if a.env.has("PULUMI_CONFIG_PASSPHRASE") || a.env.has("PULUMI_CONFIG_PASSPHRASE_FILE") {
		return nil
	}
	return usageErrorf("the state's secrets use a passphrase (no --secrets-provider or %s): set PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE, or use --secrets-provider awskms://alias/<name>?region=<region>", secretsProviderEnv)
}
