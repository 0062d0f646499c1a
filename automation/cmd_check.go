package main

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/mirror-dissonance/mirror-infra/internal/gate"
	"github.com/mirror-dissonance/mirror-infra/internal/mockrun"
	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/stacks/stackconfig"
)

const checkLong = `Runs the stack program under Pulumi mocks with the stack's
Pulumi.<stack>.yaml and applies the deploy gate rules (SPEC 5) to the planned
resources. Needs no credentials, no network, no pulumi CLI and no plugin, so
it runs in forks and in CI for every pull request.

One check per gate rule; --json also lists the planned resources with their
inputs. Exit 0 when every rule passes, 1 when one fails, 2 when the stack or
its configuration is invalid.`

type checkOptions struct{ common }

var checkSpec = commandSpec{use: "check <stack>", short: "offline: run the program under mocks and apply the gate rules (no credentials, network, CLI or plugin)", long: checkLong,
	timeout: 5 * time.Minute, bounds: "the program's run under mocks"}

func (o *checkOptions) run(ctx context.Context, a *app, c *cobra.Command, stack string) (*report.Report, error) {
	cfg, _, err := stackOf(c, stack)
	if err != nil {
		return nil, err
	}
	r, err := checkStack(ctx, cfg)
	return r, asUsage(err)
}

func (o *checkOptions) flags(*cobra.Command, environ) {}

// checkStack runs the program under mocks and turns gate findings into one
// check per rule.
func checkStack(ctx context.Context, cfg stackconfig.Config) (*report.Report, error) {
	start := time.Now()
	res, err := mockrun.Run(ctx, cfg, nil)
	if err != nil {
		return nil, err
	}
	findings := gate.Evaluate(res.Resources, gate.OptionsFor(cfg, nil))
	rep := &report.Report{Command: "check", Stack: cfg.Stack, Started: start}
	rep.Add(gate.Checks(findings)...)
	for _, r := range res.AWSResources() {
		rep.Resources = append(rep.Resources, r)
	}
	rep.Elapsed = time.Since(start).Round(time.Millisecond).String()
	return rep, nil
}
