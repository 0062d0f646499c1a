package gate_test

import (
	"context"
	"testing"

	"github.com/mirror-dissonance/mirror-infra/internal/gate"
	"github.com/mirror-dissonance/mirror-infra/internal/mockrun"
	"github.com/mirror-dissonance/mirror-infra/stacks/stackconfig"
)

// ephemeralPlan is the planned acc-example stack, as `check acc-example`
// sees it.
func ephemeralPlan(t *testing.T) ([]gate.Resource, gate.Options) {
	t.Helper()
	cfg, err := stackconfig.Load("../..", "acc-example")
	if err != nil {
		t.Fatal(err)
	}
	res, err := mockrun.Run(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return res.Resources, gate.OptionsFor(cfg, nil)
}

func TestEphemeralRule(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(rs []gate.Resource, o *gate.Options)
		want   []string // failed rules; none: the plan passes
	}{
		{"the shipped acceptance example passes", func([]gate.Resource, *gate.Options) {}, nil},
		{"ephemeral on a stack that is not acc-<run>", func(_ []gate.Resource, o *gate.Options) { o.Stack = "staging" }, []string{gate.RuleEphemeral}},
		{"a protected table in an ephemeral stack", func(rs []gate.Resource, _ *gate.Options) { first(rs, gate.TypeTable, nil).Protect = true }, []string{gate.RuleTableProtect}},
		{"a protected bucket in an ephemeral stack", func(rs []gate.Resource, _ *gate.Options) { first(rs, gate.TypeBucket, nil).Protect = true }, []string{gate.RuleBucketProtect}},
		{"the same plan judged as a normal stack", func(_ []gate.Resource, o *gate.Options) { o.Ephemeral = false },
			[]string{gate.RuleBucketProtect, gate.RuleTableProtect}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rs, opts := ephemeralPlan(t)
			rs = clone(t, rs)
			tc.mutate(rs, &opts)
			got := map[string]bool{}
			for _, f := range gate.Evaluate(rs, opts) {
				got[f.Rule] = got[f.Rule] || !f.Note
			}
			for _, w := range tc.want {
				if !got[w] {
					t.Errorf("rule %s did not fail; findings %v", w, got)
				}
				delete(got, w)
			}
			for r, failed := range got {
				if !failed {
					delete(got, r)
				}
			}
			if len(got) > 0 {
				t.Errorf("unexpected findings %v", got)
			}
		})
	}
}
