package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/mirror-dissonance/mirror-infra/internal/driver"
	"github.com/mirror-dissonance/mirror-infra/internal/gate"
	"github.com/mirror-dissonance/mirror-infra/report"
)

const previewLong = `Preview with a saved plan and the gate, never applying anything. Prints
the change summary and the plan fingerprint a reviewer approves (pass it to
"deploy <stack> --approve"); writes out/<stack>/<stack>.plan.json,
.summary.json and .summary.md. Exit 1 when the gate refuses the plan, 3
when the engine fails (for example the AWS provider plugin is missing).
The pre-flight runs after the gate: a planned create whose name already
exists in the account (for example a Terraform-made table) stops with exit
1, listing type, name and where it was found; take them over with
"adopt <stack>". --skip-preflight turns it off.`

type previewOptions struct {
	common
	driver  driverFlags
	allow   listFlag
	skipPre bool
}

var previewSpec = commandSpec{use: "preview <stack>", short: "preview and save the plan; print the summary and its fingerprint", long: previewLong,
	timeout: engineTimeout, bounds: "the preview, the gate and the pre-flight"}

func (o *previewOptions) run(ctx context.Context, a *app, c *cobra.Command, stack string) (*report.Report, error) {
	pre := preflightHook
	if o.skipPre {
		pre = nil
	}
	return a.driverCommand(ctx, c, "preview", stack, o.driver, false, pre, func(d *driver.Driver, s stackRun, r *report.Report) {
		d.PreviewAndGate(ctx, gate.Evaluate, gate.OptionsFor(s.cfg, o.allow), a.io.err, r)
	})
}

func (o *previewOptions) flags(c *cobra.Command, env environ) {
	o.driver.add(c, env)
	c.Flags().Var(&o.allow, "allow-stateful", "allow the plan to delete or replace this stateful resource (table or key); repeat for each one")
	c.Flags().BoolVar(&o.skipPre, "skip-preflight", false, "do not check planned creates against names that already exist in the account (only for an account known to be empty)")
}
