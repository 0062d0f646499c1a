package emulator

import (
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/mirror-dissonance/mirror-infra/spec"
	"github.com/mirror-dissonance/mirror-infra/verify/target"
)

// Seeded describes what Seed created.
type Seeded struct {
	// Config is the client config Seed used: clients built from it reach
	// the seeded environment.
	Config          aws.Config
	Env             string
	Names           spec.Names
	KeyArn          string
	KeyID           string
	OtherKeyArn     string
	TopicArn        string
	QueueURL        string
	OIDCProviderArn string
	DeployRoleArn   string
	PreviewRoleArn  string
	OracleRoleArn   string
	// OracleSubjects are the subjects the Oracle role trusts (the stack
	// config's oracleSubjects).
	OracleSubjects []string
	// NonceValue is the secret written as v1 (empty for DefectNonceMissing).
	// It exists so tests can scan every output for it; never print it.
	NonceValue string
	Defects    []Defect
}

// Has reports whether d was seeded.
func (s *Seeded) Has(d Defect) bool {
	for _, x := range s.Defects {
		if x == d {
			return true
		}
	}
	return false
}

// Target is the verifier target of the seeded environment, as stack outputs
// would give it.
func (s *Seeded) Target() target.Env {
	t := target.Env{
		Environment:       s.Env,
		Region:            Region,
		FPEventsTable:     s.Names.Table(spec.TableFPEvents),
		ConsentTable:      s.Names.Table(spec.TableConsent),
		BlockCounterTable: s.Names.Table(spec.TableBlockCounter),
		KMSKey:            s.KeyArn,
		KMSAlias:          s.Names.KeyAlias(),
		TopicArn:          s.TopicArn,
		OIDCProviderArn:   s.OIDCProviderArn,
		DeployRole:        s.DeployRoleArn,
		PreviewRole:       s.PreviewRoleArn,
		OracleRole:        s.OracleRoleArn,
		NoncePrefix:       s.Names.NoncePrefix(),
		BaselinesBucket:   s.Names.BaselinesBucket(),
		VerifyQueueURL:    s.QueueURL,
	}
	t.Defaults()
	return t
}

// EnvOverrides returns the MD_* variables (target.FromEnv) that point a
// --from-env run of any known environment name at this seeded environment,
// e.g. "verify local --from-env" at a randomly named one.
func (s *Seeded) EnvOverrides() []string {
	t := s.Target()
	p := target.EnvPrefix
	return []string{
		p + "FP_EVENTS_TABLE=" + t.FPEventsTable,
		p + "CONSENT_TABLE=" + t.ConsentTable,
		p + "BLOCK_COUNTER_TABLE=" + t.BlockCounterTable,
		p + "KMS_KEY=" + t.KMSKey,
		p + "KMS_ALIAS=" + t.KMSAlias,
		p + "OPS_TOPIC_ARN=" + t.TopicArn,
		p + "OPS_TOPIC_NAME=" + t.TopicName,
		p + "ALARM_NAMES=" + strings.Join(t.AlarmNames, ","),
		p + "DASHBOARD_NAME=" + t.Dashboard,
		p + "OIDC_PROVIDER_ARN=" + t.OIDCProviderArn,
		p + "DEPLOY_ROLE=" + t.DeployRole,
		p + "PREVIEW_ROLE=" + t.PreviewRole,
		p + "ORACLE_ROLE=" + t.OracleRole,
		p + "NONCE_PREFIX=" + t.NoncePrefix,
		p + "BASELINES_BUCKET=" + t.BaselinesBucket,
		p + "VERIFY_QUEUE_URL=" + t.VerifyQueueURL,
	}
}

// Env returns the environment variables that point the CLI (target.FromEnv,
// the SDK) at this emulator and environment.
func (e *Emulator) Env(s *Seeded) []string {
	vars := []string{
		"AWS_ENDPOINT_URL=" + e.URL,
		"AWS_REGION=" + Region,
		"AWS_ACCESS_KEY_ID=test",
		"AWS_SECRET_ACCESS_KEY=test",
	}
	if s != nil && s.QueueURL != "" {
		vars = append(vars, target.EnvPrefix+"VERIFY_QUEUE_URL="+s.QueueURL)
	}
	return vars
}
