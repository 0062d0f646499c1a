package verify

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/spec"
)

// IDOIDC is the id of the oidc check.
const IDOIDC = "oidc"

func init() {
	register(check{Entry: Entry{ID: IDOIDC, Writes: false,
		Summary: "the GitHub OIDC provider and the roles' trust are as declared",
		Catches: []string{"oidc-provider-missing", "oidc-pull-request", "oidc-wildcard", "oidc-oracle-pull-request"}},
		rank: 90, run: (*session).checkOIDC})
}

func (s *session) providerArn() (string, error) {
	return s.fromAccount(s.tgt.OIDCProviderArn, spec.Account.OIDCProviderArn)
}

// roleName accepts a role name or ARN.
func roleName(ref string) string {
	if i := strings.LastIndex(ref, "/"); i >= 0 && strings.HasPrefix(ref, "arn:") {
		return ref[i+1:]
	}
	return ref
}

func (s *session) checkOIDC(ctx context.Context) report.Check {
	f := newFindings(IDOIDC)
	provider, err := s.providerArn()
	if f.failed("finding the OIDC provider ARN", err) {
		return f.result("")
	}
	p, err := s.c.IAM.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(provider)})
	if err == nil && (p == nil || p.Url == nil) {
		err = incomplete("iam:GetOpenIDConnectProvider of "+provider, "a Url")
	}
	switch {
	case isNotFound(err):
		f.fail("create the provider once per account (createOidcProvider: true in one stack) or set oidcProviderArn",
			"the GitHub OIDC provider %s does not exist", provider)
	case err != nil:
		f.err("reading the OIDC provider "+provider, err)
	default:
		if u := strings.TrimPrefix(aws.ToString(p.Url), "https://"); u != spec.GitHubOIDCHost {
			f.fail("", "OIDC provider %s has URL %s, want %s", provider, u, spec.GitHubOIDCHost)
		}
		if len(p.ClientIDList) != 1 || p.ClientIDList[0] != spec.GitHubOIDCAudience {
			f.fail("set the provider's client id list to exactly "+spec.GitHubOIDCAudience,
				"OIDC provider %s has audiences %v, want exactly [%s]", provider, p.ClientIDList, spec.GitHubOIDCAudience)
		}
		f.details["provider"] = provider
	}
	for _, r := range []struct {
		ref  string
		kind roleKind
	}{{s.tgt.DeployRole, writeRole}, {s.tgt.PreviewRole, previewRole}, {s.tgt.OracleRole, oracleRole}} {
		name := roleName(r.ref)
		out, err := s.c.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
		if err == nil && (out == nil || out.Role == nil) {
			err = incomplete("iam:GetRole of "+name, "a Role")
		}
		switch {
		case isNotFound(err):
			f.fail(s.fixMissing("DeployRole, PreviewRole, OracleRole", "MD_DEPLOY_ROLE, MD_PREVIEW_ROLE, MD_ORACLE_ROLE"), "role %s does not exist", name)
			continue
		case err != nil:
			f.err("reading role "+name, err)
			continue
		}
		if d := aws.ToInt32(out.Role.MaxSessionDuration); d > spec.RoleSessionSeconds {
			f.fail("set the role's maximum session to 1 hour", "role %s allows sessions of %d s, want at most %d", name, d, spec.RoleSessionSeconds)
		}
		subs, problems := trustProblems(aws.ToString(out.Role.AssumeRolePolicyDocument), provider, r.kind == previewRole)
		if r.kind == oracleRole && len(s.opts.OracleSubjects) > 0 {
			problems = append(problems, subjectSetProblems(subs, s.opts.OracleSubjects)...)
		}
		for _, pr := range problems {
			f.fail("restrict the trust policy (exact audience, exact sub values; deploy and Oracle roles never trust pull_request): "+fixDeploy,
				"role %s %s", name, pr)
		}
		f.details[name] = "trusts " + strings.Join(subs, ", ")
	}
	return f.result("the GitHub OIDC provider and the deploy, preview and Oracle role trust are as the stack declares them")
}

// roleKind says which trust rules of SPEC 2.6 a role follows.
type roleKind int

const (
	// writeRole (deploy) never trusts pull_request.
	writeRole roleKind = iota
	// previewRole trusts only pull_request subjects.
	previewRole
	// oracleRole writes the tables, so it is a write role too; its
	// subjects are the Oracle repository's (config oracleSubjects).
	oracleRole
)

// subjectSetProblems compares the trusted subjects with the configured
// ones: the trust must name exactly those, no more and no fewer.
func subjectSetProblems(got, want []string) []string {
	var problems []string
	have := map[string]bool{}
	for _, g := range got {
		have[g] = true
	}
	wanted := map[string]bool{}
	for _, w := range want {
		wanted[w] = true
		if !have[w] {
			problems = append(problems, fmt.Sprintf("does not trust the configured subject %q", w))
		}
	}
	for _, g := range got {
		if !wanted[g] {
			problems = append(problems, fmt.Sprintf("trusts %q, which the configuration (oracleSubjects) does not name", g))
		}
	}
	return problems
}

// trustProblems checks a role trust policy against SPEC 2.6 and returns the
// subjects it trusts and every problem found.
func trustProblems(doc, provider string, preview bool) ([]string, []string) {
	p, err := spec.ParsePolicy(doc)
	if err != nil {
		return nil, []string{"has a trust policy that is not valid JSON"}
	}
	var subs, problems []string
	allows := 0
	for _, st := range p.Statement {
		if st.Effect != "Allow" {
			continue
		}
		allows++
		if fed := st.Principals("Federated"); len(fed) != 1 || fed[0] != provider || len(st.Principal) != 1 {
			problems = append(problems, fmt.Sprintf("trusts principal %v, want only the GitHub OIDC provider %s", st.Principal, provider))
		}
		if len(st.Action) != 1 || st.Action[0] != spec.AssumeRoleWithWebIdentity {
			problems = append(problems, fmt.Sprintf("allows actions %v, want only %s", st.Action, spec.AssumeRoleWithWebIdentity))
		}
		if aud := st.ConditionValues("StringEquals", spec.OIDCAudienceKey); len(aud) != 1 || aud[0] != spec.GitHubOIDCAudience {
			problems = append(problems, fmt.Sprintf("requires audience %v, want exactly %s (StringEquals)", aud, spec.GitHubOIDCAudience))
		}
		var stSubs []string
		for _, op := range st.HasCondition(spec.OIDCSubjectKey) {
			for _, sub := range st.ConditionValues(op, spec.OIDCSubjectKey) {
				stSubs = append(stSubs, sub)
				if strings.ContainsAny(sub, "*?") || op != "StringEquals" {
					problems = append(problems, fmt.Sprintf("trusts the wildcard subject %q (%s), want exact values", sub, op))
				}
			}
		}
		if len(stSubs) == 0 {
			problems = append(problems, "has no sub condition, so any repository's workflow can assume it")
		}
		for _, sub := range stSubs {
			isPR := spec.IsPullRequestSubject(sub)
			if !preview && isPR {
				problems = append(problems, fmt.Sprintf("is a write role but trusts %q (pull requests)", sub))
			}
			if preview && !isPR {
				problems = append(problems, fmt.Sprintf("is the preview role but trusts %q, want only pull_request subjects", sub))
			}
		}
		subs = append(subs, stSubs...)
	}
	if allows == 0 {
		problems = append(problems, "has no Allow statement in its trust policy")
	}
	sort.Strings(subs)
	return subs, problems
}
