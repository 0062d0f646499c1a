package spec_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/mirror-dissonance/mirror-infra/spec"
)

var drillRole = role{"drill", spec.DrillPolicy, spec.DrillJob, false}

// TestDrillPolicyMatchesItsJob: every operation of the drill allowed, no
// action beyond them.
func TestDrillPolicyMatchesItsJob(t *testing.T) {
	for sname, s := range scopes() {
		t.Run(sname, func(t *testing.T) {
			for _, p := range problems(s, drillRole, spec.DrillPolicy(s)) {
				t.Error(p)
			}
		})
	}
}

// TestDrillRoleLeastPrivilege: it restores only into scratch names, never
// deletes or changes a live table, writes only the marker in one, and
// publishes only its namespace.
func TestDrillRoleLeastPrivilege(t *testing.T) {
	s := scopes()["production"]
	doc := spec.DrillPolicy(s)
	a := s.Account
	live := a.TableArn(s.Names.Table(spec.TableConsent))
	marker := map[string]string{spec.CondLeadingKeys: spec.DrillMarkerKey}
	cases := []struct {
		action, resource string
		ctx              map[string]string
		want             spec.Decision
	}{
		{"dynamodb:DeleteTable", live, nil, spec.ExplicitDeny},
		{"dynamodb:UpdateTable", live, nil, spec.ExplicitDeny},
		{"dynamodb:UpdateContinuousBackups", live, nil, spec.ExplicitDeny},
		{"dynamodb:DeleteTable", live + "-drill-0a1b", nil, spec.Allowed},
		{"dynamodb:DeleteTable", live + "-restore-20260101t000000z", nil, spec.Allowed},
		{"dynamodb:DeleteTable", a.TableArn(spec.For("staging").Table(spec.TableConsent) + "-drill-x"), nil, spec.ImplicitDeny},
		// Restoring writes the new table: only scratch names.
		{"dynamodb:PutItem", live + "-drill-0a1b", nil, spec.Allowed},
		{"dynamodb:BatchWriteItem", a.TableArn(s.Names.Table("other")), nil, spec.ImplicitDeny},
		{"dynamodb:BatchWriteItem", live, nil, spec.ImplicitDeny},
		{"dynamodb:PutItem", live, marker, spec.Allowed},
		{"dynamodb:PutItem", live, map[string]string{spec.CondLeadingKeys: "org-1"}, spec.ImplicitDeny},
		{"dynamodb:DeleteItem", live, map[string]string{spec.CondLeadingKeys: "org-1"}, spec.ImplicitDeny},
		{"dynamodb:Scan", live, nil, spec.ImplicitDeny},
		{"cloudwatch:PutMetricData", "*", map[string]string{spec.CondNamespace: "AWS/DynamoDB"}, spec.ImplicitDeny},
		{"cloudwatch:PutMetricData", "*", map[string]string{spec.CondNamespace: spec.RecoveryMetricsNamespace}, spec.Allowed},
	}
	for _, tc := range cases {
		if got := spec.Evaluate(doc, spec.IAMRequest{Action: tc.action, Resource: tc.resource, Context: tc.ctx}); got != tc.want {
			t.Errorf("%s on %s with %v: %s, want %s", tc.action, tc.resource, tc.ctx, got, tc.want)
		}
	}
}

// TestDrillPolicyMutationsFail shows the evidence test failing both ways.
func TestDrillPolicyMutationsFail(t *testing.T) {
	s := scopes()["staging"]
	cases := []struct {
		name, want string
		mutate     func(spec.PolicyDocument) spec.PolicyDocument
	}{
		{"restore dropped", "dynamodb:RestoreTableToPointInTime", func(d spec.PolicyDocument) spec.PolicyDocument { return d.Without("RestoreFromLiveTables") }},
		{"extra write", "unused write: statement Extra allows dynamodb:UpdateTable", func(d spec.PolicyDocument) spec.PolicyDocument {
			d.Statement = append(d.Statement, spec.Allow("Extra", []string{"dynamodb:UpdateTable"}, "*"))
			return d
		}},
		{"marker condition dropped", "", func(d spec.PolicyDocument) spec.PolicyDocument {
			for i, st := range d.Statement {
				if st.Sid == "MarkerItem" {
					d.Statement[i].Condition = nil
				}
			}
			return d
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			doc := tc.mutate(spec.DrillPolicy(s))
			if tc.want == "" {
				// The job still passes; the least-privilege test is what catches it.
				live := s.Account.TableArn(s.Names.Table(spec.TableConsent))
				if spec.Evaluate(doc, spec.IAMRequest{Action: "dynamodb:DeleteItem", Resource: live, Context: map[string]string{spec.CondLeadingKeys: "org-1"}}) != spec.Allowed {
					t.Error("the mutation did not widen the marker statement")
				}
				return
			}
			ps := problems(s, drillRole, doc)
			if !slices.ContainsFunc(ps, func(p string) bool { return strings.Contains(p, tc.want) }) {
				t.Errorf("mutation not caught: want %q, got %v", tc.want, ps)
			}
		})
	}
}
