package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mirror-dissonance/mirror-infra/internal/awsclient"
	"github.com/mirror-dissonance/mirror-infra/internal/sweep"
	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/spec"
)

const leftoversDetail = `After an acceptance run's destroy: lists everything still named after the
ephemeral stack (acc-<run> only): tables, the key alias, a key not scheduled
for deletion, the topic, alarms, dashboard, roles, the baselines bucket and
the nonce versions. Read-only, except --purge-nonce, which first deletes the
nonce versions the post-deploy stage made outside Pulumi (no destroy knows
about them). Exit 0 when nothing is left, 1 when something is (each one a
FAIL check naming it), 2 for a stack that is not acc-<run>, 3 when AWS could
not be asked.

Flags besides the common ones:
  --purge-nonce   delete the run's nonce versions before looking`

func runLeftovers(ctx context.Context, io stdio, args []string) int {
	fs := newFlagSet("leftovers", io)
	var o options
	addCommon(fs, &o, false, false)
	purge := fs.Bool("purge-nonce", false, "delete the run's nonce versions (made outside Pulumi) before looking")
	stack, code, ok := oneStack(io, fs, "leftovers", args)
	if !ok {
		return code
	}
	if !spec.IsEphemeralStack(stack) {
		return usageErrorf(io, "leftovers", "stack %q is not an ephemeral acceptance stack (%s<run>): leftovers looks only at runs that were meant to disappear", stack, spec.EphemeralPrefix)
	}
	cfg, _, code, ok := loadStackConfig(io, "leftovers", o, stack)
	if !ok {
		return code
	}
	awsCfg, err := awsclient.Load(ctx, awsclient.Options{Region: cfg.Region})
	if err != nil {
		return usageErrorf(io, "leftovers", "loading the AWS configuration: %v", err)
	}
	r := &report.Report{Command: "leftovers", Stack: stack, Started: time.Now()}
	c := sweep.NewClients(awsCfg)
	if *purge {
		n, err := sweep.PurgeParameters(ctx, c, cfg.Environment)
		if errors.Is(err, sweep.ErrRefused) {
			return usageErrorf(io, "leftovers", "%v", err)
		}
		if err != nil {
			r.Add(report.Check{ID: "leftovers", Status: report.Fail, Infra: true, Reason: err.Error()})
			return emit(io, o, r)
		}
		r.Add(report.Check{ID: "leftovers.nonce", Status: report.Pass, Reason: fmt.Sprintf("deleted %d nonce version(s) of %s", n, cfg.Environment)})
	}
	found, err := sweep.Find(ctx, c, cfg.Environment)
	if err != nil {
		r.Add(report.Check{ID: "leftovers", Status: report.Fail, Infra: true, Reason: err.Error(),
			Fix: "the sandbox role needs the List/Describe permissions of docs/operations.md; a partial answer is not a clean account"})
	}
	for _, l := range found {
		r.Add(report.Check{ID: "leftovers", Status: report.Fail, Reason: fmt.Sprintf("%s %s is still there after the destroy", l.Kind, l.Name),
			Details: map[string]string{"kind": l.Kind, "name": l.Name},
			Fix:     fmt.Sprintf("destroy again (go run ./automation destroy %s --yes), or delete it by hand; resources carry the tag AcceptanceRun=%s", stack, stack)})
	}
	if err == nil && len(found) == 0 {
		r.Add(report.Check{ID: "leftovers", Status: report.Pass, Reason: fmt.Sprintf("nothing named after %s is left (a key scheduled for deletion counts as gone)", stack)})
	}
	r.Elapsed = time.Since(r.Started).Round(time.Millisecond).String()
	return emit(io, o, r)
}
