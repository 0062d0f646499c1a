package rehearse

import (
	"context"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/mirror-dissonance/mirror-infra/emulator"
	"github.com/mirror-dissonance/mirror-infra/internal/postdeploy"
	"github.com/mirror-dissonance/mirror-infra/spec"
	"github.com/mirror-dissonance/mirror-infra/verify"
	"github.com/mirror-dissonance/mirror-infra/verify/e2e"
)

// TestRuntimePermissionsFromRecording records, with the emulator's request
// counter, every API our code calls in each runtime job and holds the
// job's table (spec.OracleRuntime, spec.DeployRuntime) and the role's
// policy to it: a recorded API missing from the table, a table operation
// the policy does not allow, or a write the table lists but no run made,
// fails.
func TestRuntimePermissionsFromRecording(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		role   string
		policy func(spec.Scope) spec.PolicyDocument
		table  func(spec.Scope) map[string][]spec.Operation
		run    func(env *emulator.TestEnv)
	}{
		{"oracle", spec.OraclePolicy, spec.OracleRuntime, func(env *emulator.TestEnv) {
			// The read-only verifier catalogue, the alert check's publish
			// (SPEC 2.6: the Oracle publishes to the ops topic; it does not
			// read the verification queue) and the E2E cycle (the Oracle
			// layer's stores): what the Oracle repository's CI runs.
			tgt := env.Target()
			tgt.VerifyQueueURL = ""
			checks := append(verify.DefaultIDs(), verify.IDAlert)
			if _, err := verify.Run(ctx, verify.NewClients(env.Config), tgt, verify.Options{Checks: checks}); err != nil {
				t.Fatal(err)
			}
			e2e.Run(ctx, e2e.NewClients(env.Config), env.Target(), e2e.Options{Timeout: 30 * time.Second})
		}},
		{"deploy", spec.DeployPolicy, spec.DeployRuntime, func(env *emulator.TestEnv) {
			// The post-deploy stage as the driver runs it after up (the
			// alert check publishes; FireAlarm stays off on a real deploy),
			// rotating, and two hours on, so that the prune deletes v1.
			postdeploy.Run(ctx, env.Config, env.Target(), postdeploy.Options{
				Rotation: postdeploy.RotationPolicy{Force: true, Keep: 1},
				Now:      func() time.Time { return time.Now().Add(2 * time.Hour) },
			})
		}},
	}
	for _, tc := range cases {
		t.Run(tc.role, func(t *testing.T) {
			// No provider: it outlives the teardown (one per account), and the
			// rehearsals in this process create it themselves. The oidc check
			// still makes its call, which is what is recorded.
			env := emulator.NewTestEnv(t, emulator.SeedOptions{VerifyQueue: true, SkipOIDCProvider: true})
			scope := spec.Scope{Names: env.Names, Account: spec.Account{ID: emulator.AccountID, Region: emulator.Region},
				VerifyQueue: true, OwnsProvider: true}
			env.Emulator.ResetCounts()
			tc.run(env)
			recorded := env.Emulator.Counts().ByOperation
			table, doc := tc.table(scope), tc.policy(scope)
			var apis []string
			for api := range recorded {
				apis = append(apis, api)
			}
			sort.Strings(apis)
			for _, api := range apis {
				if _, ok := table[api]; !ok {
					t.Errorf("%s was called but is not in the %s table: add it (and the permission) or stop calling it", api, tc.role)
				}
			}
			for api, ops := range table {
				for _, op := range ops {
					req := spec.IAMRequest{Action: op.Action, Resource: op.Resource, Context: op.Context}
					if d := spec.Evaluate(doc, req); d != spec.Allowed {
						t.Errorf("%s needs %s: %s", api, req, d)
					}
					if spec.IsWrite(op.Action) && recorded[api] == 0 {
						t.Errorf("the %s table lists write %s (%s), which no run called", tc.role, api, op.Action)
					}
				}
			}
			// A write the policy grants for the runtime must be a recorded one
			// (provider writes are held to the provider table in spec).
			if tc.role == "oracle" {
				var recActions []string
				for api := range recorded {
					for _, op := range table[api] {
						recActions = append(recActions, op.Action)
					}
				}
				for _, st := range doc.Statement {
					for _, a := range st.Action {
						if spec.IsWrite(a) && !slices.ContainsFunc(recActions, func(r string) bool { return spec.ActionMatches(a, r) }) {
							t.Errorf("the Oracle policy grants write %s, which no recorded call needs", a)
						}
					}
				}
			}
		})
	}
}
