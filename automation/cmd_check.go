package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/mirror-dissonance/mirror-infra/gate"
	"github.com/mirror-dissonance/mirror-infra/mockrun"
	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/stackconfig"
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
	stack, code, ok := oneStack(io, fs, "check", args)
	if !ok {
		return code
	}
	dir, err := projectDir(o.projectDir)
	if err != nil {
		return usageErrorf(io, "check", "%v", err)
	}
	cfg, err := stackconfig.Load(dir, stack)
	if err != nil {
		fmt.Fprintf(io.err, "automation check: %v\n", err)
		return report.ExitUsage
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
	findings := gate.Evaluate(res.Resources, gate.Options{Environment: cfg.Environment, DeletionProtection: cfg.DeletionProtection})
	rep := &report.Report{Command: "check", Stack: cfg.Stack, Started: start}
	rep.Add(gateChecks(findings)...)
	for _, r := range res.AWSResources() {
		rep.Resources = append(rep.Resources, r)
	}
	rep.Elapsed = time.Since(start).Round(time.Millisecond).String()
	return rep, nil
}

// gateChecks turns findings into one check per rule: FAIL with every
// finding's message, PASS with the rule's description otherwise.
func gateChecks(findings []gate.Finding) []report.Check {
	byRule := map[string][]gate.Finding{}
	for _, f := range findings {
		byRule[f.Rule] = append(byRule[f.Rule], f)
	}
	ids := make([]string, 0, len(gate.Rules))
	for id := range gate.Rules {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var out []report.Check
	for _, id := range ids {
		fs := byRule[id]
		if len(fs) == 0 {
			out = append(out, report.Check{ID: "gate:" + id, Status: report.Pass, Reason: gate.Rules[id]})
			continue
		}
		var msgs []string
		for _, f := range fs {
			m := f.Message
			if f.Resource != "" {
				m = f.Resource + ": " + m
			}
			msgs = append(msgs, m)
		}
		out = append(out, report.Check{ID: "gate:" + id, Status: report.Fail, Reason: strings.Join(msgs, "; "),
			Fix: "change the program or Pulumi.<stack>.yaml so that " + gate.Rules[id]})
	}
	if un := byRule[gate.RuleUnverifiableInputs]; len(un) > 0 {
		var msgs []string
		for _, f := range un {
			msgs = append(msgs, f.Resource+": "+f.Message)
		}
		out = append(out, report.Check{ID: "gate:" + gate.RuleUnverifiableInputs, Status: report.Warn, Reason: strings.Join(msgs, "; ")})
	}
	return out
}
