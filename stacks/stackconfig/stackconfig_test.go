package stackconfig

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mirror-dissonance/mirror-infra/report"
)

func valid() map[string]string {
	return map[string]string{
		"mirror-dissonance:environment":      "staging",
		"mirror-dissonance:githubRepository": "acme/mirror-infra",
		"mirror-dissonance:oracleSubjects":   `["repo:acme/oracle:ref:refs/heads/main"]`,
		"aws:region":                         "us-east-1",
	}
}

func TestParseValidDefaults(t *testing.T) {
	c, err := Parse("staging", valid())
	if err != nil {
		t.Fatal(err)
	}
	if c.ThrottleThreshold != 10 || !c.DeletionProtection || c.KMSDeletionWindow != 30 || c.Region != "us-east-1" ||
		c.NonceRotationDays != 90 || c.NonceKeepVersions != 3 || c.RestoreTimeTargetMinutes != 60 || c.RecoveryPointTargetMinutes != 15 {
		t.Errorf("defaults: %+v", c)
	}
	// Only the environment: a bare main-branch subject could be presented
	// by any job on main.
	want := []string{"repo:acme/mirror-infra:environment:staging"}
	if strings.Join(c.DeploySubjects, ",") != strings.Join(want, ",") {
		t.Errorf("default subjects %v, want %v", c.DeploySubjects, want)
	}
	if c.PreviewSubject() != "repo:acme/mirror-infra:pull_request" {
		t.Errorf("preview subject %s", c.PreviewSubject())
	}
}

func TestParseRejectsBadValues(t *testing.T) {
	cases := []struct {
		name      string
		set       map[string]string
		drop      string
		wantKey   string
		wantValue string
	}{
		{name: "missing environment", drop: "mirror-dissonance:environment", wantKey: "mirror-dissonance:environment"},
		{name: "unknown environment", set: map[string]string{"mirror-dissonance:environment": "qa"}, wantKey: "mirror-dissonance:environment", wantValue: `"qa"`},
		{name: "bad email", set: map[string]string{"mirror-dissonance:alertEmail": "ops@"}, wantKey: "mirror-dissonance:alertEmail", wantValue: `"ops@"`},
		{name: "email with display name", set: map[string]string{"mirror-dissonance:alertEmail": "Ops <ops@example.com>"}, wantKey: "mirror-dissonance:alertEmail"},
		{name: "threshold zero", set: map[string]string{"mirror-dissonance:throttleThreshold": "0"}, wantKey: "mirror-dissonance:throttleThreshold", wantValue: `"0"`},
		{name: "threshold negative", set: map[string]string{"mirror-dissonance:throttleThreshold": "-5"}, wantKey: "mirror-dissonance:throttleThreshold"},
		{name: "threshold not numeric", set: map[string]string{"mirror-dissonance:throttleThreshold": "ten"}, wantKey: "mirror-dissonance:throttleThreshold", wantValue: `"ten"`},
		{name: "deletion window too short", set: map[string]string{"mirror-dissonance:kmsDeletionWindowDays": "6"}, wantKey: "mirror-dissonance:kmsDeletionWindowDays"},
		{name: "deletion window too long", set: map[string]string{"mirror-dissonance:kmsDeletionWindowDays": "31"}, wantKey: "mirror-dissonance:kmsDeletionWindowDays"},
		{name: "malformed repository", set: map[string]string{"mirror-dissonance:githubRepository": "acme"}, wantKey: "mirror-dissonance:githubRepository", wantValue: `"acme"`},
		{name: "missing repository", drop: "mirror-dissonance:githubRepository", wantKey: "mirror-dissonance:githubRepository"},
		{name: "wildcard subject", set: map[string]string{"mirror-dissonance:githubSubjects": `["repo:acme/mirror-infra:*"]`}, wantKey: "mirror-dissonance:githubSubjects", wantValue: "repo:acme/mirror-infra:*"},
		{name: "pull_request subject on deploy role", set: map[string]string{"mirror-dissonance:githubSubjects": `["repo:acme/mirror-infra:pull_request"]`}, wantKey: "mirror-dissonance:githubSubjects"},
		{name: "subject of another repository", set: map[string]string{"mirror-dissonance:githubSubjects": `["repo:evil/fork:ref:refs/heads/main"]`}, wantKey: "mirror-dissonance:githubSubjects"},
		{name: "subjects not a list", set: map[string]string{"mirror-dissonance:githubSubjects": `repo:acme/mirror-infra:ref:refs/heads/main`}, wantKey: "mirror-dissonance:githubSubjects"},
		{name: "production without deletion protection", set: map[string]string{"mirror-dissonance:environment": "production", "mirror-dissonance:deletionProtection": "false"}, wantKey: "mirror-dissonance:deletionProtection"},
		{name: "deletion protection not a bool", set: map[string]string{"mirror-dissonance:deletionProtection": "maybe"}, wantKey: "mirror-dissonance:deletionProtection"},
		{name: "rotation age zero", set: map[string]string{"mirror-dissonance:nonceRotationDays": "0"}, wantKey: "mirror-dissonance:nonceRotationDays", wantValue: `"0"`},
		{name: "rotation age of years", set: map[string]string{"mirror-dissonance:nonceRotationDays": "3650"}, wantKey: "mirror-dissonance:nonceRotationDays"},
		{name: "restore time target under a real restore", set: map[string]string{"mirror-dissonance:restoreTimeTargetMinutes": "19"}, wantKey: "mirror-dissonance:restoreTimeTargetMinutes", wantValue: `"19"`},
		{name: "restore time target over a day", set: map[string]string{"mirror-dissonance:restoreTimeTargetMinutes": "1441"}, wantKey: "mirror-dissonance:restoreTimeTargetMinutes"},
		{name: "restore time target not minutes", set: map[string]string{"mirror-dissonance:restoreTimeTargetMinutes": "1h"}, wantKey: "mirror-dissonance:restoreTimeTargetMinutes", wantValue: `"1h"`},
		{name: "recovery point target under the restorable lag", set: map[string]string{"mirror-dissonance:recoveryPointTargetMinutes": "5"}, wantKey: "mirror-dissonance:recoveryPointTargetMinutes", wantValue: `"5"`},
		{name: "recovery point target over a day", set: map[string]string{"mirror-dissonance:recoveryPointTargetMinutes": "1441"}, wantKey: "mirror-dissonance:recoveryPointTargetMinutes"},
		{name: "keep no version", set: map[string]string{"mirror-dissonance:nonceKeepVersions": "0"}, wantKey: "mirror-dissonance:nonceKeepVersions"},
		{name: "threshold no throttle metric reaches", set: map[string]string{"mirror-dissonance:throttleThreshold": "9223372036854775807"}, wantKey: "mirror-dissonance:throttleThreshold"},
		{name: "staging trusting production's workflows", set: map[string]string{"mirror-dissonance:githubSubjects": `["repo:acme/mirror-infra:environment:production"]`}, wantKey: "mirror-dissonance:githubSubjects", wantValue: "environment:production"},
		{name: "bad region", set: map[string]string{"aws:region": "mars-1"}, wantKey: "aws:region", wantValue: `"mars-1"`},
		{name: "malformed provider ARN", set: map[string]string{"mirror-dissonance:oidcProviderArn": "arn:aws:iam::1:oidc-provider/x"}, wantKey: "mirror-dissonance:oidcProviderArn"},
		{name: "create and ARN together", set: map[string]string{"mirror-dissonance:createOidcProvider": "true", "mirror-dissonance:oidcProviderArn": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"}, wantKey: "mirror-dissonance:oidcProviderArn"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			raw := valid()
			delete(raw, tc.drop)
			for k, v := range tc.set {
				raw[k] = v
			}
			_, err := Parse("staging", raw)
			if err == nil {
				t.Fatal("accepted")
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %v is not a *stackconfig.Error", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.wantKey) {
				t.Errorf("error %q does not name key %s", msg, tc.wantKey)
			}
			if tc.wantValue != "" && !strings.Contains(msg, tc.wantValue) {
				t.Errorf("error %q does not name value %s", msg, tc.wantValue)
			}
			if !strings.Contains(msg, "missing") && !strings.Contains(msg, "invalid") {
				t.Errorf("error %q does not say what is wrong", msg)
			}
		})
	}
}

func TestParseReportsEveryProblem(t *testing.T) {
	raw := valid()
	raw["mirror-dissonance:throttleThreshold"] = "0"
	raw["mirror-dissonance:kmsDeletionWindowDays"] = "99"
	_, err := Parse("staging", raw)
	if err == nil || !strings.Contains(err.Error(), "throttleThreshold") || !strings.Contains(err.Error(), "kmsDeletionWindowDays") {
		t.Fatalf("want both problems in one error, got %v", err)
	}
}

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	write := func(stack, body string) {
		if err := os.WriteFile(filepath.Join(dir, "Pulumi."+stack+".yaml"), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("good", "config:\n  mirror-dissonance:environment: staging\n  mirror-dissonance:githubRepository: acme/x\n  mirror-dissonance:githubSubjects:\n    - repo:acme/x:ref:refs/heads/main\n  mirror-dissonance:throttleThreshold: 5\n  mirror-dissonance:oracleSubjects:\n    - repo:acme/oracle:ref:refs/heads/main\n")
	write("typo", "config:\n  mirror-dissonance:enviroment: staging\n")
	write("broken", "config: [unclosed\n")
	write("secret", "config:\n  mirror-dissonance:alertEmail:\n    secure: AAAA\n")

	c, err := Load(dir, "good")
	if err != nil {
		t.Fatal(err)
	}
	if c.ThrottleThreshold != 5 || len(c.DeploySubjects) != 1 {
		t.Errorf("parsed %+v", c)
	}
	for stack, want := range map[string]string{
		"typo":    "unknown key mirror-dissonance:enviroment: did you mean mirror-dissonance:environment?",
		"broken":  "not valid YAML",
		"secret":  "is a secret",
		"missing": "available stacks: broken, good, secret, typo",
		"../etc":  `config stack = "../etc" is invalid`,
	} {
		if _, err := Load(dir, stack); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("stack %s: error %v, want it to contain %q", stack, err, want)
		}
	}
}

func TestShippedStacks(t *testing.T) {
	for stack, window := range map[string]int{"staging": 7, "production": 30} {
		c, err := Load("../..", stack)
		if err != nil {
			t.Fatalf("%s: %v", stack, err)
		}
		if c.Environment != stack || c.KMSDeletionWindow != window || !c.DeletionProtection {
			t.Errorf("%s: %+v", stack, c)
		}
	}
}

func TestOracleSubjectsAndVerificationQueue(t *testing.T) {
	base := func(env string, extra map[string]string) map[string]string {
		m := map[string]string{
			"mirror-dissonance:environment":      env,
			"mirror-dissonance:githubRepository": "acme/infra",
			"mirror-dissonance:oracleSubjects":   `["repo:acme/oracle:ref:refs/heads/main"]`,
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	cases := []struct {
		name, env string
		extra     map[string]string
		wantErr   string
		wantQueue bool
	}{
		{"staging queue on by default", "staging", nil, "", true},
		{"production queue off by default", "production", nil, "", false},
		{"production may turn it on", "production", map[string]string{"mirror-dissonance:verificationQueue": "true"}, "", true},
		{"bad flag", "staging", map[string]string{"mirror-dissonance:verificationQueue": "yes please"}, "verificationQueue", false},
		{"exact oracle subject", "staging", map[string]string{"mirror-dissonance:oracleSubjects": `["repo:acme/oracle:environment:oracle-e2e"]`}, "", true},
		{"wildcard oracle subject", "staging", map[string]string{"mirror-dissonance:oracleSubjects": `["repo:acme/oracle:*"]`}, "oracleSubjects", false},
		{"pull_request oracle subject", "staging", map[string]string{"mirror-dissonance:oracleSubjects": `["repo:acme/oracle:pull_request"]`}, "oracleSubjects", false},
		{"another environment's subject", "staging", map[string]string{"mirror-dissonance:oracleSubjects": `["repo:acme/oracle:environment:production"]`}, "oracleSubjects", false},
		{"no oracle subject", "staging", map[string]string{"mirror-dissonance:oracleSubjects": ""}, "mirror-dissonance:oracleSubjects is missing", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse(tc.env, base(tc.env, tc.extra))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("want an error naming %s, got %v", tc.wantErr, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.VerificationQueue != tc.wantQueue {
				t.Errorf("verificationQueue %t, want %t", c.VerificationQueue, tc.wantQueue)
			}
		})
	}
}

func TestErrorsQuoteAtMost200Characters(t *testing.T) {
	raw := valid()
	raw["mirror-dissonance:alertEmail"] = strings.Repeat("x", 20<<20) // 20 MB
	_, err := Parse("staging", raw)
	if err == nil {
		t.Fatal("accepted")
	}
	if n := len(err.Error()); n > 1000 {
		t.Errorf("the error is %d bytes long; a bad value is quoted to %d characters", n, report.MaxQuoted)
	}
	if !strings.Contains(err.Error(), "(20971520 characters)") {
		t.Errorf("the error does not say how long the value was: %.300s", err)
	}
}

func TestPlaintextCredentialsAreRefused(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"plain":  "config:\n  aws:secretKey: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
		"access": "config:\n  aws:accessKey: AKIAIOSFODNN7EXAMPLE\n",
		"secure": "config:\n  aws:secretKey:\n    secure: AAABAK1cJ5\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, "Pulumi."+name+".yaml"), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, stack := range []string{"plain", "access"} {
		_, err := ReadFile(dir, stack)
		if err == nil || !strings.Contains(err.Error(), "plain text") || !strings.Contains(err.Error(), "--secret") {
			t.Errorf("%s: %v, want a refusal pointing to --secret and the credential chain", stack, err)
		}
		if err != nil && (strings.Contains(err.Error(), "EXAMPLEKEY") || strings.Contains(err.Error(), "AKIA")) {
			t.Errorf("%s: the error repeats the credential: %v", stack, err)
		}
	}
	if _, err := ReadFile(dir, "secure"); err != nil {
		t.Errorf("an encrypted provider credential is the provider's business: %v", err)
	}
}
