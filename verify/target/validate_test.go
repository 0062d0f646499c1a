package target

import (
	"context"
	"strings"
	"testing"

	"github.com/sethvargo/go-envconfig"

	"github.com/mirror-dissonance/mirror-infra/spec"
)

// TestFromEnvRefusesForeignAndRootNames: overrides may rename resources
// within the environment, never point at another environment's or at the
// parameter store's root, and the error names the variable and the value.
func TestFromEnvRefusesForeignAndRootNames(t *testing.T) {
	cases := []struct {
		name string
		vars map[string]string
		want string // substring of the error; "" accepts
	}{
		{"SPEC names", nil, ""},
		{"another name of the environment's own", map[string]string{"MD_FP_EVENTS_TABLE": "mirror-dissonance-staging-fp-events", "MD_NONCE_PREFIX": "/guardian/staging/redaction_nonce_v"}, ""},
		{"an emulator's names outside local", map[string]string{"MD_FP_EVENTS_TABLE": "mirror-dissonance-t1234-fp-events"}, `environment "t1234"`},
		{"nonce prefix at the root", map[string]string{"MD_NONCE_PREFIX": "/"}, `MD_NONCE_PREFIX = "/"`},
		{"nonce prefix one folder deep", map[string]string{"MD_NONCE_PREFIX": "/redaction_nonce_v"}, "MD_NONCE_PREFIX"},
		{"nonce prefix of production", map[string]string{"MD_NONCE_PREFIX": "/guardian/production/redaction_nonce_v"}, `environment "production"`},
		{"nonce prefix with another base", map[string]string{"MD_NONCE_PREFIX": "/guardian/staging/other_v"}, "redaction_nonce_v"},
		{"production's consent table", map[string]string{"MD_CONSENT_TABLE": "mirror-dissonance-production-consent"}, `MD_CONSENT_TABLE = "mirror-dissonance-production-consent"`},
		{"an AWS-managed key", map[string]string{"MD_KMS_KEY": "alias/aws/ssm"}, "AWS-managed"},
		{"production's key", map[string]string{"MD_KMS_KEY": "alias/mirror-dissonance-production"}, `environment "production"`},
		{"a huge value is quoted short", map[string]string{"MD_CONSENT_TABLE": "mirror-dissonance-production-" + strings.Repeat("x", 5000)}, "(5029 characters)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := FromEnv(context.Background(), "staging", envconfig.MapLookuper(tc.vars))
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			case err != nil && len(err.Error()) > 600:
				t.Errorf("the error is %d bytes: a bad value must be quoted short", len(err.Error()))
			}
		})
	}
}

// "local" is for emulators: it may name a random t<hex> environment, never
// a known one or an acceptance run.
func TestLocalNamesEmulatorEnvironments(t *testing.T) {
	ctx := context.Background()
	for vars, ok := range map[string]bool{
		"mirror-dissonance-t1a2b-fp-events":   true,
		"mirror-dissonance-staging-fp-events": false,
		"mirror-dissonance-acc-r1-fp-events":  false,
	} {
		_, err := FromEnv(ctx, "local", envconfig.MapLookuper(map[string]string{"MD_FP_EVENTS_TABLE": vars}))
		if (err == nil) != ok {
			t.Errorf("%s: error %v", vars, err)
		}
	}
}

// ForeignValues are, per MD_* variable, values a staging run must refuse:
// production's resource (finding 1 of issue 21) or a name that breaks
// AWS's rules or belongs to nothing of this project.
// ForeignValue is one refused value of an MD_* variable and a substring
// of its refusal.
type ForeignValue struct{ Variable, Value, Want string }

func ForeignValues() []ForeignValue {
	p := spec.For("production")
	acct := spec.Account{ID: "210987654321", Region: spec.DefaultRegion}
	return []ForeignValue{
		{"MD_FP_EVENTS_TABLE", p.Table(spec.TableFPEvents), `environment "production"`},
		{"MD_CONSENT_TABLE", p.Table(spec.TableConsent), `environment "production"`},
		{"MD_CONSENT_TABLE", "customers", "not a table of this project"},
		{"MD_CONSENT_TABLE", "mirror-dissonance-staging-con sent", "not a DynamoDB table name"},
		{"MD_BLOCK_COUNTER_TABLE", p.Table(spec.TableBlockCounter), `environment "production"`},
		{"MD_NONCE_PREFIX", p.NoncePrefix(), `environment "production"`},
		{"MD_NONCE_PREFIX", "/", "root"},
		{"MD_KMS_KEY", p.KeyAlias(), `environment "production"`},
		{"MD_KMS_KEY", acct.KeyAliasArn(p.KeyAlias()), `environment "production"`},
		{"MD_KMS_KEY", "alias/aws/ssm", "AWS-managed"},
		{"MD_KMS_KEY", "customers", "a key id"},
		{"MD_KMS_ALIAS", p.KeyAlias(), `environment "production"`},
		{"MD_OPS_TOPIC_ARN", acct.TopicArn(p.Topic()), `environment "production"`},
		{"MD_OPS_TOPIC_ARN", "arn:aws:sns:eu-west-1:210987654321:" + spec.For("staging").Topic(), "region eu-west-1"},
		{"MD_OPS_TOPIC_ARN", "not-an-arn", "not an sns ARN"},
		{"MD_OPS_TOPIC_NAME", p.Topic(), `environment "production"`},
		{"MD_ALARM_NAMES", strings.Join(p.Alarms(), ","), `environment "production"`},
		{"MD_ALARM_NAMES", "billing-alarm", "not a throttle alarm"},
		{"MD_DASHBOARD_NAME", p.Dashboard(), `environment "production"`},
		{"MD_BASELINES_BUCKET", p.BaselinesBucket(), `environment "production"`},
		{"MD_BASELINES_BUCKET", "Mirror_Bucket", "not an S3 bucket name"},
		{"MD_DEPLOY_ROLE", p.DeployRole(), `environment "production"`},
		{"MD_DEPLOY_ROLE", acct.RoleArn(p.DeployRole()), `environment "production"`},
		{"MD_PREVIEW_ROLE", p.PreviewRole(), `environment "production"`},
		{"MD_ORACLE_ROLE", acct.RoleArn(p.OracleRole()), `environment "production"`},
		{"MD_OIDC_PROVIDER_ARN", "arn:aws:iam::210987654321:oidc-provider/evil.example.com", spec.GitHubOIDCHost},
		{"MD_VERIFY_QUEUE_URL", "https://sqs.us-east-1.amazonaws.com/210987654321/" + p.VerifyQueue(), `not a queue of environment "staging"`},
		{"MD_VERIFY_QUEUE_URL", "file:///etc/passwd", "SQS queue URL"},
		{"MD_AWS_REGION", "zz-fake-9", "MD_AWS_REGION"},
		{"MD_ENVIRONMENT", "production", "contradicts"},
	}
}

// Per variable, FromEnv refuses the value with an error naming the
// variable (issue 21, finding 1).
func TestFromEnvRefusesEveryForeignVariable(t *testing.T) {
	for _, tc := range ForeignValues() {
		t.Run(tc.Variable+"="+tc.Value, func(t *testing.T) {
			vars := map[string]string{"MD_AWS_REGION": spec.DefaultRegion, tc.Variable: tc.Value}
			_, err := FromEnv(context.Background(), "staging", envconfig.MapLookuper(vars))
			if err == nil || !strings.Contains(err.Error(), tc.Variable) || !strings.Contains(err.Error(), tc.Want) {
				t.Fatalf("error %v, want one naming %s and %q", err, tc.Variable, tc.Want)
			}
		})
	}
}
