package main

import (
	"context"
	"fmt"
	"time"

	"github.com/mirror-dissonance/mirror-infra/internal/gate"
	"github.com/mirror-dissonance/mirror-infra/internal/mockrun"
	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/stacks/stackconfig"
)

const checkDetail = `Runs the stack program under Pulumi mocks with the stack's
Pulumi.<stack>.yaml and applies the deploy gate rules (SPEC 5) to the planned
resources. Needs no credentials, no network, no pulumi CLI and no plugin, so
it runs in forks and in CI for every pull request.

One check per gate rule; --json also lists the planned resources with their
inputs. Exit 0 when every rule passes, 1 when one fails, 2 when the stack or
its configuration is invalid.

Flags:
  --json, --markdown FILE, --project-dir DIR`

func runCheck(ctx context.Context, io stdio, args []string) int {
	var o options
	fs := newFlagSet("check", io)
	addCommon(fs, &o, false, false)
	_, cfg, _, code, ok := oneStackConfig(io, fs, "check", &o, args)
	if !ok {
		return code
	}
	rep, err := checkStack(ctx, cfg)
	if err != nil {
		fmt.Fprintf(io.err, "automation check: %v\n", err)
		return report.ExitUsage
	}
	return emit(io, o, rep)
}

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
