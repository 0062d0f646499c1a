// Package stacks is the Pulumi program of one Mirror Dissonance environment
// (SPEC section 2): the CMK, three DynamoDB tables, the encrypted ops topic,
// six throttle alarms, a dashboard and GitHub OIDC roles, as component
// resources with typed arguments. Program is the one pulumi.RunFunc shared
// by the CLI entry point (cmd/program), the Automation driver and tests.
package stacks

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/mirror-dissonance/mirror-infra/spec"
	"github.com/mirror-dissonance/mirror-infra/stacks/stackconfig"
)

// Program reads and validates the stack configuration from the Pulumi
// context, then declares the environment. A configuration error stops the
// program before any resource is declared.
func Program(ctx *pulumi.Context) error {
	raw := map[string]string{}
	for _, key := range stackconfig.KnownKeys() {
		if v, err := config.Try(ctx, key); err == nil {
			raw[key] = v
		}
	}
	cfg, err := stackconfig.Parse(ctx.Stack(), raw)
	if err != nil {
		return err
	}
	return Declare(ctx, cfg)
}

// NewProgram returns a RunFunc for an already validated configuration, for
// callers that load Pulumi.<stack>.yaml themselves (the offline check and
// the rehearsal).
func NewProgram(cfg stackconfig.Config) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error { return Declare(ctx, cfg) }
}

// Environment is everything the program declared, for tests and callers
// that compose it.
type Environment struct {
	Key       *EncryptionKey
	Tables    *Tables
	Topic     *OpsTopic
	Alarms    *ThrottleAlarms
	Dashboard *Dashboard
	GitHub    *GitHubAccess
	Baselines *BaselinesBucket
	// VerifyQueue is nil unless verificationQueue is on.
	VerifyQueue *VerifyQueue
}

// Declare declares every resource of the environment and exports the
// outputs of SPEC 2.8.
func Declare(ctx *pulumi.Context, cfg stackconfig.Config) error {
	_, err := DeclareEnvironment(ctx, cfg)
	return err
}

// DeclareEnvironment is Declare returning the components.
func DeclareEnvironment(ctx *pulumi.Context, cfg stackconfig.Config) (*Environment, error) {
	names := cfg.Names()
	tags := newTags(cfg)
	caller, err := aws.GetCallerIdentity(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("reading the AWS account (aws:GetCallerIdentity): %w", err)
	}
	part, err := aws.GetPartition(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("reading the AWS partition: %w", err)
	}
	account := spec.Account{ID: caller.AccountId, Region: cfg.Region, Partition: part.Partition}

	key, err := NewEncryptionKey(ctx, "kms", EncryptionKeyArgs{
		Names: names, Account: account, DeletionWindow: cfg.KMSDeletionWindow, Ephemeral: cfg.Ephemeral, Tags: tags,
	})
	if err != nil {
		return nil, err
	}
	tables, err := NewTables(ctx, "tables", TablesArgs{
		Names: names, KeyArn: key.Arn, DeletionProtection: cfg.DeletionProtection, Ephemeral: cfg.Ephemeral, Tags: tags,
	})
	if err != nil {
		return nil, err
	}
	topic, err := NewOpsTopic(ctx, "ops-alerts", OpsTopicArgs{
		Names: names, Account: account, KeyArn: key.Arn, AlertEmail: cfg.AlertEmail, Tags: tags,
	})
	if err != nil {
		return nil, err
	}
	alarms, err := NewThrottleAlarms(ctx, "throttle-alarms", ThrottleAlarmsArgs{
		Names: names, Tables: tables, TopicArn: topic.Arn, Threshold: cfg.ThrottleThreshold, Tags: tags,
	})
	if err != nil {
		return nil, err
	}
	dash, err := NewDashboard(ctx, "dashboard", DashboardArgs{Names: names, Region: cfg.Region, AlarmArns: alarms.Arns})
	if err != nil {
		return nil, err
	}
	gh, err := NewGitHubAccess(ctx, "github", GitHubAccessArgs{
		Scope: cfg.Scope(account), ProviderArn: cfg.OIDCProviderArn,
		DeploySubjects: cfg.DeploySubjects, PreviewSubject: cfg.PreviewSubject(), OracleSubjects: cfg.OracleSubjects,
		Tags: tags,
	})
	if err != nil {
		return nil, err
	}

	baselines, err := NewBaselinesBucket(ctx, "baselines", BaselinesBucketArgs{
		Names: names, Account: account, KeyArn: key.Arn, Ephemeral: cfg.Ephemeral, Tags: tags,
	})
	if err != nil {
		return nil, err
	}

	env := &Environment{Key: key, Tables: tables, Topic: topic, Alarms: alarms, Dashboard: dash, GitHub: gh, Baselines: baselines}
	if cfg.VerificationQueue {
		env.VerifyQueue, err = NewVerifyQueue(ctx, "verify-alerts", VerifyQueueArgs{
			Names: names, Account: account, KeyArn: key.Arn, TopicArn: topic.Arn, Tags: tags,
		})
		if err != nil {
			return nil, err
		}
	}
	for k, v := range env.Outputs(cfg) {
		ctx.Export(k, v)
	}
	return env, nil
}

// Outputs are the stack outputs of SPEC 2.8.
func (e *Environment) Outputs(cfg stackconfig.Config) pulumi.Map {
	m := pulumi.Map{
		spec.OutEnvironment:     pulumi.String(cfg.Environment),
		spec.OutRegion:          pulumi.String(cfg.Region),
		spec.OutKMSKeyArn:       e.Key.Arn,
		spec.OutKMSKeyID:        e.Key.KeyID,
		spec.OutKMSAlias:        e.Key.AliasName,
		spec.OutOpsTopicArn:     e.Topic.Arn,
		spec.OutDashboardName:   e.Dashboard.Name,
		spec.OutOIDCProviderArn: e.GitHub.ProviderArn,
		spec.OutDeployRoleArn:   e.GitHub.DeployRole.Arn,
		spec.OutPreviewRoleArn:  e.GitHub.PreviewRole.Arn,
		spec.OutOracleRoleArn:   e.GitHub.OracleRole.Arn,
		spec.OutNoncePrefix:     pulumi.String(cfg.Names().NoncePrefix()),
		spec.OutBaselinesBucket: e.Baselines.Name,
	}
	if e.VerifyQueue != nil {
		m[spec.OutVerifyQueueURL] = e.VerifyQueue.URL
	}
	for suffix, t := range e.Tables.Tables {
		m[spec.TableNameOutput[suffix]] = t.Name
		m[spec.TableArnOutput[suffix]] = t.Arn
	}
	alarmNames := pulumi.StringArray{}
	for _, a := range e.Alarms.Alarms {
		alarmNames = append(alarmNames, a.Name)
	}
	m[spec.OutAlarmNames] = alarmNames
	return m
}
