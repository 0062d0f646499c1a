package spec_test

import (
	"testing"

	"github.com/mirror-dissonance/mirror-infra/spec"
)

// TestConditionOperatorsBothWays holds every condition operator the
// evaluator knows to both outcomes, and a request without the key: the
// negated operators are the mirror of their positive ones, and hold on a
// missing key as IAM's do.
func TestConditionOperatorsBothWays(t *testing.T) {
	const key = "aws:SourceArn"
	topic := "arn:aws:sns:us-east-1:123456789012:ops"
	other := "arn:aws:sns:us-east-1:123456789012:other"
	cases := []struct {
		op    string
		value any
		got   string // "" : the request lacks the key
		want  bool
	}{
		{"StringEquals", topic, topic, true},
		{"StringEquals", topic, other, false},
		{"StringEquals", topic, "", false},
		{"StringEquals", []any{other, topic}, topic, true},
		{"StringNotEquals", topic, topic, false},
		{"StringNotEquals", topic, other, true},
		{"StringNotEquals", topic, "", true},
		{"StringNotEquals", []any{other, topic}, topic, false},
		{"StringEqualsIgnoreCase", "ARN:AWS:SNS:US-EAST-1:123456789012:OPS", topic, true},
		{"StringEqualsIgnoreCase", "ARN:AWS:SNS:US-EAST-1:123456789012:OPS", other, false},
		{"StringNotEqualsIgnoreCase", "ARN:AWS:SNS:US-EAST-1:123456789012:OPS", topic, false},
		{"StringNotEqualsIgnoreCase", "ARN:AWS:SNS:US-EAST-1:123456789012:OPS", other, true},
		{"StringLike", "arn:aws:sns:*:*:op?", topic, true},
		{"StringLike", "arn:aws:sns:*:*:op?", other, false},
		{"StringLike", "arn:aws:sns:*:*:op?", "", false},
		{"StringNotLike", "arn:aws:sns:*:*:op?", topic, false},
		{"StringNotLike", "arn:aws:sns:*:*:op?", other, true},
		{"StringNotLike", "arn:aws:sns:*:*:op?", "", true},
		{"ArnEquals", topic, topic, true},
		{"ArnEquals", topic, other, false},
		{"ArnNotEquals", topic, topic, false},
		{"ArnNotEquals", topic, other, true},
		{"ArnNotEquals", topic, "", true},
		{"ArnLike", "arn:aws:sns:us-east-1:123456789012:o*s", topic, true},
		{"ArnLike", "arn:aws:sns:us-east-1:123456789012:o*s", other, false},
		{"ArnNotLike", "arn:aws:sns:us-east-1:123456789012:o*s", topic, false},
		{"ArnNotLike", "arn:aws:sns:us-east-1:123456789012:o*s", other, true},
		{"ArnNotLike", "arn:aws:sns:us-east-1:123456789012:o*s", "", true},
		{"StringEqualsIfExists", topic, "", true},
		{"StringEqualsIfExists", topic, other, false},
		{"StringNotEqualsIfExists", topic, topic, false},
		{"ForAnyValue:StringEquals", []any{topic}, topic, true},
		{"ForAnyValue:StringEquals", []any{topic}, other, false},
		{"ForAnyValue:StringNotEquals", []any{topic}, topic, false},
		{"Null", "true", "", true},
		{"Null", "true", topic, false},
		{"Null", "false", topic, true},
		{"Null", "false", "", false},
		{"Bool", "true", "true", true},
		{"Bool", "true", "false", false},
		{"NumericLessThan", "3", "1", false}, // unknown operators never hold
	}
	q := "arn:aws:sqs:us-east-1:123456789012:q"
	for _, tc := range cases {
		doc := spec.Policy(spec.Statement{Effect: "Allow", Action: spec.Strings{"sqs:SendMessage"}, Resource: spec.Strings{q},
			Condition: map[string]map[string]any{tc.op: {key: tc.value}}})
		ctx := map[string]string{}
		if tc.got != "" {
			ctx[key] = tc.got
		}
		if got := spec.Evaluate(doc, spec.IAMRequest{Action: "sqs:SendMessage", Resource: q, Context: ctx}) == spec.Allowed; got != tc.want {
			t.Errorf("%s %v against %q: allowed %t, want %t", tc.op, tc.value, tc.got, got, tc.want)
		}
		// The same condition on a Deny statement denies exactly when it holds.
		deny := spec.Policy(spec.Allow("All", []string{"sqs:*"}, "*"), spec.Statement{Effect: "Deny", Action: spec.Strings{"sqs:SendMessage"}, Resource: spec.Strings{"*"},
			Condition: map[string]map[string]any{tc.op: {key: tc.value}}})
		if got := spec.Evaluate(deny, spec.IAMRequest{Action: "sqs:SendMessage", Resource: q, Context: ctx}) == spec.ExplicitDeny; got != tc.want {
			t.Errorf("Deny if %s %v against %q: denied %t, want %t", tc.op, tc.value, tc.got, got, tc.want)
		}
	}
}

// TestPrincipalsAndNotResource: resource policies apply to the principals
// they name (Principal, NotPrincipal), and NotResource excludes.
func TestPrincipalsAndNotResource(t *testing.T) {
	a := spec.Account{ID: "123456789012", Region: "us-east-1", Partition: "aws"}
	q := a.QueueArn("q")
	role := spec.Principal{Kind: "AWS", ID: a.RoleArn("oracle")}
	foreign := spec.Principal{Kind: "AWS", ID: "arn:aws:iam::999999999999:role/x"}
	sns := spec.Principal{Kind: "Service", ID: spec.SNSPrincipal}
	allow := func(s spec.Statement) spec.PolicyDocument {
		s.Effect, s.Action = "Allow", spec.Strings{"sqs:SendMessage"}
		if s.Resource == nil && s.NotResource == nil {
			s.Resource = spec.Strings{q}
		}
		return spec.Policy(s)
	}
	cases := []struct {
		name     string
		doc      spec.PolicyDocument
		who      spec.Principal
		resource string
		want     spec.Decision
	}{
		{"service principal named", allow(spec.Statement{Principal: map[string]any{"Service": spec.SNSPrincipal}}), sns, q, spec.Allowed},
		{"service principal of another kind", allow(spec.Statement{Principal: map[string]any{"Service": spec.SNSPrincipal}}), role, q, spec.ImplicitDeny},
		{"another service", allow(spec.Statement{Principal: map[string]any{"Service": "events.amazonaws.com"}}), sns, q, spec.ImplicitDeny},
		{"no principal in the request", allow(spec.Statement{Principal: map[string]any{"Service": spec.SNSPrincipal}}), spec.Principal{}, q, spec.ImplicitDeny},
		{"role ARN named", allow(spec.Statement{Principal: map[string]any{"AWS": []any{a.RoleArn("oracle")}}}), role, q, spec.Allowed},
		{"account root names its roles", allow(spec.Statement{Principal: map[string]any{"AWS": "arn:aws:iam::123456789012:root"}}), role, q, spec.Allowed},
		{"account id names its roles", allow(spec.Statement{Principal: map[string]any{"AWS": "123456789012"}}), role, q, spec.Allowed},
		{"account root names no other account", allow(spec.Statement{Principal: map[string]any{"AWS": "arn:aws:iam::123456789012:root"}}), foreign, q, spec.ImplicitDeny},
		{"star is anyone", allow(spec.Statement{Principal: map[string]any{"AWS": "*"}}), foreign, q, spec.Allowed},
		{"NotPrincipal excludes", allow(spec.Statement{NotPrincipal: map[string]any{"AWS": a.RoleArn("oracle")}}), role, q, spec.ImplicitDeny},
		{"NotPrincipal admits the others", allow(spec.Statement{NotPrincipal: map[string]any{"AWS": a.RoleArn("oracle")}}), foreign, q, spec.Allowed},
		{"identity statement applies to its principal", allow(spec.Statement{}), role, q, spec.Allowed},
		{"NotResource excludes", allow(spec.Statement{NotResource: spec.Strings{q}}), role, q, spec.ImplicitDeny},
		{"NotResource admits the others", allow(spec.Statement{NotResource: spec.Strings{q}}), role, a.QueueArn("other"), spec.Allowed},
		{"NotResource with a wildcard", allow(spec.Statement{NotResource: spec.Strings{"arn:aws:sqs:*:*:q*"}}), role, a.QueueArn("queue"), spec.ImplicitDeny},
		{"Resource still bites", allow(spec.Statement{}), role, a.QueueArn("other"), spec.ImplicitDeny},
		{"trust statement without Resource", allow(spec.Statement{Principal: map[string]any{"Federated": "arn:aws:iam::123456789012:oidc-provider/x"}, Resource: spec.Strings{}}),
			spec.Principal{Kind: "Federated", ID: "arn:aws:iam::123456789012:oidc-provider/x"}, a.RoleArn("deploy"), spec.Allowed},
		{"identity statement without Resource is void", allow(spec.Statement{Resource: spec.Strings{}}), role, q, spec.ImplicitDeny},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := spec.Evaluate(tc.doc, spec.IAMRequest{Action: "sqs:SendMessage", Resource: tc.resource, Principal: tc.who}); got != tc.want {
				t.Errorf("%s, want %s", got, tc.want)
			}
		})
	}
	// A Deny with NotPrincipal denies everyone else, even what another
	// statement allows.
	doc := spec.Policy(spec.Statement{Effect: "Allow", Principal: map[string]any{"AWS": "*"}, Action: spec.Strings{"sqs:*"}, Resource: spec.Strings{q}},
		spec.Statement{Effect: "Deny", NotPrincipal: map[string]any{"Service": spec.SNSPrincipal}, Action: spec.Strings{"sqs:SendMessage"}, Resource: spec.Strings{q}})
	if got := spec.Evaluate(doc, spec.IAMRequest{Action: "sqs:SendMessage", Resource: q, Principal: role}); got != spec.ExplicitDeny {
		t.Errorf("a role past the NotPrincipal deny: %s", got)
	}
	if got := spec.Evaluate(doc, spec.IAMRequest{Action: "sqs:SendMessage", Resource: q, Principal: sns}); got != spec.Allowed {
		t.Errorf("SNS under the NotPrincipal deny: %s", got)
	}
}
