package rehearse

import (
	"context"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/dynamodb"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/mirror-dissonance/mirror-infra/internal/gate"
	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/spec"
	"github.com/mirror-dissonance/mirror-infra/stacks"
)

// ScenarioReplaceRefused: a program change that replaces a table (a new
// range key, ForceNew in the provider's schema) is refused by the gate
// before up.
const ScenarioReplaceRefused = "replace-refused"

// withConsentRangeKey is the program with a range key added to the
// consent table, as a careless schema change would.
func withConsentRangeKey(ctx *pulumi.Context) error {
	if err := ctx.RegisterStackTransformation(func(a *pulumi.ResourceTransformationArgs) *pulumi.ResourceTransformationResult {
		t, ok := a.Props.(*dynamodb.TableArgs)
		if !ok || a.Name != spec.TableConsent {
			return nil
		}
		t.RangeKey = pulumi.String("sk")
		t.Attributes = append(t.Attributes.(dynamodb.TableAttributeArray),
			dynamodb.TableAttributeArgs{Name: pulumi.String("sk"), Type: pulumi.String(spec.AttributeTypeString)})
		return &pulumi.ResourceTransformationResult{Props: t, Opts: a.Opts}
	}); err != nil {
		return err
	}
	return stacks.Program(ctx)
}

// replaceRefused: the engine's protect refuses the replacement inside the
// preview (it plans the replace, then fails); the driver must report that
// as a gate-style refusal (exit 1) naming the table and the property that
// forces the replacement, not as an engine failure (exit 3).
func (r *engineRun) replaceRefused(ctx context.Context) report.Check {
	s := r.sub(ScenarioReplaceRefused)
	r.program = withConsentRangeKey
	defer func() { r.program = nil }()
	d, err := r.open(ctx)
	if err != nil {
		return fail("opening the stack: "+err.Error(), "")
	}
	_, ok := d.PreviewAndGate(ctx, gate.Evaluate, gate.OptionsFor(r.cfg, nil), nil, s.rep)
	code := s.rep.ExitCode()
	refusals := s.failed()
	// The refusal is the expected result: keep the findings as passes.
	for i := range s.rep.Checks {
		if s.rep.Checks[i].Status == report.Fail {
			s.rep.Checks[i].Status, s.rep.Checks[i].Reason = report.Pass, "refused as expected: "+s.rep.Checks[i].Reason
		}
	}
	r.keep(s)
	all := strings.Join(refusals, "; ")
	switch {
	case ok:
		return fail("the preview and gate let a plan that replaces the consent table through", "")
	case code != report.ExitFailed:
		return fail(fmt.Sprintf("the refusal is exit %d, not a gate-style refusal (exit 1): %s", code, firstN(all, 300)), "the driver must recognise the engine's protect refusal")
	case !strings.Contains(all, spec.TableConsent) || !strings.Contains(all, "rangeKey"):
		return fail("the refusal does not name the consent table and rangeKey: "+firstN(all, 300), "")
	}
	return report.Check{Status: report.Pass, Reason: "a new range key on the consent table (ForceNew) is refused before up (only a preview ran), exit 1: " + firstN(all, 300)}
}
