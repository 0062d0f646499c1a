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

func (r *engineRun) replaceRefused(ctx context.Context) report.Check {
	s := r.sub(ScenarioReplaceRefused)
	r.program = withConsentRangeKey
	defer func() { r.program = nil }()
	d, err := r.open(ctx)
	if err != nil {
		return fail("opening the stack: "+err.Error(), "")
	}
	p, ok := d.PreviewAndGate(ctx, gate.Evaluate, gate.OptionsFor(r.cfg, nil), nil, s.rep)
	if p == nil {
		failed := strings.Join(s.failed(), "; ")
		if !strings.Contains(failed, "unable to replace resource") {
			r.keep(s)
			return fail("preview: "+failed, "")
		}
		// protect refuses the replacement in the engine, before the gate
		// sees a plan; the driver reports it as an engine failure.
		c, _ := s.rep.Find("preview")
		code := s.rep.ExitCode()
		for i := range s.rep.Checks {
			s.rep.Checks[i].Status, s.rep.Checks[i].Reason = report.Pass, "refused as expected: "+s.rep.Checks[i].Reason
		}
		r.keep(s)
		return report.Check{Status: report.Pass, Reason: fmt.Sprintf("a new range key on the consent table (ForceNew) is refused by protect already in the preview (%s), so nothing is applied; "+
			"the driver reports it as exit %d (an engine failure) without a plan or a gate finding, where a gate refusal would be exit 1 naming the table", firstN(c.Reason, 200), code)}
	}
	var replaced []string
	for _, c := range p.Changes {
		if c.Op == gate.OpReplace || strings.Contains(string(c.Op), "replace") {
			replaced = append(replaced, fmt.Sprintf("%s %s (%s)", c.Op, c.Name, strings.Join(c.Diffs, ", ")))
		}
	}
	refusals := s.failed()
	// The refusal is the expected result: keep the findings as passes.
	for i := range s.rep.Checks {
		if s.rep.Checks[i].Status == report.Fail {
			s.rep.Checks[i].Status, s.rep.Checks[i].Reason = report.Pass, "refused as expected: "+s.rep.Checks[i].Reason
		}
	}
	r.keep(s)
	switch {
	case ok:
		return fail("the gate let a plan that replaces the consent table through: "+strings.Join(replaced, "; "), "")
	case len(replaced) == 0:
		return fail("the preview did not plan a replacement of the consent table (rangeKey is ForceNew): "+strings.Join(refusals, "; "), "")
	}
	return report.Check{Status: report.Pass, Reason: fmt.Sprintf("a new range key on the consent table plans %s; the gate refused it before up (%s); nothing was applied",
		strings.Join(replaced, ", "), firstN(strings.Join(refusals, "; "), 300))}
}
