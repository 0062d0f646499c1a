package spec

import (
	"strings"
	"testing"
)

func TestNamesFollowTheSpec(t *testing.T) {
	n := For("staging")
	cases := map[string]string{
		n.Table(TableFPEvents):                  "mirror-dissonance-staging-fp-events",
		n.Table(TableConsent):                   "mirror-dissonance-staging-consent",
		n.Table(TableBlockCounter):              "mirror-dissonance-staging-block-counter",
		n.KeyAlias():                            "alias/mirror-dissonance-staging",
		n.Topic():                               "mirror-dissonance-staging-ops-alerts",
		n.Dashboard():                           "mirror-dissonance-staging",
		n.ReadThrottleAlarm(TableFPEvents):      "mirror-dissonance-staging-fp-events-read-throttle",
		n.WriteThrottleAlarm(TableBlockCounter): "mirror-dissonance-staging-block-counter-write-throttle",
		n.DeployRole():                          "mirror-dissonance-staging-github-deploy",
		n.PreviewRole():                         "mirror-dissonance-staging-github-preview",
		n.NoncePrefix():                         "/guardian/staging/redaction_nonce_v",
		n.NonceParameter(12):                    "/guardian/staging/redaction_nonce_v12",
	}
	for got, want := range cases {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
	if len(n.Alarms()) != 6 || len(n.Tables()) != 3 {
		t.Errorf("%d alarms, %d tables", len(n.Alarms()), len(n.Tables()))
	}
}

func TestValidateEnvironment(t *testing.T) {
	for _, ok := range []string{"staging", "production", "local"} {
		if err := ValidateEnvironment(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "qa", "Staging", "staging "} {
		err := ValidateEnvironment(bad)
		if err == nil || !strings.Contains(err.Error(), "allowed") {
			t.Errorf("%q: %v, want an error listing the allowed values", bad, err)
		}
	}
}
