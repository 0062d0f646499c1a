package rehearse

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mirror-dissonance/mirror-infra/emulator"
	"github.com/mirror-dissonance/mirror-infra/internal/adopt"
	"github.com/mirror-dissonance/mirror-infra/internal/driver"
	"github.com/mirror-dissonance/mirror-infra/internal/gate"
	"github.com/mirror-dissonance/mirror-infra/internal/mockrun"
	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/stacks"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// ScenarioAdopt: the emulator's Terraform seed adopted through the
// engine's import with the program's parents; no create, replace or delete
// of a table, key or bucket; the items survive; the next deploy converges.
const ScenarioAdopt = "adopt"

// adoptStack is a stack of its own environment, so the Terraform seed's
// names collide with nothing the other scenarios made.
const adoptStack = "production"

// stateful are the types whose create, replace or delete an adoption must
// never plan.
var stateful = []string{gate.TypeTable, "aws:kms/key:Key", "aws:s3/bucketV2:BucketV2", "aws:s3/bucket:Bucket"}

func (r *engineRun) adopt(ctx context.Context) report.Check {
	s := r.sub(ScenarioAdopt)
	defer r.keep(s)
	cfg, err := r.addStack(adoptStack, adoptStack)
	if err != nil {
		return fail(err.Error(), "")
	}
	tf, err := emulator.SeedTerraform(ctx, r.awsCfg, emulator.TerraformOptions{Env: cfg.Environment})
	if err != nil {
		return fail("seeding the Terraform-made environment: "+err.Error(), "")
	}
	defer func() {
		cleanCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if err := tf.Teardown(cleanCtx); err != nil {
			r.log.Warn("removing the Terraform-made environment", "err", err)
		}
	}()
	before, err := tableTimes(ctx, r.awsCfg, tf.Tables)
	if err != nil {
		return fail(err.Error(), "")
	}
	plan, err := adopt.Discover(ctx, r.awsCfg, cfg, r.log)
	if err != nil {
		return fail("discovering the Terraform-made environment: "+err.Error(), "")
	}
	s.rep.Add(planCheck(plan))
	if len(plan.Conflicts) > 0 {
		return fail("the adoption plan has conflicts: "+strings.Join(s.failed(), "; "), "")
	}
	// `pulumi import --file` needs pulumi-language-go, which these machines
	// lack; the engine's other import is the program's: each discovered
	// resource declared with pulumi.Import(id) (ignoring its differences
	// for the import step only), under the parents the program gives it.
	ids := plan.ImportIDs()
	r.program = func(ctx *pulumi.Context) error {
		if err := ctx.RegisterStackTransformation(func(a *pulumi.ResourceTransformationArgs) *pulumi.ResourceTransformationResult {
			id, ok := ids[mockrun.ImportKey(a.Type, a.Name)]
			if !ok {
				return nil
			}
			return &pulumi.ResourceTransformationResult{Props: a.Props, Opts: append(a.Opts, pulumi.Import(pulumi.ID(id)), pulumi.IgnoreChanges([]string{"*"}))}
		}); err != nil {
			return err
		}
		return stacks.Program(ctx)
	}
	d, err := r.openStack(ctx, adoptStack)
	if err != nil {
		r.program = nil
		return fail("opening "+adoptStack+": "+err.Error(), "")
	}
	// The import step's gate findings are Terraform's settings, which the
	// converging plan below fixes and is gated on; they are not this
	// scenario's result.
	importRep := &report.Report{}
	ip, ok := d.PreviewAndGate(ctx, gate.Evaluate, gate.OptionsFor(cfg, nil), nil, importRep)
	if ip != nil {
		_, err = d.Up(ctx, ip.PlanPath, ip.Fingerprint)
	}
	r.program = nil
	if ip == nil || err != nil {
		if err != nil {
			s.rep.Add(driver.ErrorCheck("import", err))
		}
		return fail(fmt.Sprintf("import through the program: %v %s", err, strings.Join((&sub{rep: importRep}).failed(), "; ")), "")
	}
	s.rep.Add(report.Check{ID: "import", Status: report.Pass, Reason: fmt.Sprintf("imported through the program with a saved plan (%d gate findings on Terraform's settings, left to the converging plan; gate alone would pass: %v)", len((&sub{rep: importRep}).failed()), ok)})
	d, err = r.openStack(ctx, adoptStack)
	if err != nil {
		return fail("opening "+adoptStack+": "+err.Error(), "")
	}
	imported := plan.ImportedNames()
	g := func(res []gate.Resource, o gate.Options) []gate.Finding {
		return append(gate.Adoption(res, imported), gate.Evaluate(res, o)...)
	}
	p, ok := d.PreviewAndGate(ctx, g, gate.OptionsFor(cfg, nil), nil, s.rep)
	if p == nil || !ok {
		return fail("the preview after the import: "+strings.Join(s.failed(), "; "), "")
	}
	var bad, changes []string
	for _, c := range p.Changes {
		changes = append(changes, fmt.Sprintf("%s %s", c.Op, c.Name))
		if slices.Contains(stateful, c.Type) && c.Op != gate.OpUpdate {
			bad = append(bad, fmt.Sprintf("%s %s (%s)", c.Op, c.Name, c.Type))
		}
	}
	if len(bad) > 0 {
		return fail("the adoption plans "+strings.Join(bad, ", "), "")
	}
	approved, c := driver.Approval{Production: true, Fingerprint: p.Fingerprint}.Decide(adoptStack, p.Fingerprint)
	s.rep.Add(c)
	if !approved {
		return fail("the approval by fingerprint was refused", "")
	}
	kept := preservedCheck(ctx, r.awsCfg, tf, before)
	s.rep.Add(kept)
	if kept.Status != report.Pass {
		return fail("after the import: "+kept.Reason, "")
	}
	if _, err := d.Up(ctx, p.PlanPath, p.Fingerprint); err != nil {
		if gaps := endpointGaps(err.Error()); len(gaps) > 0 {
			// The import and the gated plan held; the in-place fixes need
			// operations the emulator does not serve.
			s.rep.Add(report.Check{ID: "up", Status: report.Warn, Reason: "the endpoint refused operations the in-place fixes need: " + strings.Join(gaps, ", "),
				Fix: "only an endpoint serving them (or a real account) proves the converging deploy"})
			return report.Check{Status: report.Warn, Reason: fmt.Sprintf("the Terraform-made %s was imported through the program (pulumi.Import under the program's parents: %d resources, %d created), the items survived (%s), and the next deploy's gated plan has no create, replace or delete of a table, key or bucket (%s); applying it stopped at operations the emulator does not serve (%s), so converging is not proven here",
				cfg.Environment, len(plan.Imports()), len(plan.Creates()), kept.Reason, firstN(strings.Join(changes, ", "), 300), strings.Join(gaps, ", ")),
				Fix: "only an endpoint serving those operations (or a real account) proves the converging deploy"}
		}
		s.rep.Add(driver.ErrorCheck("up", err))
		return fail("up after the import: "+err.Error(), "")
	}
	kept = preservedCheck(ctx, r.awsCfg, tf, before)
	s.rep.Add(kept)
	if kept.Status != report.Pass {
		return fail(kept.Reason, "")
	}
	again, err := d.Preview(ctx)
	if err != nil {
		return fail("the next preview: "+err.Error(), "")
	}
	if again.HasChanges() {
		var ch []string
		for _, c := range again.Changes {
			ch = append(ch, fmt.Sprintf("%s %s (%s)", c.Op, c.Name, strings.Join(c.Diffs, ", ")))
		}
		return fail("the deploy after the adoption did not converge: "+strings.Join(ch, "; "), "")
	}
	return report.Check{Status: report.Pass, Reason: fmt.Sprintf("the Terraform-made %s (%d imported under the program's parents, %d created) previewed with no create, replace or delete of a table, key or bucket (%s), applied with its plan; %s; the next preview has no change",
		cfg.Environment, len(plan.Imports()), len(plan.Creates()), firstN(strings.Join(changes, ", "), 300), kept.Reason)}
}

// endpointGaps are the operations an error says the endpoint does not
// serve ("InvalidAction: The action X is not valid").
func endpointGaps(msg string) []string {
	var out []string
	for _, part := range strings.Split(msg, "The action ")[1:] {
		op := strings.Trim(strings.Fields(part)[0], "'\"")
		if strings.Contains(part, "is not valid") && !slices.Contains(out, op) {
			out = append(out, op)
		}
	}
	return out
}
