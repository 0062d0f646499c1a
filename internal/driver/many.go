package driver

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"github.com/mirror-dissonance/mirror-infra/report"
)

// StackFunc runs one stack's part of a multi-stack command and returns its
// report; it must not share mutable state with the other stacks' runs.
type StackFunc func(ctx context.Context, stack string) *report.Report

// RunStacks runs fn for every stack, at most parallel at a time (parallel
// < 1 means one), and returns the reports in the order of stacks. Each
// stack has its own lock on the backend, so their updates do not contend.
// One stack's failure, even a panic, becomes a failed check in its own
// report and never stops or hides the others; a cancelled ctx is passed to
// every run, which stop cleanly as a single-stack run does.
func RunStacks(ctx context.Context, stacks []string, parallel int, fn StackFunc) []*report.Report {
	if parallel < 1 {
		parallel = 1
	}
	out := make([]*report.Report, len(stacks))
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i, s := range stacks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			out[i] = runOne(ctx, s, fn)
		}()
	}
	wg.Wait()
	return out
}

func runOne(ctx context.Context, stack string, fn StackFunc) (r *report.Report) {
	start := time.Now()
	defer func() {
		if p := recover(); p != nil {
			if r == nil {
				r = &report.Report{Stack: stack, Started: start}
			}
			r.Add(report.Check{ID: "stack", Status: report.Fail, Infra: true,
				Reason:  fmt.Sprintf("the run of %s panicked: %v", stack, p),
				Details: map[string]string{"stack": string(debug.Stack())}})
		}
	}()
	r = fn(ctx, stack)
	if r == nil {
		r = &report.Report{Stack: stack, Started: start}
		r.Add(report.Check{ID: "stack", Status: report.Fail, Infra: true, Reason: "the run of " + stack + " returned no report"})
	}
	return r
}

// WorstExit is the exit code of several reports: the highest of theirs
// (3 engine > 2 usage > 1 failed > 0).
func WorstExit(rs []*report.Report) int {
	worst := report.ExitOK
	for _, r := range rs {
		worst = max(worst, r.ExitCode())
	}
	return worst
}
