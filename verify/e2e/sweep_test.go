package e2e_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/verify/e2e"
)

// TestSweepRemovesWhatKilledRunsLeft: runs killed after each step (steps
// run, cleanup skipped) leave items; every one carries the run's marker.
// A sweep too soon keeps them (a run may be in progress), a sweep after
// the age bound removes exactly them, and the Oracle data seeded beside
// them is untouched. Mutation check: drop the Marker from newRun's
// consent store and the rows from "consent" on fail with leftovers after
// the sweep.
func TestSweepRemovesWhatKilledRunsLeft(t *testing.T) {
	ctx := context.Background()
	for n := 1; n <= len(e2e.Steps)-1; n++ {
		t.Run(fmt.Sprintf("killed after %s", e2e.Steps[n-1]), func(t *testing.T) {
			t.Parallel()
			e := setup(t, true)
			before := snapshot(t, e)
			c := e2e.NewClients(e.NoRetries())
			id := e2e.KilledRun(ctx, c, e.Target(), e2e.Options{TempDir: t.TempDir()}, n)
			left := snapshot(t, e)
			added := diff(before, left)
			if n >= 2 && len(added) == 0 {
				t.Fatalf("the killed run left nothing; the test proves nothing")
			}
			for _, it := range added {
				if !strings.Contains(it, id) {
					t.Errorf("left item without the run id %s: %s", id, it)
				}
			}

			// Too young: kept, nothing removed.
			res, err := e2e.Sweep(ctx, c, e.Target(), e2e.SweepOptions{})
			if err != nil || res.Removed() != 0 {
				t.Fatalf("early sweep: %+v, %v; want nothing removed", res, err)
			}
			if got := snapshot(t, e); !reflect.DeepEqual(got, left) {
				t.Fatalf("early sweep changed the tables:\n%v", diff(left, got))
			}

			// Past the age bound: everything the run left goes, only it.
			res, err = e2e.Sweep(ctx, c, e.Target(), e2e.SweepOptions{Now: func() time.Time { return time.Now().Add(e2e.DefaultSweepAge + time.Minute) }})
			if err != nil {
				t.Fatal(err)
			}
			after := snapshot(t, e)
			if !reflect.DeepEqual(after, before) {
				t.Fatalf("after the sweep (%+v) left %v, removed %v", res, diff(before, after), diff(after, before))
			}
			if res.Removed() < len(added) || res.Kept != 0 {
				t.Errorf("sweep reports %+v for %d left items", res, len(added))
			}
			check := e2e.SweepCheck(res, err, 0)
			if check.Status != report.Pass || check.ID != e2e.SweepCheckID {
				t.Errorf("sweep check %+v", check)
			}
		})
	}
}

// TestSweepHonoursExpiry: a marked consent record whose grant expired goes
// even when younger than the age bound; one without the marker never goes.
func TestSweepHonoursExpiry(t *testing.T) {
	ctx := context.Background()
	e := setup(t, true)
	before := snapshot(t, e)
	c := e2e.NewClients(e.NoRetries())
	e2e.KilledRun(ctx, c, e.Target(), e2e.Options{}, 2) // nonce, consent (granted for an hour)
	res, err := e2e.Sweep(ctx, c, e.Target(), e2e.SweepOptions{OlderThan: 24 * time.Hour, Now: func() time.Time { return time.Now().Add(2 * time.Hour) }})
	if err != nil || res.Consent != 1 {
		t.Fatalf("sweep %+v, %v; want the expired consent record removed", res, err)
	}
	if after := snapshot(t, e); !reflect.DeepEqual(after, before) {
		t.Fatalf("left %v", diff(before, after))
	}
	if _, err := e2e.Sweep(ctx, c, e.Target(), e2e.SweepOptions{OlderThan: -time.Second}); err == nil {
		t.Error("a negative age was accepted")
	}
}

// diff lists what b holds and a does not.
func diff(a, b map[string][]string) []string {
	var out []string
	for k, vs := range b {
		have := map[string]bool{}
		for _, v := range a[k] {
			have[v] = true
		}
		for _, v := range vs {
			if !have[v] {
				out = append(out, k+": "+v)
			}
		}
	}
	return out
}
