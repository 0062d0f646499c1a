package driver

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mirror-dissonance/mirror-infra/report"
)

func TestRunStacksBoundsConcurrencyAndKeepsEveryResult(t *testing.T) {
	tests := []struct {
		name     string
		stacks   []string
		parallel int
		fail     map[string]report.Check
		panics   string
		wantMax  int32
		wantExit int
	}{
		{name: "all pass, bound 2", stacks: []string{"a", "b", "c", "d"}, parallel: 2, wantMax: 2, wantExit: 0},
		{name: "one fails, others still run", stacks: []string{"a", "b", "c"}, parallel: 3,
			fail: map[string]report.Check{"b": {ID: "gate", Status: report.Fail}}, wantMax: 3, wantExit: 1},
		{name: "engine failure is the worst", stacks: []string{"a", "b", "c"}, parallel: 1,
			fail: map[string]report.Check{"a": {ID: "gate", Status: report.Fail}, "c": {ID: "up", Status: report.Fail, Infra: true}}, wantMax: 1, wantExit: 3},
		{name: "a panic is that stack's failure", stacks: []string{"a", "b"}, parallel: 0, panics: "a", wantMax: 1, wantExit: 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var running, peak atomic.Int32
			rs := RunStacks(context.Background(), tc.stacks, tc.parallel, func(_ context.Context, s string) *report.Report {
				n := running.Add(1)
				defer running.Add(-1)
				for {
					p := peak.Load()
					if n <= p || peak.CompareAndSwap(p, n) {
						break
					}
				}
				time.Sleep(20 * time.Millisecond)
				if s == tc.panics {
					panic("boom")
				}
				r := &report.Report{Command: "deploy", Stack: s}
				r.Add(report.Check{ID: "preview", Status: report.Pass})
				if c, ok := tc.fail[s]; ok {
					r.Add(c)
				}
				return r
			})
			if len(rs) != len(tc.stacks) {
				t.Fatalf("%d reports for %d stacks", len(rs), len(tc.stacks))
			}
			for i, r := range rs {
				if r.Stack != tc.stacks[i] {
					t.Errorf("report %d is for %q, want %q (order of the stacks)", i, r.Stack, tc.stacks[i])
				}
			}
			if got := peak.Load(); got != tc.wantMax {
				t.Errorf("peak concurrency %d, want %d", got, tc.wantMax)
			}
			if got := WorstExit(rs); got != tc.wantExit {
				t.Errorf("WorstExit = %d, want %d", got, tc.wantExit)
			}
		})
	}
}
