package target

import (
	"context"
	"strings"
	"testing"

	"github.com/sethvargo/go-envconfig"

	"github.com/mirror-dissonance/mirror-infra/spec"
)

func TestFromEnvDefaultsAndOverrides(t *testing.T) {
	ctx := context.Background()
	e, err := FromEnv(ctx, "staging", envconfig.MapLookuper(map[string]string{
		"MD_CONSENT_TABLE": "mirror-dissonance-staging-consent", "MD_ALARM_NAMES": "mirror-dissonance-staging-consent-read-throttle,mirror-dissonance-staging-consent-write-throttle",
	}))
	if err != nil {
		t.Fatal(err)
	}
	n := spec.For("staging")
	if e.FPEventsTable != n.Table(spec.TableFPEvents) || e.ConsentTable != n.Table(spec.TableConsent) {
		t.Errorf("tables %s %s", e.FPEventsTable, e.ConsentTable)
	}
	if len(e.AlarmNames) != 2 || e.NoncePrefix != n.NoncePrefix() {
		t.Errorf("overrides: %+v", e)
	}
	if e.NonceParameterPath() != "/guardian/staging/" {
		t.Errorf("path %s", e.NonceParameterPath())
	}
	for name, lk := range map[string]map[string]string{
		"unknown environment": {},
		"contradiction":       {"MD_ENVIRONMENT": "production"},
	} {
		env := "staging"
		if name == "unknown environment" {
			env = "qa"
		}
		if _, err := FromEnv(ctx, env, envconfig.MapLookuper(lk)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestFromOutputs(t *testing.T) {
	out := map[string]any{
		spec.OutEnvironment: "staging", spec.OutFPEventsTableName: "f", spec.OutConsentTableName: "c",
		spec.OutBlockCounterTableName: "b", spec.OutKMSKeyArn: "arn:k", spec.OutOpsTopicArn: "arn:t",
		spec.OutNoncePrefix: "/guardian/staging/redaction_nonce_v", spec.OutAlarmNames: []any{"x", "y"},
	}
	e, err := FromOutputs(out)
	if err != nil {
		t.Fatal(err)
	}
	if e.ConsentTable != "c" || e.KMSKey != "arn:k" || len(e.AlarmNames) != 2 || e.KMSAlias != "alias/mirror-dissonance-staging" {
		t.Errorf("%+v", e)
	}
	delete(out, spec.OutOpsTopicArn)
	if _, err := FromOutputs(out); err == nil || !strings.Contains(err.Error(), spec.OutOpsTopicArn) {
		t.Errorf("missing output not named: %v", err)
	}
}
