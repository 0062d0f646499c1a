package gate_test

import (
	"slices"
	"testing"

	"github.com/mirror-dissonance/mirror-infra/internal/gate"
	"github.com/mirror-dissonance/mirror-infra/spec"
)

// TestAccessRules: each mutation of the shipped staging plan fails exactly
// the rule named.
func TestAccessRules(t *testing.T) {
	n := spec.For("staging")
	cases := []struct {
		name, rule string
		mutate     func(t *testing.T, rs []gate.Resource)
	}{
		{"oracle role without the boundary", gate.RuleRoleBoundary, func(t *testing.T, rs []gate.Resource) {
			delete(first(rs, gate.TypeRole, roleNamed(n.OracleRole())).Inputs, "permissionsBoundary")
		}},
		{"preview role with another boundary", gate.RuleRoleBoundary, func(t *testing.T, rs []gate.Resource) {
			first(rs, gate.TypeRole, roleNamed(n.PreviewRole())).Inputs["permissionsBoundary"] = "arn:aws:iam::123456789012:policy/AdministratorAccess"
		}},
		{"deploy role may change itself", gate.RuleRoleSelfChange, func(t *testing.T, rs []gate.Resource) {
			setPolicy(t, first(rs, gate.TypeRolePolicy, func(r gate.Resource) bool { return r.Inputs["role"] == n.DeployRole() }), "policy", func(doc map[string]any) {
				var kept []any
				for _, s := range doc["Statement"].([]any) {
					if s.(map[string]any)["Sid"] != "NeverChangeOwnRole" {
						kept = append(kept, s)
					}
				}
				doc["Statement"] = append(kept, map[string]any{"Sid": "Widen", "Effect": "Allow", "Action": []any{"iam:UpdateAssumeRolePolicy"},
					"Resource": []any{"arn:aws:iam::123456789012:role/" + n.Prefix() + "*"}})
			})
		}},
		{"roles created without the boundary", gate.RuleRoleSelfChange, func(t *testing.T, rs []gate.Resource) {
			setPolicy(t, first(rs, gate.TypeRolePolicy, func(r gate.Resource) bool { return r.Inputs["role"] == n.DeployRole() }), "policy", func(doc map[string]any) {
				doc["Statement"] = append(doc["Statement"].([]any), map[string]any{"Sid": "Create", "Effect": "Allow", "Action": []any{"iam:CreateRole"},
					"Resource": []any{"arn:aws:iam::123456789012:role/x"}})
			})
		}},
		{"queue open to any topic", gate.RuleVerifyQueue, func(t *testing.T, rs []gate.Resource) {
			setPolicy(t, first(rs, gate.TypeQueuePolicy, nil), "policy", func(doc map[string]any) {
				st := doc["Statement"].([]any)[0].(map[string]any)
				delete(st["Condition"].(map[string]any), "ArnEquals")
			})
		}},
		{"queue open to a second topic", gate.RuleVerifyQueue, func(t *testing.T, rs []gate.Resource) {
			setPolicy(t, first(rs, gate.TypeQueuePolicy, nil), "policy", func(doc map[string]any) {
				st := doc["Statement"].([]any)[0].(map[string]any)
				c := st["Condition"].(map[string]any)["ArnEquals"].(map[string]any)
				c["aws:SourceArn"] = []any{c["aws:SourceArn"], "arn:aws:sns:us-east-1:123456789012:someone-else"}
			})
		}},
		{"queue allows receiving too", gate.RuleVerifyQueue, func(t *testing.T, rs []gate.Resource) {
			setPolicy(t, first(rs, gate.TypeQueuePolicy, nil), "policy", func(doc map[string]any) {
				doc["Statement"].([]any)[0].(map[string]any)["Action"] = []any{"sqs:SendMessage", "sqs:ReceiveMessage"}
			})
		}},
		{"queue with the AWS managed key", gate.RuleVerifyQueue, func(t *testing.T, rs []gate.Resource) {
			first(rs, gate.TypeQueue, nil).Inputs["kmsMasterKeyId"] = "alias/aws/sqs"
		}},
		{"roles changed under either of two boundaries", gate.RuleRoleSelfChange, func(t *testing.T, rs []gate.Resource) {
			setPolicy(t, first(rs, gate.TypeRolePolicy, func(r gate.Resource) bool { return r.Inputs["role"] == n.DeployRole() }), "policy", func(doc map[string]any) {
				doc["Statement"] = append(doc["Statement"].([]any), map[string]any{"Sid": "Create", "Effect": "Allow", "Action": []any{"iam:CreateRole"},
					"Resource": []any{"arn:aws:iam::123456789012:role/x"},
					"Condition": map[string]any{"StringEquals": map[string]any{"iam:PermissionsBoundary": []any{
						"arn:aws:iam::123456789012:policy/" + n.PermissionsBoundary(), "arn:aws:iam::123456789012:policy/AdministratorAccess"}}}})
			})
		}},
		{"queue unencrypted", gate.RuleVerifyQueue, func(t *testing.T, rs []gate.Resource) {
			delete(first(rs, gate.TypeQueue, nil).Inputs, "kmsMasterKeyId")
		}},
	}
	base, opts := baseline(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rs := clone(t, base)
			tc.mutate(t, rs)
			fs := gate.Evaluate(rs, opts)
			if !slices.ContainsFunc(fs, func(f gate.Finding) bool { return f.Rule == tc.rule }) {
				t.Errorf("want %s to fail, got %+v", tc.rule, fs)
			}
		})
	}
}
