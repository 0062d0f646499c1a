package gate

import (
	"fmt"
	"slices"
	"strings"

	"github.com/mirror-dissonance/mirror-infra/spec"
)

// Rules of SPEC 5 on roles and the verification subscriber.
const (
	// RuleRoleBoundary: every role the deploy role manages carries the
	// stack's permissions boundary.
	RuleRoleBoundary = "role-boundary"
	// RuleRoleSelfChange: no role may change its own policies or trust,
	// and a role that may change roles may do so only with the boundary.
	RuleRoleSelfChange = "role-self-change"
	// RuleVerifyQueue: the verification queue is encrypted and accepts
	// messages from the ops topic only.
	RuleVerifyQueue = "verify-queue"
)

// roleWrites are the IAM actions that change a role's permissions or trust.
var roleWrites = []string{"iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:UpdateAssumeRolePolicy",
	"iam:PutRolePermissionsBoundary", "iam:DeleteRolePermissionsBoundary", "iam:DetachRolePolicy", "iam:DeleteRolePolicy", "iam:CreateRole"}

// access applies the role and queue rules to what the plan keeps.
func (e *evaluator) access(kept []Resource, names spec.Names) {
	boundaryName := names.PermissionsBoundary()
	for _, r := range kept {
		switch r.Type {
		case TypeRole:
			name, _ := e.str(r, "name")
			if name == names.DeployRole() || name == "" {
				continue
			}
			b, known := e.str(r, "permissionsBoundary")
			if known && !strings.HasSuffix(b, ":policy/"+boundaryName) {
				e.fail(RuleRoleBoundary, r, fmt.Sprintf("role %s has permissions boundary %q, not the stack's %s: the deploy role could give it anything", name, b, boundaryName))
			}
		case TypeRolePolicy:
			e.selfChange(r, names)
		case TypeQueue:
			if k, known := e.str(r, "kmsMasterKeyId"); known && (k == "" || strings.Contains(k, "alias/aws/")) {
				e.fail(RuleVerifyQueue, r, fmt.Sprintf("the verification queue is not encrypted with the environment key (kmsMasterKeyId %q)", k))
			}
		case TypeQueuePolicy:
			e.queuePolicy(r, names)
		}
	}
}

// selfChange fails a role policy that lets its role change itself, or
// change any role without the boundary condition.
func (e *evaluator) selfChange(r Resource, names spec.Names) {
	sts, ok := e.parsePolicy(r, "policy")
	if !ok {
		return
	}
	role, _ := e.str(r, "role")
	doc := spec.PolicyDocument{Statement: sts}
	own := "arn:aws:iam::*:role/" + role
	for _, a := range roleWrites {
		// A wildcard account stands for the stack's: the request names it.
		if d := spec.Evaluate(doc, spec.IAMRequest{Action: a, Resource: strings.Replace(own, "*", accountOf(sts), 1),
			Context: map[string]string{spec.CondPermissionsBoundary: "arn:aws:iam::" + accountOf(sts) + ":policy/" + names.PermissionsBoundary()}}); d == spec.Allowed {
			e.fail(RuleRoleSelfChange, r, fmt.Sprintf("role %s may %s on itself", role, a))
		}
	}
	for _, s := range sts {
		if s.Effect != "Allow" {
			continue
		}
		for _, a := range s.Action {
			if !slices.ContainsFunc([]string{"iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:PutRolePermissionsBoundary"}, func(w string) bool { return spec.ActionMatches(a, w) }) {
				continue
			}
			vals := s.ConditionValues("StringEquals", spec.CondPermissionsBoundary)
			if len(vals) != 1 || !strings.HasSuffix(vals[0], ":policy/"+names.PermissionsBoundary()) {
				e.fail(RuleRoleSelfChange, r, fmt.Sprintf("statement %q allows %s without requiring the boundary %s (%s)", s.Sid, a, names.PermissionsBoundary(), spec.CondPermissionsBoundary))
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

func (e *evaluator) queuePolicy(r Resource, names spec.Names) {
	sts, ok := e.parsePolicy(r, "policy")
	if !ok {
		return
	}
	if len(sts) == 0 {
		e.fail(RuleVerifyQueue, r, "the queue policy has no statement: SNS cannot deliver")
	}
	for _, s := range sts {
		if s.Effect != "Allow" {
			continue
		}
		if p := s.Principals(""); len(p) != 1 || p[0] != spec.SNSPrincipal {
			e.fail(RuleVerifyQueue, r, fmt.Sprintf("statement %q admits %v; only %s may send", s.Sid, p, spec.SNSPrincipal))
		}
		if len(s.Action) != 1 || s.Action[0] != "sqs:SendMessage" {
			e.fail(RuleVerifyQueue, r, fmt.Sprintf("statement %q allows %v; only sqs:SendMessage", s.Sid, []string(s.Action)))
		}
		src := s.ConditionValues("ArnEquals", "aws:SourceArn")
		if len(src) != 1 || !strings.HasSuffix(src[0], ":"+names.Topic()) {
			e.fail(RuleVerifyQueue, r, fmt.Sprintf("statement %q accepts sources %v; only the ops topic %s (ArnEquals aws:SourceArn)", s.Sid, src, names.Topic()))
		}
	}
}
