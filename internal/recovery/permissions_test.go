package recovery

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/mirror-dissonance/mirror-infra/emulator"
	"github.com/mirror-dissonance/mirror-infra/spec"
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
