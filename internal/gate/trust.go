package gate

import (
	"slices"
	"strings"

	"github.com/mirror-dissonance/mirror-infra/spec"
)

// Rules of SPEC 5 on who may assume the roles (SPEC 2.6): GitHub's OIDC
// tokens with the one audience and exact subjects.
const (
	RuleOIDCAudience = "oidc-audience"
	RuleOIDCSubject  = "oidc-subject"
	RuleWriteRolePR  = "write-role-pull-request"
)

func init() {
	register(
		Rule{ID: RuleOIDCAudience, Description: "role trust requires aud = " + spec.GitHubOIDCAudience + " exactly, and the OIDC provider has that one audience", Check: func(p *Plan) {
			for _, r := range p.Of(TypeOIDCProvider) {
				if ids, ok := p.List(r, "clientIdLists"); ok && (len(ids) != 1 || ids[0] != spec.GitHubOIDCAudience) {
					p.Fail(r, "the OIDC provider accepts the audiences %v; only %s", ids, spec.GitHubOIDCAudience)
				}
			}
			p.federated(func(r Resource, _ string, s spec.Statement) {
				aud := s.ConditionValues("StringEquals", spec.OIDCAudienceKey)
				if len(aud) != 1 || aud[0] != spec.GitHubOIDCAudience {
					p.Fail(r, "trust must require %s = %s exactly (got %v)", spec.OIDCAudienceKey, spec.GitHubOIDCAudience, aud)
				}
				for _, op := range s.HasCondition(spec.OIDCAudienceKey) {
					if op != "StringEquals" {
						p.Fail(r, "the audience is also matched with %s %v; only StringEquals %s", op, s.ConditionValues(op, spec.OIDCAudienceKey), spec.GitHubOIDCAudience)
					}
				}
			})
		}},
		Rule{ID: RuleOIDCSubject, Description: "role trust lists exact subjects, no wildcards", Check: func(p *Plan) {
			p.federated(func(r Resource, _ string, s spec.Statement) {
				for _, op := range s.HasCondition(spec.OIDCSubjectKey) {
					if op != "StringEquals" {
						p.Fail(r, "subjects are matched with %s; only exact StringEquals is allowed", op)
					}
				}
				subs := s.ConditionValues("StringEquals", spec.OIDCSubjectKey)
				if len(subs) == 0 {
					p.Fail(r, "trust lists no exact subject: any workflow of any repository with a token could assume it")
				}
				for _, sub := range subs {
					if strings.ContainsAny(sub, "*?") {
						p.Fail(r, "subject %q has a wildcard", sub)
					}
				}
			})
		}},
		Rule{ID: RuleWriteRolePR, Description: "a write role never trusts pull_request", Check: func(p *Plan) {
			p.federated(func(r Resource, role string, s spec.Statement) {
				if role == p.Names.PreviewRole() {
					return
				}
				for _, sub := range s.ConditionValues("StringEquals", spec.OIDCSubjectKey) {
					if spec.IsPullRequestSubject(sub) {
						p.Fail(r, "role %s trusts %q: pull requests must never reach a write role", role, sub)
					}
				}
				for _, op := range s.HasCondition(spec.OIDCSubjectKey) {
					if op != "StringEquals" && slices.ContainsFunc(s.ConditionValues(op, spec.OIDCSubjectKey), spec.IsPullRequestSubject) {
						p.Fail(r, "role %s trusts pull_request subjects through %s: pull requests must never reach a write role", role, op)
					}
				}
			})
		}},
	)
}

// federated calls f with each Allow statement of a kept role's trust that
// admits a federated (OIDC) principal, with the role's name.
func (p *Plan) federated(f func(r Resource, role string, s spec.Statement)) {
	for _, r := range p.Of(TypeRole) {
		sts, ok := p.Policy(r, "assumeRolePolicy")
		if !ok {
			continue
		}
		name, _ := p.Str(r, "name")
		for _, s := range sts {
			if s.Effect == "Allow" && len(s.Principals("Federated")) > 0 {
				f(r, name, s)
			}
		}
	}
}
