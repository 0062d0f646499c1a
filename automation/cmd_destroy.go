package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mirror-dissonance/mirror-infra/internal/driver"
	"github.com/mirror-dissonance/mirror-infra/report"
)

const destroyLong = `Guarded destroy. Lists what would be deleted and the destroy fingerprint;
refuses while a protected resource (tables, the key) is not named with
--allow-destroy NAME (repeat for each one). Approval as for deploy:
production needs --approve <fingerprint>. DynamoDB deletion protection is
enforced by AWS as well: turn it off through config (non-production only)
and deploy before destroying tables.`

type destroyOptions struct {
	common
	approval approvalFlags
	driver   driverFlags
	allow    listFlag
}

var destroySpec = commandSpec{use: "destroy <stack>", short: "guarded destroy: refuses while protected resources exist unless each is named", long: destroyLong,
	timeout: time.Hour, bounds: "the plan and the destroy"}

func (o *destroyOptions) run(ctx context.Context, a *app, c *cobra.Command, stack string) (*report.Report, error) {
	if err := o.approval.checkApprovals([]string{stack}); err != nil {
		return nil, err
	}
	return a.driverCommand(ctx, c, "destroy", stack, o.driver, true, nil, func(d *driver.Driver, s stackRun, r *report.Report) {
		a.destroy(ctx, d, o, o.approval.approval(a, s.cfg, true, a.io.err), s.stack, r)
	})
}

func (o *destroyOptions) flags(c *cobra.Command, env environ) {
	o.approval.add(c, env)
	o.driver.add(c, env)
	c.Flags().Var(&o.allow, "allow-destroy", "destroy this protected resource (logical name or URN); repeat for each one")
}

func (a *app) destroy(ctx context.Context, d *driver.Driver, o *destroyOptions, approval driver.Approval, stack string, r *report.Report) {
	p, err := d.PlanDestroy(ctx)
	if err != nil {
		r.Add(driver.ErrorCheck("destroy", err))
		return
	}
	if len(p.Resources) == 0 {
		r.Add(report.Check{ID: "destroy", Status: report.Pass, Reason: "the stack has no resources; nothing to destroy"})
		return
	}
	fmt.Fprintf(a.io.err, "Destroy %s would delete %d resource(s):\n", stack, len(p.Resources))
	var refused []string
	for _, res := range p.Resources {
		mark := ""
		if res.Protect {
			mark = " (protected)"
			if !namedIn(o.allow, res.URN) {
				refused = append(refused, driver.URNName(res.URN))
			}
		}
		// Types and names come from the state: controls are shown, not sent.
		fmt.Fprintf(a.io.err, "  - %s %s%s\n", report.Terminal(res.Type), report.Terminal(driver.URNName(res.URN)), mark)
	}
	fmt.Fprintf(a.io.err, "Fingerprint: %s\n", p.Fingerprint)
	if len(refused) > 0 {
		r.Add(report.Check{ID: "destroy", Status: report.Fail,
			Reason: "refused: protected resources not named: " + strings.Join(refused, ", "),
			Fix:    "name each protected resource to destroy with --allow-destroy NAME"})
		return
	}
	approved, decision := approval.Decide(stack, p.Fingerprint)
	r.Add(decision)
	if !approved {
		return
	}
	if err := d.Destroy(ctx, o.allow, p.Fingerprint); err != nil {
		r.Add(driver.ErrorCheck("destroy", err))
		return
	}
	r.Add(report.Check{ID: "destroy", Status: report.Pass, Reason: fmt.Sprintf("destroyed %d resource(s)", len(p.Resources))})
}

// namedIn reports whether the operator named a resource by URN or by
// logical name.
func namedIn(names []string, urn string) bool {
	for _, n := range names {
		if n == urn || n == driver.URNName(urn) {
			return true
		}
	}
	return false
}
