package rehearse

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/mirror-dissonance/mirror-infra/internal/driver"
	"github.com/mirror-dissonance/mirror-infra/internal/sweep"
	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/spec"
	"github.com/mirror-dissonance/mirror-infra/stacks/stackconfig"
)

// ScenarioDestroy: destroy refuses while protected resources are not
// named; an ephemeral acc- stack destroys completely and the sweep's
// leftovers finds nothing.
const ScenarioDestroy = "destroy"

// accStack is the rehearsal's ephemeral acceptance stack, made from
// Pulumi.acc-example.yaml as the acceptance workflow makes its own.
const accStack = "acc-engine"

func (r *engineRun) destroy(ctx context.Context) report.Check {
	s := r.sub(ScenarioDestroy)
	defer r.keep(s)
	d, err := r.open(ctx)
	if err != nil {
		return fail("opening the stack: "+err.Error(), "")
	}
	before, err := d.State(ctx)
	if err != nil {
		return fail("reading the state: "+err.Error(), "")
	}
	dp, err := d.PlanDestroy(ctx)
	if err != nil {
		return fail("planning the destroy: "+err.Error(), "")
	}
	refused := d.Destroy(ctx, nil, dp.Fingerprint)
	err = refused
	if !errors.Is(err, driver.ErrProtected) {
		s.rep.Add(driver.ErrorCheck("destroy", err))
		return fail(fmt.Sprintf("destroy of %s without naming its protected resources: %v, want a refusal", r.o.Stack, err), "")
	}
	var unnamed []string
	for _, name := range []string{spec.TableConsent, spec.TableFPEvents, spec.TableBlockCounter} {
		if !strings.Contains(err.Error(), name) {
			unnamed = append(unnamed, name)
		}
	}
	if len(unnamed) > 0 {
		return fail("the refusal does not name "+strings.Join(unnamed, ", ")+": "+err.Error(), "")
	}
	after, err := d.State(ctx)
	if err != nil || len(after) != len(before) {
		return fail(fmt.Sprintf("the refused destroy changed the state (%d resources before, %d after, %v)", len(before), len(after), err), "")
	}
	refusal := driver.ErrorCheck("destroy", refused)
	s.rep.Add(report.Check{ID: "destroy", Status: report.Pass, Reason: "refused as expected: " + refused.Error()})

	accCfg, err := r.addStack(accStack, "acc-example")
	if err != nil {
		return fail(err.Error(), "")
	}
	da, err := r.openStack(ctx, accStack)
	if err != nil {
		return fail("opening "+accStack+": "+err.Error(), "")
	}
	if _, _, ok := r.cycle(ctx, da, accCfg, s); !ok {
		return fail("deploying "+accStack+": "+strings.Join(s.failed(), "; "), "")
	}
	ap, err := da.PlanDestroy(ctx)
	if err != nil {
		return fail("planning the destroy of "+accStack+": "+err.Error(), "")
	}
	if len(ap.Protected) > 0 {
		return fail(fmt.Sprintf("the ephemeral stack has %d protected resources", len(ap.Protected)), "")
	}
	if err := da.Destroy(ctx, nil, ap.Fingerprint); err != nil {
		s.rep.Add(driver.ErrorCheck("destroy "+accStack, err))
		return fail("destroy of "+accStack+": "+err.Error(), "")
	}
	left, err := sweep.Find(ctx, sweep.NewClients(r.awsCfg), accStack)
	if err != nil {
		return fail("leftovers of "+accStack+": "+err.Error(), "")
	}
	if len(left) > 0 {
		var names []string
		for _, l := range left {
			names = append(names, l.String())
		}
		return fail("after the destroy of "+accStack+" leftovers finds: "+strings.Join(names, ", "), "the provider's Delete must remove (or schedule the deletion of) each resource")
	}
	state, err := da.State(ctx)
	if err != nil {
		return fail("reading the state of "+accStack+": "+err.Error(), "")
	}
	if n := len(slices.DeleteFunc(state, func(x driver.StateResource) bool { return !x.Custom })); n > 0 {
		return fail(fmt.Sprintf("%d resources are still in the state of %s", n, accStack), "")
	}
	return report.Check{Status: report.Pass, Reason: fmt.Sprintf("destroy of %s refused (%s; exit %d) and changed nothing; the ephemeral %s (%d resources, none protected) deployed, destroyed completely, and leftovers found nothing",
		r.o.Stack, firstN(refusal.Reason, 160), (&report.Report{Checks: []report.Check{refusal}}).ExitCode(), accStack, len(ap.Resources))}
}

// addStack copies the project's Pulumi.<from>.yaml into the rehearsal's
// project as Pulumi.<stack>.yaml and loads it.
func (r *engineRun) addStack(stack, from string) (stackconfig.Config, error) {
	b, err := os.ReadFile(filepath.Join(r.o.ProjectDir, "Pulumi."+from+".yaml"))
	if err != nil {
		return stackconfig.Config{}, fmt.Errorf("reading the %s stack settings: %w", from, err)
	}
	if err := os.WriteFile(filepath.Join(r.dir, "Pulumi."+stack+".yaml"), b, 0o644); err != nil {
		return stackconfig.Config{}, fmt.Errorf("writing the %s stack settings: %w", stack, err)
	}
	return stackconfig.Load(r.dir, stack)
}
