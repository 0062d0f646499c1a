package gate

import "github.com/mirror-dissonance/mirror-infra/spec"

// Rules of SPEC 5 on what the role and topic policies allow.
const (
	RulePreviewReadOnly = "preview-read-only"
	RuleNoStarPolicy    = "iam-no-star"
)

func init() {
	register(
		Rule{ID: RulePreviewReadOnly, Description: "the preview role's policy only describes, gets and lists", Check: func(p *Plan) {
			for _, r := range p.Of(TypeRolePolicy) {
				if r.Name != "github-preview-policy" && !inputIs(r, "name", p.Names.PreviewRole()) && !inputIs(r, "role", p.Names.PreviewRole()) {
					continue
				}
				sts, _ := p.Policy(r, "policy")
				for _, s := range sts {
					if s.Effect != "Allow" {
						continue
					}
					if len(s.NotAction) > 0 {
						p.Fail(r, "statement %q allows every action but %v; the preview role must only describe, get, list (and decrypt the state)", s.Sid, []string(s.NotAction))
					}
					for _, a := range s.Action {
						if spec.IsWrite(a) {
							p.Fail(r, "the preview role may %s; it must only describe, get, list (and decrypt the state)", a)
						}
					}
				}
			}
		}},
		Rule{ID: RuleNoStarPolicy, Description: "no policy allows action * on resource *", Check: func(p *Plan) {
			for _, typ := range []string{TypeRolePolicy, TypeTopicPolicy} {
				for _, r := range p.Of(typ) {
					sts, _ := p.Policy(r, "policy")
					for _, s := range sts {
						if s.Effect == "Allow" && s.Principal == nil && starAction(s) && starResource(s) {
							p.Fail(r, "statement %q allows every action on every resource", s.Sid)
						}
					}
				}
			}
		}},
	)
}

func starAction(s spec.Statement) bool {
	if len(s.NotAction) > 0 {
		return true
	}
	for _, a := range s.Action {
		if a == "*" || a == "*:*" {
			return true
		}
	}
	return false
}

func starResource(s spec.Statement) bool {
	if len(s.Resource) == 0 {
		return true
	}
	for _, r := range s.Resource {
		if r == "*" {
			return true
		}
	}
	return false
}
