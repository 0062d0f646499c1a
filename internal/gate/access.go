package gate

import (
	"slices"
	"strings"

	"github.com/mirror-dissonance/mirror-infra/spec"
)

// Rules of SPEC 5 on roles and the verification subscriber.
const (
	RuleRoleBoundary   = "role-boundary"
	RuleRoleSelfChange = "role-self-change"
	RuleVerifyQueue    = "verify-queue"
)

// roleWrites are the IAM actions that change a role's permissions or trust.
var roleWrites = []string{"iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:UpdateAssumeRolePolicy",
	"iam:PutRolePermissionsBoundary", "iam:DeleteRolePermissionsBoundary", "iam:DetachRolePolicy", "iam:DeleteRolePolicy", "iam:CreateRole"}

// boundedWrites are the role writes allowed only with the boundary attached.
var boundedWrites = []string{"iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:PutRolePermissionsBoundary"}

func init() {
	register(
		Rule{ID: RuleRoleBoundary, Description: "every role the deploy role manages carries the stack's permissions boundary", Check: func(p *Plan) {
			boundary := p.Names.PermissionsBoundary()
			for _, r := range p.Of(TypeRole) {
				name, _ := p.Str(r, "name")
				if name == p.Names.DeployRole() || name == "" {
					continue
				}
				if b, ok := p.Str(r, "permissionsBoundary"); ok && !strings.HasSuffix(b, ":policy/"+boundary) {
					p.Fail(r, "role %s has permissions boundary %q, not the stack's %s: the deploy role could give it anything", name, b, boundary)
				}
			}
		}},
		Rule{ID: RuleRoleSelfChange, Description: "no role may change its own policies, trust or boundary, and roles are changed only with the boundary attached", Check: func(p *Plan) {
			for _, r := range p.Of(TypeRolePolicy) {
				p.selfChange(r)
			}
		}},
		Rule{ID: RuleVerifyQueue, Description: "the verification queue is KMS-encrypted and accepts messages from the ops topic only", Check: func(p *Plan) {
			for _, r := range p.Of(TypeQueue) {
				if k, ok := p.Str(r, "kmsMasterKeyId"); ok && (k == "" || strings.Contains(k, "alias/aws/")) {
					p.Fail(r, "the verification queue is not encrypted with the environment key (kmsMasterKeyId %q)", k)
				}
			}
			for _, r := range p.Of(TypeQueuePolicy) {
				p.queuePolicy(r)
			}
		}},
	)
}

// selfChange fails a role policy that lets its role change itself, or
// change any role without the boundary condition.
func (p *Plan) selfChange(r Resource) {
	sts, ok := p.Policy(r, "policy")
	if !ok {
		return
	}
	boundary := p.Names.PermissionsBoundary()
	if role, ok := p.Str(r, "role"); ok {
		doc := spec.PolicyDocument{Statement: sts}
		// A wildcard account stands for the stack's: the request names it.
		acct := accountOf(sts)
		for _, a := range roleWrites {
			req := spec.IAMRequest{Action: a, Resource: "arn:aws:iam::" + acct + ":role/" + role,
				Context: map[string]string{spec.CondPermissionsBoundary: "arn:aws:iam::" + acct + ":policy/" + boundary}}
			if spec.Evaluate(doc, req) == spec.Allowed {
				p.Fail(r, "role %s may %s on itself", role, a)
			}
		}
	}
	for _, s := range sts {
		if s.Effect != "Allow" {
			continue
		}
		for _, a := range s.Action {
			if !slices.ContainsFunc(boundedWrites, func(w string) bool { return spec.ActionMatches(a, w) }) {
				continue
			}
			vals := s.ConditionValues("StringEquals", spec.CondPermissionsBoundary)
			if len(vals) != 1 || !strings.HasSuffix(vals[0], ":policy/"+boundary) {
				p.Fail(r, "statement %q allows %s without requiring the boundary %s (%s)", s.Sid, a, boundary, spec.CondPermissionsBoundary)
			}
		}
	}
}

// accountOf returns the account id a policy's ARNs name ("*" if none).
func accountOf(sts []spec.Statement) string {
	for _, s := range sts {
		for _, res := range s.Resource {
			parts := strings.SplitN(res, ":", 6)
			if len(parts) == 6 && parts[2] == "iam" && parts[4] != "" && parts[4] != "*" {
				return parts[4]
			}
		}
	}
	return "*"
}

func (p *Plan) queuePolicy(r Resource) {
	sts, ok := p.Policy(r, "policy")
	if !ok {
		return
	}
	if len(sts) == 0 {
		p.Fail(r, "the queue policy has no statement: SNS cannot deliver")
	}
	topic := p.Names.Topic()
	for _, s := range sts {
		if s.Effect != "Allow" {
			continue
		}
		if pr := s.Principals(""); len(pr) != 1 || pr[0] != spec.SNSPrincipal {
			p.Fail(r, "statement %q admits %v; only %s may send", s.Sid, pr, spec.SNSPrincipal)
		}
		if len(s.Action) != 1 || s.Action[0] != "sqs:SendMessage" {
			p.Fail(r, "statement %q allows %v; only sqs:SendMessage", s.Sid, []string(s.Action))
		}
		src := s.ConditionValues("ArnEquals", "aws:SourceArn")
		if len(src) != 1 || !strings.HasSuffix(src[0], ":"+topic) {
			p.Fail(r, "statement %q accepts sources %v; only the ops topic %s (ArnEquals aws:SourceArn)", s.Sid, src, topic)
		}
	}
}
