package target

import (
	"strings"
	"testing"

	"github.com/mirror-dissonance/mirror-infra/spec"
)

// FuzzValidate: for arbitrary names, Validate never panics, and a target
// of staging it accepts names nothing of production (or of the store's
// root).
func FuzzValidate(f *testing.F) {
	p := spec.For("production")
	f.Add("mirror-dissonance-staging-consent", "/guardian/staging/redaction_nonce_v", "alias/mirror-dissonance-staging", "arn:aws:sns:us-east-1:210987654321:mirror-dissonance-staging-ops-alerts", "mirror-dissonance-staging-baselines", "https://sqs.us-east-1.amazonaws.com/1/mirror-dissonance-staging-verify-alerts")
	f.Add(p.Table(spec.TableConsent), p.NoncePrefix(), p.KeyAlias(), "arn:aws:sns:us-east-1:210987654321:"+p.Topic(), p.BaselinesBucket(), "https://x/1/"+p.VerifyQueue())
	f.Add("customers", "/", "alias/aws/ssm", "x", "X", "file:///")
	f.Fuzz(func(t *testing.T, table, noncePrefix, key, topic, bucket, queue string) {
		e := Env{Environment: "staging", ConsentTable: table, NoncePrefix: noncePrefix, KMSKey: key, TopicArn: topic,
			BaselinesBucket: bucket, VerifyQueueURL: queue, AlarmNames: []string{table}, Dashboard: table, DeployRole: topic}
		if err := e.Validate(); err != nil {
			return
		}
		for _, v := range []string{table, noncePrefix, key, topic, bucket, queue} {
			if strings.Contains(v, p.Prefix()) || strings.Contains(v, p.NonceParameterPath()) || strings.HasSuffix(v, p.KeyAlias()) {
				t.Fatalf("a staging target accepted production's %q", v)
			}
		}
		if noncePrefix != "" && !strings.HasPrefix(noncePrefix, "/guardian/staging/") {
			t.Fatalf("nonce prefix %q accepted outside staging's path", noncePrefix)
		}
	})
}
