package verify

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/spec"
)

func (s *session) providerArn() (string, error) {
	return s.fromAccount(s.t.OIDCProviderArn, spec.Account.OIDCProviderArn)
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
		ref     string
		preview bool
	}{{s.t.DeployRole, false}, {s.t.PreviewRole, true}} {
		name := roleName(r.ref)
		out, err := s.c.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
		switch {
		case isNotFound(err):
			f.fail(s.fixMissing("DeployRole, PreviewRole", "MD_DEPLOY_ROLE, MD_PREVIEW_ROLE"), "role %s does not exist", name)
			continue
		case err != nil:
			f.err("reading role "+name, err)
			continue
		}
		if d := aws.ToInt32(out.Role.MaxSessionDuration); d > spec.RoleSessionSeconds {
			f.fail("set the role's maximum session to 1 hour", "role %s allows sessions of %d s, want at most %d", name, d, spec.RoleSessionSeconds)
		}
		subs, problems := trustProblems(aws.ToString(out.Role.AssumeRolePolicyDocument), provider, r.preview)
		for _, pr := range problems {
			f.fail("restrict the trust policy (exact audience, exact sub values; deploy roles never trust pull_request): "+fixDeploy,
				"role %s %s", name, pr)
		}
		f.details[name] = "trusts " + strings.Join(subs, ", ")
	}
	return f.result("the GitHub OIDC provider and the deploy and preview role trust are as the stack declares them")
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

// nonceVersion is one nonce parameter as the nonce check sees it.
type nonceVersion struct {
	n     int
	name  string
	meta  ssmtypes.ParameterMetadata
	valid bool
}

func (s *session) checkNonce(ctx context.Context) report.Check {
	f := newFindings(IDNonce)
	prefix := s.t.NoncePrefix
	var versions []nonceVersion
	in := &ssm.DescribeParametersInput{
		ParameterFilters: []ssmtypes.ParameterStringFilter{{Key: aws.String("Name"), Option: aws.String("BeginsWith"), Values: []string{prefix}}},
		MaxResults:       aws.Int32(50),
	}
	for {
		out, err := s.c.SSM.DescribeParameters(ctx, in)
		if err != nil {
			f.err("listing parameters under "+s.t.NonceParameterPath(), err)
			return f.result("")
		}
		for _, p := range out.Parameters {
			n, ok := spec.NonceVersionOf(prefix, aws.ToString(p.Name))
			if !ok {
				continue // only redaction_nonce_v<digits> counts
			}
			versions = append(versions, nonceVersion{n: n, name: aws.ToString(p.Name), meta: p})
		}
		if aws.ToString(out.NextToken) == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	rotateFix := "write a new nonce version (oracle/nonce: Store.Bootstrap or Store.Rotate; in mirror-infra: go run ./automation nonce rotate <stack> --from <newest version, 0 if none>)"
	if len(versions) == 0 {
		f.fail("check target.Env.NoncePrefix (MD_NONCE_PREFIX); if it is right, "+rotateFix, "no nonce version under %s (want %s<N> parameters)", s.t.NonceParameterPath(), prefix)
		return f.result("")
	}
	sort.Slice(versions, func(i, j int) bool { return versions[i].n > versions[j].n })
	// The grace rule of SPEC 4 decides which versions are still valid.
	byCreation := make([]spec.NonceVersion, len(versions))
	for i, v := range versions {
		byCreation[i] = spec.NonceVersion{N: v.n, Created: aws.ToTime(v.meta.LastModifiedDate)}
	}
	validNs := spec.ValidNonceVersions(byCreation, s.opts.Now(), s.opts.NonceGrace)
	var validNames, valid, expired []string
	for i, v := range versions {
		versions[i].valid = slices.Contains(validNs, v.n)
		if versions[i].valid {
			validNames, valid = append(validNames, v.name), append(valid, "v"+strconv.Itoa(v.n))
		} else {
			expired = append(expired, "v"+strconv.Itoa(v.n))
		}
	}
	cmk, cmkErr := s.cmk()
	for _, v := range versions {
		if !v.valid {
			continue
		}
		if v.meta.Type != ssmtypes.ParameterTypeSecureString {
			f.fail("recreate it as a SecureString under the environment CMK ("+rotateFix+")", "%s is a %s, not a SecureString", v.name, v.meta.Type)
			continue
		}
		keyRef := aws.ToString(v.meta.KeyId)
		if cmkErr != nil {
			f.warn("see the kms check", "%s uses key %s; not compared: the environment CMK could not be described", v.name, keyRef)
			continue
		}
		ok, err := s.keyMatches(keyRef, cmk)
		if err != nil {
			f.err("resolving the key of "+v.name, err)
			continue
		}
		if !ok {
			f.fail("rewrite it under the environment CMK ("+rotateFix+")", "%s is encrypted with %s, not the environment CMK %s", v.name, orDefault(keyRef, "an unknown key"), cmk.Arn)
		}
	}
	// Values are fetched only to test their format; they go no further
	// than this loop.
	for start := 0; start < len(validNames); start += 10 {
		batch := validNames[start:min(start+10, len(validNames))]
		out, err := s.c.SSM.GetParameters(ctx, &ssm.GetParametersInput{Names: batch, WithDecryption: aws.Bool(true)})
		if err != nil {
			f.err("reading the nonce values (with decryption)", err)
			break
		}
		for _, p := range out.Parameters {
			if !spec.ValidNonceValue(aws.ToString(p.Value)) {
				f.fail(rotateFix, "%s is not 64 lowercase hex characters", aws.ToString(p.Name))
			}
		}
		for _, name := range out.InvalidParameters {
			f.fail(rotateFix, "%s disappeared while being checked", name)
		}
	}
	f.details["newest"] = versions[0].name
	f.details["valid"] = strings.Join(valid, ", ")
	if len(expired) > 0 {
		f.details["expired"] = strings.Join(expired, ", ") + fmt.Sprintf(" (past the %s grace period; rejected)", s.opts.NonceGrace)
	}
	return f.result(fmt.Sprintf("nonce v%d is a valid SecureString under the environment CMK", versions[0].n))
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
