package target

import (
	"context"
	"strings"
	"testing"

	"github.com/sethvargo/go-envconfig"
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
		{"an emulator's own names", map[string]string{"MD_FP_EVENTS_TABLE": "mirror-dissonance-t1234-fp-events", "MD_NONCE_PREFIX": "/guardian/t1234/redaction_nonce_v"}, ""},
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
