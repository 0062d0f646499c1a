package verify

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/mirror-dissonance/mirror-infra/emulator"
	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/spec"
)

// TestOIDCOracleRole: the oidc check reads the Oracle runtime role's trust
// as it reads the deploy role's (SPEC 2.6): it reports its subjects, fails
// on a trust policy that breaks the rules, on subjects other than the
// configured ones, and on a missing role.
func TestOIDCOracleRole(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		// trust replaces the Oracle role's trust policy; nil keeps the seeded one.
		trust func(s *emulator.Seeded) spec.PolicyDocument
		// subjects are Options.OracleSubjects; nil leaves them unset.
		subjects func(s *emulator.Seeded) []string
		remove   bool
		status   report.Status
		want     []string
	}{
		{name: "seeded", status: report.Pass},
		{name: "configured subjects", subjects: func(s *emulator.Seeded) []string { return s.OracleSubjects }, status: report.Pass},
		{name: "another subject than configured", subjects: func(s *emulator.Seeded) []string {
			return []string{"repo:mirror-dissonance/oracle:ref:refs/heads/main"}
		}, status: report.Fail, want: []string{"does not trust the configured subject", "which the configuration (oracleSubjects) does not name"}},
		{name: "two audiences", trust: func(s *emulator.Seeded) spec.PolicyDocument {
			d := spec.TrustPolicy(s.OIDCProviderArn, s.OracleSubjects)
			d.Statement[0].Condition["StringEquals"][spec.OIDCAudienceKey] = []any{spec.GitHubOIDCAudience, "other"}
			return d
		}, status: report.Fail, want: []string{"requires audience"}},
		{name: "wildcard subject", trust: func(s *emulator.Seeded) spec.PolicyDocument {
			return spec.TrustPolicy(s.OIDCProviderArn, []string{"repo:mirror-dissonance/oracle:*"})
		}, status: report.Fail, want: []string{"wildcard"}},
		{name: "no sub condition", trust: func(s *emulator.Seeded) spec.PolicyDocument {
			d := spec.TrustPolicy(s.OIDCProviderArn, s.OracleSubjects)
			delete(d.Statement[0].Condition["StringEquals"], spec.OIDCSubjectKey)
			return d
		}, status: report.Fail, want: []string{"no sub condition"}},
		{name: "pull_request", trust: func(s *emulator.Seeded) spec.PolicyDocument {
			return spec.TrustPolicy(s.OIDCProviderArn, append(s.OracleSubjects, "repo:mirror-dissonance/oracle:pull_request"))
		}, status: report.Fail, want: []string{"write role but trusts", "pull_request"}},
		{name: "missing", remove: true, status: report.Fail, want: []string{"does not exist"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, c, s := setup(t, emulator.SeedOptions{SkipNonce: true})
			ic := iam.NewFromConfig(s.Config)
			role := s.Names.OracleRole()
			if tc.trust != nil {
				doc, err := tc.trust(s).JSON()
				if err != nil {
					t.Fatal(err)
				}
				if _, err := ic.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String(role), PolicyDocument: aws.String(doc)}); err != nil {
					t.Fatal(err)
				}
			}
			if tc.remove {
				if _, err := ic.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String(role)}); err != nil {
					t.Fatal(err)
				}
			}
			opts := testOptions
			if tc.subjects != nil {
				opts.OracleSubjects = tc.subjects(s)
			}
			ch := RunCheck(ctx, c, s.Target(), IDOIDC, opts)
			if ch.Status != tc.status {
				t.Fatalf("status %s (%s), want %s", ch.Status, ch.Reason, tc.status)
			}
			for _, w := range append(tc.want, role) {
				if tc.status == report.Pass {
					break
				}
				if !strings.Contains(ch.Reason, w) {
					t.Errorf("reason %q lacks %q", ch.Reason, w)
				}
			}
			if tc.remove && !strings.Contains(ch.Fix, "OracleRole") {
				t.Errorf("fix %q does not name the target's OracleRole", ch.Fix)
			}
			if tc.status == report.Pass {
				if got, want := ch.Details[role], "trusts "+strings.Join(s.OracleSubjects, ", "); got != want {
					t.Errorf("details of %s = %q, want %q", role, got, want)
				}
			}
		})
	}
}
