package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/mirror-dissonance/mirror-infra/internal/driver"
	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/spec"
	"github.com/mirror-dissonance/mirror-infra/stacks/stackconfig"
)

// defaultParallel bounds concurrent stack cycles: each runs a pulumi CLI
// and its provider plugins, so more than a few mostly contend for CPU.
const defaultParallel = 4

// selectStacks are the stacks of this run, in the order given (arguments,
// then --stacks, or with --all every Pulumi.<stack>.yaml but the
// acceptance stacks, sorted), without duplicates.
func (o *deployOptions) selectStacks(c *cobra.Command, pos []string) ([]string, error) {
	if o.parallel < 1 {
		return nil, usageErrorf("--parallel %d: want 1 or more", o.parallel)
	}
	names := append([]string{}, pos...)
	if o.stacks != "" {
		for _, s := range strings.Split(o.stacks, ",") {
			if s = strings.TrimSpace(s); s == "" {
				return nil, usageErrorf("--stacks %q has an empty name; want a comma-separated list such as staging,production", o.stacks)
			}
			names = append(names, s)
		}
	}
	if o.all {
		if len(names) > 0 {
			return nil, usageErrorf("--all deploys every stack; do not also name stacks (%s)", strings.Join(names, ", "))
		}
		dir, err := projectDirOf(c)
		if err != nil {
			return nil, err
		}
		for _, s := range stackconfig.Available(dir) {
			// Acceptance stacks (and their template) are made per run
			// and always named explicitly.
			if !strings.HasPrefix(s, spec.EphemeralPrefix) {
				names = append(names, s)
			}
		}
		if len(names) == 0 {
			return nil, usageErrorf("--all: no Pulumi.<stack>.yaml in %s but acceptance stacks (name those)", dir)
		}
	}
	var out []string
	for _, n := range names {
		if !contains(out, n) {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return nil, usageErrorf("want exactly one stack name, or several (deploy staging production, --stacks a,b or --all); got none")
	}
	return out, nil
}

// stackCycle runs one stack of a multi-stack deploy into r.
type stackCycle func(ctx context.Context, s stackRun, r *report.Report)

// realCycle is the single-stack deploy cycle for one stack of several.
func (a *app) realCycle(o *deployOptions) (stackCycle, error) {
	runOpts, err := a.runOptions(context.Background())
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, s stackRun, r *report.Report) {
		var pre driver.PreFlight
		if mk := o.preflight(); mk != nil {
			pre = mk(s.cfg)
		}
		d, err := a.openDriver(ctx, o.driver, s, false, pre)
		if err != nil {
			r.Add(driver.ErrorCheck("preview", err))
			return
		}
		d.Deploy(ctx, cycleOptions(s, o.allow, postUpHooks(s.cfg, o.rotation, runOpts)), r)
	}, nil
}

// deployMany runs the cycle of each stack concurrently (at most
// --parallel at once), each with its own plan, gate and approval.
func (a *app) deployMany(ctx context.Context, c *cobra.Command, o *deployOptions, names []string) ([]*report.Report, error) {
	if err := o.approval.checkApprovals(names); err != nil {
		return nil, err
	}
	// Every stack's config is checked before any cloud call: a bad value
	// is exit 2 for the whole run, as for one stack.
	runs := map[string]stackRun{}
	for _, s := range names {
		cfg, dir, err := stackOf(c, s)
		if err != nil {
			return nil, err
		}
		runs[s] = stackRun{stack: s, dir: dir, cfg: cfg}
	}
	cycle := a.deps.cycle
	if cycle == nil {
		if err := a.requirePassphrase(o.driver.secretsProvider); err != nil {
			return nil, err
		}
		var err error
		if cycle, err = a.realCycle(o); err != nil {
			return nil, err
		}
	}
	fmt.Fprintf(a.io.err, "deploy: %d stacks (%s), at most %d at once; each line of a stack's progress starts with [stack]\n",
		len(names), strings.Join(names, ", "), o.parallel)
	var mu sync.Mutex
	return driver.RunStacks(ctx, names, o.parallel, func(ctx context.Context, stack string) *report.Report {
		pw := &prefixWriter{mu: &mu, w: a.io.err, prefix: "[" + stack + "] "}
		defer pw.flush()
		r := &report.Report{Command: "deploy", Stack: stack, Started: time.Now()}
		s := runs[stack]
		s.progress = pw
		// Concurrent stacks cannot share one terminal prompt: approve with
		// --yes or --approve STACK=FP, else each stops after its preview.
		s.approval = o.approval.approval(a, s.cfg, false, pw)
		cycle(ctx, s, r)
		r.Elapsed = time.Since(r.Started).Round(time.Millisecond).String()
		fmt.Fprintf(pw, "done: exit %d (%s)\n", r.ExitCode(), r.Summary())
		return r
	}), nil
}

// prefixWriter prefixes every line a stack writes and writes whole lines
// only, under a lock shared by the stacks, so concurrent progress stays
// readable.
type prefixWriter struct {
	mu     *sync.Mutex
	w      io.Writer
	prefix string
	buf    []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			return len(b), nil
		}
		p.mu.Lock()
		_, err := fmt.Fprintf(p.w, "%s%s\n", p.prefix, p.buf[:i])
		p.mu.Unlock()
		p.buf = p.buf[i+1:]
		if err != nil {
			return len(b), err
		}
	}
}

// flush writes a last unterminated line.
func (p *prefixWriter) flush() {
	if len(p.buf) > 0 {
		_, _ = p.Write([]byte("\n"))
	}
}
