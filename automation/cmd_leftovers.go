package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/mirror-dissonance/mirror-infra/internal/recovery"
	"github.com/mirror-dissonance/mirror-infra/internal/sweep"
	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/spec"
)

const leftoversLong = `After an acceptance run's destroy: lists everything still named after the
ephemeral stack (acc-<run> only): tables, the key alias, a key not scheduled
for deletion, the topic, alarms, dashboard, roles, the baselines bucket and
the nonce versions, and what a restore drill left (scratch tables
<table>-drill-<id>, markers in a table still there). Read-only, except --purge-nonce, which first deletes the
nonce versions the post-deploy stage made outside Pulumi (no destroy knows
about them). Exit 0 when nothing is left, 1 when something is (each one a
FAIL check naming it), 2 for a stack that is not acc-<run>, 3 when AWS could
not be asked.`

type leftoversOptions struct {
	common
	purge bool
}

var leftoversSpec = commandSpec{use: "leftovers <acc-stack>", short: "after an acceptance run's destroy: list what is still named after it (exit 1 if anything)", long: leftoversLong,
	timeout: 10 * time.Minute, bounds: "the listing (and the purge)"}

func (o *leftoversOptions) flags(c *cobra.Command, env environ) {
	c.Flags().BoolVar(&o.purge, "purge-nonce", false, "delete the run's nonce versions (made outside Pulumi) before looking")
}

func (o *leftoversOptions) run(ctx context.Context, a *app, c *cobra.Command, stack string) (*report.Report, error) {
	if !spec.IsEphemeralStack(stack) {
		return nil, usageErrorf("stack %q is not an ephemeral acceptance stack (%s<run>): leftovers looks only at runs that were meant to disappear", stack, spec.EphemeralPrefix)
	}
	cfg, dir, err := stackOf(c, stack)
	if err != nil {
		return nil, err
	}
	// The drill's scratch tables and markers are found from the SPEC
	// names of the environment's tables (there are no outputs after a
	// destroy).
	tgt, err := a.resolveTarget(ctx, dir, cfg, targetFlags{fromEnv: true})
	if err != nil {
		return nil, err
	}
	awsCfg, err := awsConfig(ctx, cfg.Region)
	if err != nil {
		return nil, err
	}
	r := &report.Report{Command: "leftovers", Stack: stack, Started: time.Now()}
	sc := sweep.NewClients(awsCfg)
	if o.purge {
		n, err := sweep.PurgeParameters(ctx, sc, cfg.Environment)
		if err != nil {
			r.Add(report.Check{ID: "leftovers", Status: report.Fail, Infra: true, Reason: err.Error()})
			return r, nil
		}
		r.Add(report.Check{ID: "leftovers.nonce", Status: report.Pass, Reason: fmt.Sprintf("deleted %d nonce version(s) of %s", n, cfg.Environment)})
	}
	found, err := sweep.Find(ctx, sc, cfg.Environment)
	if err != nil {
		r.Add(report.Check{ID: "leftovers", Status: report.Fail, Infra: true, Reason: err.Error(),
			Fix: "the sandbox role needs the List/Describe permissions of docs/operations.md; a partial answer is not a clean account"})
	}
	drilled, derr := recovery.Leftovers(ctx, awsCfg, tgt)
	if derr != nil {
		r.Add(report.Check{ID: "leftovers.drill", Status: report.Fail, Infra: true, Reason: derr.Error()})
	}
	scratch := map[string]bool{}
	for _, l := range drilled {
		what := "the drill's scratch table " + l.Name
		if l.Kind == "marker" {
			what = "a drill marker in " + l.Name
		} else {
			scratch[l.Name] = true
		}
		if l.Run != "" {
			what += " (run " + l.Run + ")"
		}
		r.Add(report.Check{ID: "leftovers:drill-" + l.Kind + ":" + l.Name, Status: report.Fail, Reason: what + " is still there",
			Details: map[string]string{"kind": "drill-" + l.Kind, "name": l.Name, "run": l.Run, "status": l.Status},
			Fix:     fmt.Sprintf("go run ./automation drill %s --sweep --from-env (a table still CREATING goes at the next sweep)", stack)})
	}
	for _, l := range found {
		if l.Kind == "table" && scratch[l.Name] {
			continue // listed above, as what a drill left
		}
		// One id per resource, so each row of the report says what it is.
		r.Add(report.Check{ID: "leftovers:" + l.Kind + ":" + l.Name, Status: report.Fail, Reason: fmt.Sprintf("%s %s is still there after the destroy", l.Kind, l.Name),
			Details: map[string]string{"kind": l.Kind, "name": l.Name},
			Fix:     fmt.Sprintf("destroy again (go run ./automation destroy %s --yes), or delete it by hand; resources carry the tag AcceptanceRun=%s", stack, stack)})
	}
	if err == nil && derr == nil && len(found) == 0 && len(drilled) == 0 {
		r.Add(report.Check{ID: "leftovers", Status: report.Pass, Reason: fmt.Sprintf("nothing named after %s is left (a key scheduled for deletion counts as gone)", stack)})
	}
	r.Elapsed = time.Since(r.Started).Round(time.Millisecond).String()
	return r, nil
}
