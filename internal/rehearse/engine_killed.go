package rehearse

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mirror-dissonance/mirror-infra/internal/driver"
	"github.com/mirror-dissonance/mirror-infra/internal/provider"
	"github.com/mirror-dissonance/mirror-infra/report"
)

// ScenarioKilled: up killed mid-way (SIGKILL of the CLI) leaves a stale
// lock and pending operations; unlock and the next deploy converge.
const ScenarioKilled = "killed"

// pausingBackend is the provisioner with a pause: when armed, the first
// update stops there (in flight, as AWS calls are) until released or its
// caller goes away, so the CLI can be killed mid-way.
type pausingBackend struct {
	provider.Backend
	mu      sync.Mutex
	started chan struct{} // closed when an armed update arrives
	release chan struct{}
}

func (b *pausingBackend) arm() (started, release chan struct{}) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.started, b.release = make(chan struct{}), make(chan struct{})
	return b.started, b.release
}

func (b *pausingBackend) UpdateResource(ctx context.Context, typ, id string, old, new map[string]any, changed []string) (map[string]any, error) {
	b.mu.Lock()
	started, release := b.started, b.release
	b.started = nil
	b.mu.Unlock()
	if started != nil {
		close(started)
		select {
		case <-release:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("updating %s: the engine went away: %w", id, ctx.Err())
		}
	}
	return b.Backend.UpdateResource(ctx, typ, id, old, new, changed)
}

func (r *engineRun) killed(ctx context.Context) report.Check {
	s := r.sub(ScenarioKilled)
	defer r.keep(s)
	if err := r.setConfig(map[string]string{"mirror-dissonance:throttleThreshold": "15"}); err != nil {
		return fail("changing the stack configuration: "+err.Error(), "")
	}
	d, err := r.open(ctx)
	if err != nil {
		return fail("opening the stack: "+err.Error(), "")
	}
	p, err := d.Preview(ctx)
	if err != nil {
		return fail("preview: "+err.Error(), "")
	}
	lt, err := driver.LockTargetFor(d.Settings())
	if err != nil {
		return fail("the stack's lock target: "+err.Error(), "")
	}
	started, release := r.pause.arm()
	defer close(release)
	done := make(chan error, 1)
	go func() {
		_, err := d.Up(ctx, p.PlanPath, p.Fingerprint)
		done <- err
	}()
	select {
	case <-started:
	case err := <-done:
		return fail(fmt.Sprintf("up ended before its first update: %v", err), "")
	case <-time.After(2 * time.Minute):
		return fail("up never reached an update", "")
	}
	locks, err := driver.Locks(ctx, lt)
	if err != nil || len(locks) != 1 || locks[0].PID <= 0 {
		return fail(fmt.Sprintf("locks while up runs: %+v (%v), want the CLI's", locks, err), "")
	}
	if err := syscall.Kill(locks[0].PID, syscall.SIGKILL); err != nil {
		return fail("killing the CLI: "+err.Error(), "")
	}
	if err := <-done; err == nil {
		return fail("the killed up reported success", "")
	}
	stale, err := driver.Locks(ctx, lt)
	if err != nil || len(stale) != 1 {
		return fail(fmt.Sprintf("after SIGKILL locks = %+v (%v), want the killed update's lock", stale, err), "")
	}
	pending, err := d.PendingOperations(ctx)
	if err != nil {
		return fail(err.Error(), "")
	}
	if len(pending) == 0 {
		return fail("the killed up left no pending operation in the state", "")
	}
	// A deploy now previews (a preview takes no lock) but its up is
	// refused, naming the lock.
	p2, err := d.Preview(ctx)
	if err != nil {
		return fail("a preview with the stale lock: "+err.Error(), "")
	}
	_, err = d.Up(ctx, p2.PlanPath, p2.Fingerprint)
	if !errors.Is(err, driver.ErrLocked) {
		return fail(fmt.Sprintf("an up with the stale lock: %v, want ErrLocked", err), "")
	}
	lockedMsg := driver.ErrorCheck("up", err).Reason
	// What the operator does: `unlock <stack>` (the holder is dead), then
	// deploy again.
	if running := driver.RunningLocally(lt, stale); len(running) > 0 {
		return fail("the killed CLI still counts as running", "")
	}
	if err := driver.RemoveLocks(ctx, lt, stale); err != nil {
		return fail("removing the stale lock: "+err.Error(), "")
	}
	if _, _, ok := r.previewApproveUp(ctx, d, s); !ok {
		return fail("the deploy after unlock: "+strings.Join(s.failed(), "; "), "")
	}
	th, err := r.alarmThresholds(ctx)
	if err != nil {
		return fail("reading the alarms: "+err.Error(), "")
	}
	for name, v := range th {
		if v != 15 {
			return fail(fmt.Sprintf("after the deploy alarm %s has threshold %v, want 15", name, v), "")
		}
	}
	after, err := d.PendingOperations(ctx)
	if err != nil || len(after) > 0 {
		return fail(fmt.Sprintf("pending operations after the deploy: %+v (%v)", after, err), "")
	}
	again, err := d.Preview(ctx)
	if err != nil || again.HasChanges() {
		return fail(fmt.Sprintf("a preview after converging: %v changes (%v)", again, err), "")
	}
	var ops []string
	for _, o := range pending {
		ops = append(ops, o.Type+" "+driver.URNName(o.URN))
	}
	return report.Check{Status: report.Pass, Reason: fmt.Sprintf("SIGKILL of the CLI during up (every alarm threshold to 15) left the lock of %s and pending operations (%s); the next deploy's up was refused (%s); the operator had to run `unlock %s --yes` (the holder is dead) and deploy again: the new preview and up converged (every alarm at 15, no pending operation, a further preview has no change)",
		stale[0].Holder(), strings.Join(ops, ", "), firstN(lockedMsg, 160), r.o.Stack)}
}
