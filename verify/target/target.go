// Package target says which deployed resources a verifier or E2E run points
// at: read from a stack's outputs, or, without a stack, derived from the SPEC
// naming of an environment plus environment-variable overrides.
package target

import (
	"context"
	"fmt"

	"github.com/sethvargo/go-envconfig"

	"github.com/mirror-dissonance/mirror-infra/spec"
)

// Env is one environment's deployed resources: which resources, never how
// to check them (run options are verify.Options).
type Env struct {
	Environment string `env:"ENVIRONMENT"`
	// Region, when set, must agree with the aws.Config the clients are
	// built from; empty means the config's region (verify.ResolveRegion).
	// It decides the ARNs built for names without one (the ops topic).
	Region string `env:"AWS_REGION"`

	FPEventsTable     string `env:"FP_EVENTS_TABLE"`
	ConsentTable      string `env:"CONSENT_TABLE"`
	BlockCounterTable string `env:"BLOCK_COUNTER_TABLE"`

	// KMSKey is the key ARN, id or alias the tables, topic and nonce use.
	KMSKey   string `env:"KMS_KEY"`
	KMSAlias string `env:"KMS_ALIAS"`
	TopicArn string `env:"OPS_TOPIC_ARN"`
	// TopicName is used to find the topic when TopicArn is unknown.
	TopicName  string   `env:"OPS_TOPIC_NAME"`
	AlarmNames []string `env:"ALARM_NAMES"`
	Dashboard  string   `env:"DASHBOARD_NAME"`

	OIDCProviderArn string `env:"OIDC_PROVIDER_ARN"`
	DeployRole      string `env:"DEPLOY_ROLE"`
	PreviewRole     string `env:"PREVIEW_ROLE"`
	// OracleRole is the Oracle runtime role (SPEC 2.6).
	OracleRole string `env:"ORACLE_ROLE"`

	// NoncePrefix is "/guardian/<env>/redaction_nonce_v".
	NoncePrefix string `env:"NONCE_PREFIX"`

	// BaselinesBucket holds the Oracle's drift baselines (SPEC 2.10).
	BaselinesBucket string `env:"BASELINES_BUCKET"`

	// VerifyQueueURL is an SQS queue subscribed to the topic that the alert
	// check reads to confirm delivery (a stack output, SPEC 2.11); empty
	// means a human must confirm.
	VerifyQueueURL string `env:"VERIFY_QUEUE_URL"`
}

// EnvPrefix prefixes every override variable, e.g. MD_FP_EVENTS_TABLE.
const EnvPrefix = "MD_"

// Defaults fills every empty name from the naming of package spec for
// e.Environment. It leaves Region alone: an empty region follows the
// aws.Config of the run.
func (e *Env) Defaults() {
	n := spec.For(e.Environment)
	set := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	set(&e.FPEventsTable, n.Table(spec.TableFPEvents))
	set(&e.ConsentTable, n.Table(spec.TableConsent))
	set(&e.BlockCounterTable, n.Table(spec.TableBlockCounter))
	set(&e.KMSAlias, n.KeyAlias())
	set(&e.KMSKey, e.KMSAlias)
	set(&e.TopicName, n.Topic())
	set(&e.Dashboard, n.Dashboard())
	set(&e.BaselinesBucket, n.BaselinesBucket())
	set(&e.DeployRole, n.DeployRole())
	set(&e.PreviewRole, n.PreviewRole())
	set(&e.OracleRole, n.OracleRole())
	set(&e.NoncePrefix, n.NoncePrefix())
	if len(e.AlarmNames) == 0 {
		e.AlarmNames = n.Alarms()
	}
}

// Tables returns the table names keyed by table suffix.
func (e Env) Tables() map[string]string {
	return map[string]string{
		spec.TableFPEvents:     e.FPEventsTable,
		spec.TableConsent:      e.ConsentTable,
		spec.TableBlockCounter: e.BlockCounterTable,
	}
}

// NonceParameterPath is the SSM path holding the nonce versions.
func (e Env) NonceParameterPath() string { return spec.NoncePathOf(e.NoncePrefix) }

// FromEnv builds the target of environment env from the SPEC naming, with
// any MD_* variable (see Env's tags) overriding a name. lookuper may be nil
// for the process environment.
func FromEnv(ctx context.Context, env string, lookuper envconfig.Lookuper) (Env, error) {
	if err := spec.ValidateEnvironment(env); err != nil {
		return Env{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if lookuper == nil {
		lookuper = envconfig.OsLookuper()
	}
	var e Env
	if err := envconfig.ProcessWith(ctx, &envconfig.Config{
		Target:   &e,
		Lookuper: envconfig.PrefixLookuper(EnvPrefix, lookuper),
	}); err != nil {
		return Env{}, fmt.Errorf("%w: reading %s* overrides: %w", ErrInvalid, EnvPrefix, err)
	}
	if e.Environment != "" && e.Environment != env {
		return Env{}, fmt.Errorf("%w: %sENVIRONMENT=%q contradicts the stack's environment %q", ErrInvalid, EnvPrefix, e.Environment, env)
	}
	e.Environment = env
	e.Defaults()
	if err := e.Validate(); err != nil {
		return Env{}, err
	}
	return e, nil
}

// FromOutputs builds the target from stack outputs (SPEC 2.8). A missing
// required output is an error naming it.
func FromOutputs(out map[string]any) (Env, error) {
	str := func(k string) string {
		if v, ok := out[k].(string); ok {
			return v
		}
		return ""
	}
	e := Env{
		Environment:       str(spec.OutEnvironment),
		Region:            str(spec.OutRegion),
		FPEventsTable:     str(spec.OutFPEventsTableName),
		ConsentTable:      str(spec.OutConsentTableName),
		BlockCounterTable: str(spec.OutBlockCounterTableName),
		KMSKey:            str(spec.OutKMSKeyArn),
		KMSAlias:          str(spec.OutKMSAlias),
		TopicArn:          str(spec.OutOpsTopicArn),
		Dashboard:         str(spec.OutDashboardName),
		OIDCProviderArn:   str(spec.OutOIDCProviderArn),
		DeployRole:        str(spec.OutDeployRoleArn),
		PreviewRole:       str(spec.OutPreviewRoleArn),
		NoncePrefix:       str(spec.OutNoncePrefix),
		BaselinesBucket:   str(spec.OutBaselinesBucket),
		OracleRole:        str(spec.OutOracleRoleArn),
		VerifyQueueURL:    str(spec.OutVerifyQueueURL),
	}
	switch v := out[spec.OutAlarmNames].(type) {
	case []string:
		e.AlarmNames = v
	case []any:
		for _, a := range v {
			if s, ok := a.(string); ok {
				e.AlarmNames = append(e.AlarmNames, s)
			}
		}
	}
	var missing []string
	for _, k := range []string{spec.OutEnvironment, spec.OutFPEventsTableName, spec.OutConsentTableName,
		spec.OutBlockCounterTableName, spec.OutKMSKeyArn, spec.OutOpsTopicArn, spec.OutNoncePrefix} {
		if str(k) == "" {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return Env{}, fmt.Errorf("stack outputs lack %v (is the stack deployed with this version of the program?)", missing)
	}
	e.Defaults()
	return e, nil
}
