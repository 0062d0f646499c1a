package mockrun

import (
	"context"
	"testing"

	"github.com/mirror-dissonance/mirror-infra/internal/gate"
	"github.com/mirror-dissonance/mirror-infra/spec"
	"github.com/mirror-dissonance/mirror-infra/stacks/stackconfig"
)

func TestShippedStacksPassTheGate(t *testing.T) {
	for _, stack := range []string{"staging", "production"} {
		t.Run(stack, func(t *testing.T) {
			cfg, err := stackconfig.Load("../..", stack)
			if err != nil {
				t.Fatal(err)
			}
			res, err := Run(context.Background(), cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			aws := res.AWSResources()
			if len(aws) < gate.DefaultMinResources || len(aws) > gate.DefaultMaxResources {
				t.Errorf("%d AWS resources, want %d..%d", len(aws), gate.DefaultMinResources, gate.DefaultMaxResources)
			}
			findings := gate.Evaluate(res.Resources, gate.Options{Environment: cfg.Environment, DeletionProtection: cfg.DeletionProtection})
			if gate.Failed(findings) {
				t.Errorf("gate failed: %+v", findings)
			}
			if got := res.Outputs[spec.OutFPEventsTableName]; got != spec.For(stack).Table(spec.TableFPEvents) {
				t.Errorf("output %s = %v", spec.OutFPEventsTableName, got)
			}
			if got := res.Outputs[spec.OutBaselinesBucket]; got != spec.For(stack).BaselinesBucket() {
				t.Errorf("output %s = %v", spec.OutBaselinesBucket, got)
			}
			t.Logf("%d AWS resources, %d outputs", len(aws), len(res.Outputs))
		})
	}
}
