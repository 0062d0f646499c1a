package spec_test

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/mirror-dissonance/mirror-infra/spec"
)

// scopes are the shapes of stack the policies must fit: the staging
// stack owns the provider and has the queue; production looks it up and
// has none; an ephemeral one is given the provider's ARN.
func scopes() map[string]spec.Scope {
	a := spec.Account{ID: "123456789012", Region: "us-east-1", Partition: "aws"}
	return map[string]spec.Scope{
		"staging":    {Names: spec.For("staging"), Account: a, OwnsProvider: true, VerifyQueue: true},
		"production": {Names: spec.For("production"), Account: a, LooksUpProvider: true},
		"acc-run":    {Names: spec.For("acc-run"), Account: a, VerifyQueue: true},
	}
}

type role struct {
	name   string
	policy func(spec.Scope) spec.PolicyDocument
	job    func(spec.Scope) []spec.Operation
	// bounded roles carry the boundary: their job must pass it too.
	bounded bool
}

var roles = []role{
	{"deploy", spec.DeployPolicy, spec.DeployJob, false},
	{"preview", spec.PreviewPolicy, spec.PreviewJob, true},
	{"oracle", spec.OraclePolicy, spec.OracleJob, true},
}

// problems holds a policy to its job both ways: every operation allowed
// (bounded by the boundary where the role carries it), every allowed
// action used by some operation, no "*" action, and reads only in the
// preview role.
func problems(s spec.Scope, r role, doc spec.PolicyDocument) []string {
	var out []string
	boundary := spec.BoundaryPolicy(s)
	ops := r.job(s)
	for _, op := range ops {
		req := spec.IAMRequest{Action: op.Action, Resource: op.Resource, Context: op.Context}
		d := spec.Evaluate(doc, req)
		if r.bounded {
			d = spec.EvaluateBounded(doc, boundary, req)
		}
		if d != spec.Allowed {
			out = append(out, fmt.Sprintf("missing: %s is %s (needed by %s)", req, d, op.Source))
			continue
		}
		// Conditions compared, not only actions: a condition key the job's
		// request carries (kms:ViaService, the key's tags, the boundary) is
		// one the policy must hold it to, unless the job also makes the
		// same call without the key. The policy is read alone: a boundary is a
		// second line, not the policy's own reading.
		for k, v := range op.Context {
			if slices.ContainsFunc(ops, func(o spec.Operation) bool {
				_, carries := o.Context[k]
				return o.Action == op.Action && o.Resource == op.Resource && !carries
			}) {
				continue
			}
			ctx := maps.Clone(op.Context)
			ctx[k] = "other-" + v
			req := spec.IAMRequest{Action: op.Action, Resource: op.Resource, Context: ctx}
			if spec.Evaluate(doc, req) == spec.Allowed {
				out = append(out, fmt.Sprintf("condition not enforced: %s is allowed with %s = %q, though the job only sends %q (%s)", req, k, ctx[k], v, op.Source))
			}
		}
	}
	used := spec.Actions(ops)
	for _, st := range doc.Statement {
		if st.Effect != "Allow" {
			continue
		}
		for _, a := range st.Action {
			if a == "*" || strings.HasSuffix(a, ":*") {
				out = append(out, fmt.Sprintf("statement %s allows %s", st.Sid, a))
				continue
			}
			if !slices.ContainsFunc(used, func(u string) bool { return spec.ActionMatches(a, u) }) {
				kind := "read"
				if spec.IsWrite(a) {
					kind = "write"
				}
				out = append(out, fmt.Sprintf("unused %s: statement %s allows %s, which no operation of the job needs", kind, st.Sid, a))
			}
			if r.name == "preview" && spec.IsWrite(a) {
				out = append(out, fmt.Sprintf("the preview role may %s", a))
			}
		}
	}
	return out
}

func TestRolePoliciesMatchTheirJobs(t *testing.T) {
	for sname, s := range scopes() {
		for _, r := range roles {
			t.Run(sname+"/"+r.name, func(t *testing.T) {
				for _, p := range problems(s, r, r.policy(s)) {
					t.Error(p)
				}
			})
		}
	}
}

// TestRolePolicyMutationsFail shows the test above failing both ways.
func TestRolePolicyMutationsFail(t *testing.T) {
	s := scopes()["production"]
	find := func(name string) role {
		for _, r := range roles {
			if r.name == name {
				return r
			}
		}
		t.Fatalf("no role %s", name)
		return role{}
	}
	// withExtra adds a statement "Extra" that allows action on anything.
	withExtra := func(action string) func(spec.PolicyDocument) spec.PolicyDocument {
		return func(d spec.PolicyDocument) spec.PolicyDocument {
			d.Statement = append(d.Statement, spec.Allow("Extra", []string{action}, "*"))
			return d
		}
	}
	cases := []struct {
		name, role, want string
		mutate           func(spec.PolicyDocument) spec.PolicyDocument
	}{
		{"lookup dropped", "preview", "iam:ListOpenIDConnectProviders", func(d spec.PolicyDocument) spec.PolicyDocument {
			return d.Without("LookUpOIDCProvider")
		}},
		{"path ARN dropped", "deploy", "ssm:GetParametersByPath on arn:aws:ssm:us-east-1:123456789012:parameter/guardian/production is", func(d spec.PolicyDocument) spec.PolicyDocument {
			for i, st := range d.Statement {
				if st.Sid == "NonceParameters" {
					d.Statement[i].Resource = st.Resource[:1]
				}
			}
			return d
		}},
		{"unused write", "deploy", "unused write: statement Extra allows ssm:DeleteParameter", withExtra("ssm:DeleteParameter")},
		{"alarm silencing", "deploy", "cloudwatch:SetAlarmState", withExtra("cloudwatch:SetAlarmState")},
		{"oracle rotates", "oracle", "unused write: statement Extra allows ssm:PutParameter", withExtra("ssm:PutParameter")},
		{"star action", "oracle", "allows dynamodb:*", withExtra("dynamodb:*")},
		{"decrypt not only through SSM", "oracle", "condition not enforced: kms:Decrypt on " + s.Account.KeyArn("2f0e3c4d-replacement") + " is allowed with kms:ViaService", func(d spec.PolicyDocument) spec.PolicyDocument {
			for i, st := range d.Statement {
				if st.Sid == "DecryptNonceViaSSM" {
					c := maps.Clone(st.Condition["StringEquals"])
					delete(c, spec.CondViaService)
					d.Statement[i].Condition = map[string]map[string]any{"StringEquals": c}
				}
			}
			return d
		}},
		{"key use not only on the environment's keys", "deploy", "condition not enforced: kms:", func(d spec.PolicyDocument) spec.PolicyDocument {
			for i, st := range d.Statement {
				if c, ok := st.Condition["StringEquals"]; ok && c[spec.CondResourceTagEnv] != nil {
					c = maps.Clone(c)
					delete(c, spec.CondResourceTagEnv)
					d.Statement[i].Condition = map[string]map[string]any{"StringEquals": c}
				}
			}
			return d
		}},
		{"subscriptions on the topic ARN only", "deploy", "sns:Unsubscribe on arn:aws:sns:us-east-1:123456789012:mirror-dissonance-production-ops-alerts:", func(d spec.PolicyDocument) spec.PolicyDocument {
			return d.Without("ManageSubscriptions")
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := find(tc.role)
			if ps := problems(s, r, r.policy(s)); len(ps) != 0 {
				t.Fatalf("unmutated policy already fails: %v", ps)
			}
			ps := problems(s, r, tc.mutate(r.policy(s)))
			if !slices.ContainsFunc(ps, func(p string) bool { return strings.Contains(p, tc.want) }) {
				t.Errorf("mutation not caught: want a problem containing %q, got %v", tc.want, ps)
			}
		})
	}
}

// TestDeployRoleCannotEscalate: the deploy role may change a managed role
// only with the boundary attached, and never its own role or the boundary.
func TestDeployRoleCannotEscalate(t *testing.T) {
	s := scopes()["staging"]
	doc := spec.DeployPolicy(s)
	a := s.Account
	own := a.RoleArn(s.Names.DeployRole())
	preview := a.RoleArn(s.Names.PreviewRole())
	withBoundary := map[string]string{spec.CondPermissionsBoundary: s.BoundaryArn()}
	otherBoundary := map[string]string{spec.CondPermissionsBoundary: a.PolicyArn("AdministratorAccess")}
	cases := []struct {
		action, resource string
		ctx              map[string]string
		want             spec.Decision
	}{
		{"iam:PutRolePolicy", preview, withBoundary, spec.Allowed},
		{"iam:CreateRole", preview, withBoundary, spec.Allowed},
		{"iam:CreateRole", preview, nil, spec.ImplicitDeny},
		{"iam:CreateRole", preview, otherBoundary, spec.ImplicitDeny},
		{"iam:PutRolePolicy", preview, nil, spec.ImplicitDeny},
		{"iam:CreateRole", a.RoleArn("mirror-dissonance-staging-admin"), withBoundary, spec.ImplicitDeny},
		{"iam:PutRolePolicy", own, withBoundary, spec.ExplicitDeny},
		{"iam:UpdateAssumeRolePolicy", own, nil, spec.ExplicitDeny},
		{"iam:AttachRolePolicy", own, nil, spec.ExplicitDeny},
		{"iam:DeleteRolePermissionsBoundary", preview, nil, spec.ImplicitDeny},
		{"iam:CreatePolicyVersion", s.BoundaryArn(), nil, spec.ExplicitDeny},
		{"kms:PutKeyPolicy", a.KeyArn("k"), map[string]string{spec.CondResourceTagEnv: "staging", spec.CondResourceTagProject: spec.TagValueProject}, spec.ImplicitDeny},
		{"kms:EnableKeyRotation", a.KeyArn("other"), map[string]string{spec.CondResourceTagEnv: "production", spec.CondResourceTagProject: spec.TagValueProject}, spec.ImplicitDeny},
	}
	for _, tc := range cases {
		got := spec.Evaluate(doc, spec.IAMRequest{Action: tc.action, Resource: tc.resource, Context: tc.ctx})
		if got != tc.want {
			t.Errorf("%s on %s with %v: %s, want %s", tc.action, tc.resource, tc.ctx, got, tc.want)
		}
	}
	// A managed role can never administer anything, whatever its policy.
	admin := spec.Policy(spec.Allow("Admin", []string{"*"}, "*"))
	for _, act := range []string{"iam:CreateRole", "kms:ScheduleKeyDeletion", "dynamodb:DeleteTable", "ssm:PutParameter", "sns:DeleteTopic"} {
		if d := spec.EvaluateBounded(admin, spec.BoundaryPolicy(s), spec.IAMRequest{Action: act, Resource: "*"}); d == spec.Allowed {
			t.Errorf("the boundary lets a managed role %s", act)
		}
	}
}

func TestIAMMatching(t *testing.T) {
	cases := []struct {
		pattern, value string
		action, want   bool
	}{
		{"kms:GenerateDataKey*", "kms:GenerateDataKeyWithoutPlaintext", true, true},
		{"KMS:generatedatakey", "kms:GenerateDataKey", true, true},
		{"s3:Get*", "s3:PutObject", true, false},
		{"arn:aws:s3:::b/*", "arn:aws:s3:::b/a/b.json", false, true},
		{"arn:aws:s3:::b/*", "arn:aws:s3:::b", false, false},
		{"arn:aws:ssm:us-east-1:1:parameter/guardian/x/*", "arn:aws:ssm:us-east-1:1:parameter/guardian/x", false, false},
		{"arn:aws:sns:us-east-1:1:t:*", "arn:aws:sns:us-east-1:1:t:abc-123", false, true},
		{"arn:aws:sns:us-east-1:1:t", "arn:aws:sns:us-east-1:1:t:abc-123", false, false},
		{"arn:aws:kms:*:1:key/*", "arn:aws:kms:eu-west-1:1:key/k", false, true},
		{"arn:aws:dynamodb:us-east-1:1:table/p-?", "arn:aws:dynamodb:us-east-1:1:table/p-a", false, true},
		{"*", "arn:aws:iam::1:role/x", false, true},
	}
	for _, tc := range cases {
		got := spec.ResourceMatches(tc.pattern, tc.value)
		if tc.action {
			got = spec.ActionMatches(tc.pattern, tc.value)
		}
		if got != tc.want {
			t.Errorf("%s ~ %s = %t, want %t", tc.pattern, tc.value, got, tc.want)
		}
	}
}

func TestVerifyQueuePolicyAcceptsTheTopicOnly(t *testing.T) {
	a := spec.Account{ID: "123456789012", Region: "us-east-1"}
	q, topic := a.QueueArn("q"), a.TopicArn("t")
	doc := spec.VerifyQueuePolicy(a, q, topic)
	sns := spec.Principal{Kind: "Service", ID: spec.SNSPrincipal}
	send := func(who spec.Principal, src string) spec.Decision {
		return spec.Evaluate(doc, spec.IAMRequest{Action: "sqs:SendMessage", Resource: q, Principal: who,
			Context: map[string]string{"aws:SourceArn": src, "aws:SourceAccount": a.ID}})
	}
	if d := send(sns, topic); d != spec.Allowed {
		t.Errorf("the ops topic is %s", d)
	}
	if d := send(sns, a.TopicArn("other")); d == spec.Allowed {
		t.Error("another topic may send")
	}
	if d := send(spec.Principal{Kind: "AWS", ID: a.RoleArn("intruder")}, topic); d == spec.Allowed {
		t.Error("a role of the account may send as if it were the topic")
	}
	if d := spec.Evaluate(doc, spec.IAMRequest{Action: "sqs:ReceiveMessage", Resource: q, Principal: sns, Context: map[string]string{"aws:SourceArn": topic, "aws:SourceAccount": a.ID}}); d == spec.Allowed {
		t.Error("the queue policy grants more than SendMessage")
	}
}

// TestProviderCallsTheRolesDoNotHold: the calls the engine rehearsal found
// outside the roles' jobs. The boundary policy's own calls are denied to
// the deploy role (it could widen its boundary), and the data sources'
// calls are in the jobs of the stacks that make them, except those IAM
// does not authorise.
func TestProviderCallsTheRolesDoNotHold(t *testing.T) {
	for name, s := range scopes() {
		t.Run(name, func(t *testing.T) {
			deploy := spec.DeployPolicy(s)
			for _, pr := range spec.ProviderResources {
				for _, a := range pr.AdminOnly {
					if d := spec.Evaluate(deploy, spec.IAMRequest{Action: a, Resource: s.BoundaryArn()}); d == spec.Allowed {
						t.Errorf("the deploy role may %s on its boundary (%s)", a, pr.Type)
					}
					if slices.ContainsFunc(spec.DeployJob(s), func(o spec.Operation) bool { return o.Action == a }) {
						t.Errorf("%s is admin-only but in the deploy job", a)
					}
				}
			}
			if !s.LooksUpProvider {
				return
			}
			for _, inv := range spec.ProviderInvokes {
				for _, a := range inv.Calls {
					if slices.Contains(inv.Unauthorised, a) {
						continue
					}
					for job, ops := range map[string][]spec.Operation{"preview": spec.PreviewJob(s), "deploy": spec.DeployJob(s)} {
						if !slices.ContainsFunc(ops, func(o spec.Operation) bool { return o.Action == a }) {
							t.Errorf("%s (%s) is not in the %s job of a stack that looks the provider up", a, inv.Token, job)
						}
					}
				}
			}
		})
	}
}
