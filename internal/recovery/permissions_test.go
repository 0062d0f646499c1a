package recovery

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/mirror-dissonance/mirror-infra/emulator"
	"github.com/mirror-dissonance/mirror-infra/spec"
	"github.com/mirror-dissonance/mirror-infra/verify/e2e"
)

// TestDrillPermissionsFromRecording records every API a drill with its
// figures published, and a sweep after a killed drill, calls, and holds
// spec.DrillJob (and so spec.DrillPolicy, which the spec tests hold to it)
// to the recording both ways: a call the job lacks, or a write the job
// lists that no run made, fails. The restore's authorisations on the new
// table are IAM's, not calls, and are exempt from the second direction.
func TestDrillPermissionsFromRecording(t *testing.T) {
	env, _ := newEnv(t)
	tgt := env.Target()
	env.Emulator.ResetCounts()
	o := drillOpts()
	o.PublishMetrics = true
	if _, _, err := Drill(context.Background(), env.Config, tgt, o); err != nil {
		t.Fatal(err)
	}
	ctx, kill := context.WithCancel(context.Background())
	o.Tables, o.AfterStep = []string{spec.TableConsent}, func(_, s string) {
		if s == StepActive {
			kill()
		}
	}
	_, _, _ = Drill(ctx, env.Config, tgt, o)
	if _, _, err := Sweep(context.Background(), env.Config, tgt); err != nil {
		t.Fatal(err)
	}
	scope := spec.Scope{Names: env.Names, Account: spec.Account{ID: emulator.AccountID, Region: emulator.Region}}
	job := spec.Actions(spec.DrillJob(scope))
	recorded := map[string]bool{}
	for api := range env.Emulator.Counts().ByOperation {
		svc, op, _ := strings.Cut(api, ".")
		if svc == "monitoring" {
			svc = "cloudwatch"
		}
		action := svc + ":" + op
		recorded[action] = true
		if !slices.Contains(job, action) {
			t.Errorf("%s was called but spec.DrillJob lacks %s", api, action)
		}
	}
	restoreImplied := []string{"dynamodb:UpdateItem", "dynamodb:BatchWriteItem", "dynamodb:Query"}
	for _, a := range job {
		if spec.IsWrite(a) && !recorded[a] && !slices.Contains(restoreImplied, a) && !strings.HasPrefix(a, "kms:") {
			t.Errorf("spec.DrillJob lists write %s, which no run called", a)
		}
	}
}

// TestDrillPolicyAllowsItsLease: the drill's role may write, renew and
// release the lease items the drill writes (in the block-counter table,
// keyed as leaseRun names them) and no other item: not an E2E run's lease,
// not an Oracle bucket, not a lease-shaped key in another table.
func TestDrillPolicyAllowsItsLease(t *testing.T) {
	scope := spec.Scope{Names: spec.For("staging"), Account: spec.Account{ID: emulator.AccountID, Region: emulator.Region}}
	doc := spec.DrillPolicy(scope)
	counter := scope.Account.TableArn(scope.Names.Table(spec.TableBlockCounter))
	consent := scope.Account.TableArn(scope.Names.Table(spec.TableConsent))
	key := func(k string) map[string]string { return map[string]string{spec.CondLeadingKeys: k} }
	ours := e2e.LeaseKey(leaseRun("0a1b2c3d"))
	cases := []struct {
		action, resource string
		ctx              map[string]string
		want             spec.Decision
	}{
		{"dynamodb:PutItem", counter, key(ours), spec.Allowed},
		{"dynamodb:UpdateItem", counter, key(ours), spec.Allowed},
		{"dynamodb:DeleteItem", counter, key(ours), spec.Allowed},
		{"dynamodb:GetItem", counter, key(ours), spec.Allowed},
		{"dynamodb:PutItem", counter, key(e2e.LeaseKey("0a1b2c3d")), spec.ImplicitDeny},
		{"dynamodb:UpdateItem", counter, key("rule-1:org-1:2026-01-01T00:00:00.000Z"), spec.ImplicitDeny},
		{"dynamodb:DeleteItem", counter, key("rule-1:org-1:2026-01-01T00:00:00.000Z"), spec.ImplicitDeny},
		{"dynamodb:PutItem", consent, key(ours), spec.ImplicitDeny},
		{"dynamodb:UpdateItem", consent, key(ours), spec.ImplicitDeny},
	}
	for _, tc := range cases {
		if got := spec.Evaluate(doc, spec.IAMRequest{Action: tc.action, Resource: tc.resource, Context: tc.ctx}); got != tc.want {
			t.Errorf("%s on %s with %v: %s, want %s", tc.action, tc.resource, tc.ctx, got, tc.want)
		}
	}
}
