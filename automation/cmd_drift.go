package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mirror-dissonance/mirror-infra/internal/driver"
	"github.com/mirror-dissonance/mirror-infra/report"
)

const driftLong = `Refresh in preview mode: compares every resource's real state with the
state Pulumi recorded and lists what changed outside Pulumi (for example
PITR switched off in the console). Nothing is written. Exit 1 on drift.`

type driftOptions struct {
	common
	driver driverFlags
}

var driftSpec = commandSpec{use: "drift <stack>", short: "what changed outside Pulumi (refresh in preview mode); exit 1 on drift", long: driftLong,
	timeout: engineTimeout, bounds: "the refresh"}

func (o *driftOptions) run(ctx context.Context, a *app, c *cobra.Command, stack string) (*report.Report, error) {
	return a.driverCommand(ctx, c, "drift", stack, o.driver, true, nil, func(d *driver.Driver, s stackRun, r *report.Report) {
		driftChecks(ctx, d, s.stack, r)
	})
}

func (o *driftOptions) flags(c *cobra.Command, env environ) {
	o.driver.add(c, env)
}

// driftChecks is one check per resource changed outside Pulumi.
func driftChecks(ctx context.Context, d *driver.Driver, stack string, r *report.Report) {
	drift, err := d.Drift(ctx)
	switch {
	case err != nil:
		r.Add(driver.ErrorCheck("drift", err))
	case len(drift) == 0:
		r.Add(report.Check{ID: "drift", Status: report.Pass, Reason: "no resource changed outside Pulumi"})
	default:
		for _, x := range drift {
			reason := fmt.Sprintf("%s %s changed outside Pulumi: %s", x.Type, x.Name, strings.Join(x.Changed, ", "))
			if x.Gone {
				reason = fmt.Sprintf("%s %s was deleted outside Pulumi", x.Type, x.Name)
			}
			r.Add(report.Check{ID: "drift", Status: report.Fail, Reason: reason,
				Fix: fmt.Sprintf("restore the declared state with `go run ./automation %s`, or change the program to adopt the change", stack)})
		}
	}
}
