package e2e_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/mirror-dissonance/mirror-infra/emulator"
	"github.com/mirror-dissonance/mirror-infra/oracle/breaker"
	"github.com/mirror-dissonance/mirror-infra/oracle/drift"
	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/verify/e2e"
)

// vanishingS3 deletes each baseline version just before the sweep reads
// it, as a running cycle's cleanup does between the sweep's listing and
// its read (issue 21 finding 7: 4 of 120 sweeps exited 3, NoSuchVersion).
type vanishingS3 struct {
	drift.ObjectAPI
	gone int
}

func (v *vanishingS3) GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	if strings.Contains(aws.ToString(in.Key), "/e2e-") {
		if _, err := v.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: in.Bucket, Key: in.Key, VersionId: in.VersionId}); err == nil {
			v.gone++
		}
	}
	return v.ObjectAPI.GetObject(ctx, in, opts...)
}

func TestSweepVanishedVersionIsGone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := setup(t, true)
	before := snapshot(t, e)
	c := e2e.NewClients(e.NoRetries())
	e2e.KilledRun(ctx, c, e.Target(), e2e.Options{TempDir: t.TempDir()}, len(e2e.Steps)-1)
	v := &vanishingS3{ObjectAPI: c.S3}
	c.S3 = v
	res, err := e2e.Sweep(ctx, c, e.Target(), e2e.SweepOptions{TempDir: t.TempDir(), Now: func() time.Time { return time.Now().Add(time.Hour) }})
	if err != nil {
		t.Fatalf("sweep: %v (%+v); a version deleted between list and read is gone, not an error", err, res)
	}
	if v.gone == 0 {
		t.Fatal("no version vanished; the test proves nothing")
	}
	if got := e2e.SweepCheck(res, err, 0); got.Status != report.Pass {
		t.Errorf("sweep check %s %s", got.Status, got.Reason)
	}
	if after := snapshot(t, e); !reflect.DeepEqual(after, before) {
		t.Errorf("left %v", diff(before, after))
	}
}

// TestSweepSparesLiveRun: a sweep with the smallest age bound, beside a
// cycle held in its drift step, removes nothing of it (issue 21 finding 7:
// --sweep-age 1s deleted a live run's items mid-cycle); the cycle then
// passes and leaves nothing.
func TestSweepSparesLiveRun(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := setup(t, true)
	before := snapshot(t, e)
	dir := t.TempDir()
	e.Fail(t, emulator.FaultRule{Operation: "s3.PutObject", Kind: emulator.FaultLatency, Delay: 3 * time.Second, Times: 1})
	done := make(chan []report.Check, 1)
	go func() {
		done <- e2e.Run(ctx, e2e.NewClients(e.NoRetries()), e.Target(), e2e.Options{TempDir: dir}).Checks
	}()
	waitFor(t, 5*time.Second, func() bool { return len(driftDirs(t, dir)) == 1 })
	left := snapshot(t, e)
	if len(diff(before, left)) < 5 {
		t.Fatalf("the held run has written %v; the test proves nothing", diff(before, left))
	}
	res, err := e2e.Sweep(ctx, e2e.NewClients(e.NoRetries()), e.Target(), e2e.SweepOptions{OlderThan: time.Nanosecond, TempDir: dir})
	if err != nil || res.Removed() != 0 || res.Kept == 0 {
		t.Errorf("sweep beside a live run: %+v, %v; want nothing removed, its items kept", res, err)
	}
	if got := snapshot(t, e); !reflect.DeepEqual(got, left) {
		t.Errorf("the sweep removed %v of a live run", diff(got, left))
	}
	if len(driftDirs(t, dir)) != 1 {
		t.Error("the sweep removed the live run's drift tree")
	}
	checks := <-done
	if checks[0].Status != report.Pass {
		t.Fatalf("the cycle: %s %s", checks[0].Status, checks[0].Reason)
	}
	if after := snapshot(t, e); !reflect.DeepEqual(after, before) {
		t.Errorf("the cycle left %v", diff(before, after))
	}
	if n := len(driftDirs(t, dir)); n != 0 {
		t.Errorf("the cycle left %d drift tree(s)", n)
	}
}

// TestSweepRemovesLapsedRunAtOnce: runs killed at several points leave
// items younger than any age bound; once their lease lapsed a sweep removes
// all of it, lease and drift tree included (issue 21 finding 7: "kept 43
// too young" right after a kill), and keeps what a live run holds.
func TestSweepRemovesLapsedRunAtOnce(t *testing.T) {
	ctx := context.Background()
	for _, n := range []int{0, 2, 3, len(e2e.Steps) - 1} {
		t.Run(fmt.Sprintf("killed after %d steps", n), func(t *testing.T) {
			t.Parallel()
			e := setup(t, true)
			dir := t.TempDir()
			c := e2e.NewClients(e.NoRetries())
			liveID := e2e.KilledLeasedRun(ctx, c, e.Target(), e2e.Options{}, time.Hour, 0)
			liveDir := mkdir(t, dir, "md-e2e-drift-"+liveID+"-1")
			oldDir := mkdir(t, dir, "md-e2e-drift-12345") // no run id: by age
			before := snapshot(t, e)
			const lease = time.Minute // the sweep's clock is moved past it
			id := e2e.KilledLeasedRun(ctx, c, e.Target(), e2e.Options{TempDir: dir}, lease, n)
			deadDir := mkdir(t, dir, "md-e2e-drift-"+id+"-2") // as a SIGKILL mid-drift leaves it
			left := snapshot(t, e)
			added := diff(before, left)
			if len(added) == 0 {
				t.Fatal("the killed run left nothing (not even its lease)")
			}
			// While the lease runs, nothing of the run goes, whatever the
			// age bound; the tree without a run id goes by age.
			res, err := e2e.Sweep(ctx, c, e.Target(), e2e.SweepOptions{OlderThan: time.Nanosecond, TempDir: dir})
			if err != nil || res.Removed() != 1 || res.TempDirs != 1 {
				t.Fatalf("sweep before the lease lapsed: %+v, %v; want only the old tree removed", res, err)
			}
			if got := snapshot(t, e); !reflect.DeepEqual(got, left) {
				t.Fatalf("the sweep removed %v of a live run", diff(got, left))
			}
			youngDir := mkdir(t, dir, "md-e2e-drift-67890") // no run id, young: kept
			// Lapsed: all of it goes at once, young as it is.
			lapsed := func() time.Time { return time.Now().Add(lease + time.Millisecond) }
			res, err = e2e.Sweep(ctx, c, e.Target(), e2e.SweepOptions{Now: lapsed, TempDir: dir})
			if err != nil {
				t.Fatal(err)
			}
			if after := snapshot(t, e); !reflect.DeepEqual(after, before) {
				t.Fatalf("after the sweep (%+v) left %v, removed %v", res, diff(before, after), diff(after, before))
			}
			if res.Leases != 1 || res.TempDirs != 1 || res.Removed() != len(added)+1 {
				t.Errorf("sweep %+v for %d left items and a drift tree", res, len(added))
			}
			for d, want := range map[string]bool{liveDir: true, oldDir: false, youngDir: true, deadDir: false} {
				if _, err := os.Stat(d); (err == nil) != want {
					t.Errorf("%s: present %v, want %v", filepath.Base(d), err == nil, want)
				}
			}
		})
	}
}

// TestLeaseItem: the lease is a valid block-counter item (the data check
// passes it), and a lapsed lease cannot be renewed.
func TestLeaseItem(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := setup(t, true)
	c := e2e.NewClients(e.NoRetries())
	id := e2e.KilledLeasedRun(ctx, c, e.Target(), e2e.Options{}, e2e.MinLease, 0)
	out, err := e.DynamoDB().GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(e.Target().BlockCounterTable),
		Key: map[string]types.AttributeValue{"bucketKey": &types.AttributeValueMemberS{Value: e2e.LeaseKey(id)}}})
	if err != nil || len(out.Item) == 0 {
		t.Fatalf("lease item: %v, %v", out, err)
	}
	if f := breaker.CheckItem(out.Item); len(f) != 0 {
		t.Errorf("the data check's validator reports the lease: %+v", f)
	}
	if err := e2e.RenewLease(ctx, c, e.Target(), id, time.Minute); err != nil {
		t.Fatalf("renewing a live lease: %v", err)
	}
	if err := e2e.RenewLease(ctx, c, e.Target(), "someone-else", time.Minute); !errors.Is(err, e2e.ErrLeaseLost) {
		t.Errorf("renewing a lease never taken: %v, want ErrLeaseLost", err)
	}
	id2 := e2e.KilledLeasedRun(ctx, c, e.Target(), e2e.Options{}, e2e.MinLease, 0)
	time.Sleep(e2e.MinLease + 100*time.Millisecond)
	if err := e2e.RenewLease(ctx, c, e.Target(), id2, time.Minute); !errors.Is(err, e2e.ErrLeaseLost) {
		t.Errorf("renewing a lapsed lease: %v, want ErrLeaseLost", err)
	}
}

func mkdir(t *testing.T, dir, name string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Join(p, "policy"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func driftDirs(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "md-e2e-drift-*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func waitFor(t *testing.T, d time.Duration, ok func() bool) {
	t.Helper()
	for end := time.Now().Add(d); !ok(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("not reached within %s", d)
		}
	}
}

// TestLostLeaseStopsTheSteps: when the lease cannot be renewed before it
// lapses (a sweep may then remove the run's items), the steps stop with
// ErrLeaseLost and cleanup still leaves nothing.
func TestLostLeaseStopsTheSteps(t *testing.T) {
	t.Parallel()
	e := setup(t, true)
	before := snapshot(t, e)
	e.Fail(t,
		emulator.FaultRule{Operation: "dynamodb.UpdateItem", BodyContains: "e2e-lease", Kind: emulator.FaultThrottle},
		emulator.FaultRule{Operation: "s3.PutObject", Kind: emulator.FaultLatency, Delay: 5 * time.Second, Times: 1})
	checks := e2e.Run(context.Background(), e2e.NewClients(e.NoRetries()), e.Target(), e2e.Options{TempDir: t.TempDir(), Lease: e2e.MinLease}).Checks
	st := statuses(checks)
	// The drift step is held until the lease lapses; on a slow machine an
	// earlier step may be the one stopped.
	var stopped report.Check
	for _, c := range checks[1:] {
		if c.Status == report.Fail {
			stopped = c
			break
		}
	}
	if st["e2e"] != report.Fail || !strings.Contains(stopped.Reason, e2e.ErrLeaseLost.Error()) {
		t.Fatalf("summary %s %q, first failed step %s %q; want a step stopped by the lost lease", st["e2e"], checks[0].Reason, stopped.ID, stopped.Reason)
	}
	e.Heal()
	if st["e2e.cleanup"] != report.Pass {
		t.Errorf("cleanup %s %s", st["e2e.cleanup"], checkReason(checks, "e2e.cleanup"))
	}
	if after := snapshot(t, e); !reflect.DeepEqual(after, before) {
		t.Errorf("left %v", diff(before, after))
	}
}
