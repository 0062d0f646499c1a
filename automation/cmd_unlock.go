package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mirror-dissonance/mirror-infra/internal/driver"
	"github.com/mirror-dissonance/mirror-infra/report"
)

const unlockDetail = `Shows the state locks of <stack> on its backend (PULUMI_BACKEND_URL, else
backend.url of Pulumi.yaml, else the local .pulumi-state): who holds each
(user@host and the pulumi CLI's pid), since when and for how long. An
update that was killed (SIGKILL, a lost CI runner, a machine that died)
cannot release its lock, and every later update of the stack is refused
until it is removed.

With --yes it removes exactly the locks shown, after checking this machine:
it refuses (exit 1) while the lock's process, or any pulumi command for this
stack on the same backend, still runs here. It cannot see other machines: a
lock taken elsewhere is removed only when you know that update has ended
(docs/operations.md, "Shared backend and locks").

Removing the lock of an update that is still running lets a second update
write the same state: do not guess. Without --yes nothing is removed
(exit 0). Exit 3 when the backend cannot be read.

  go run ./automation unlock staging            # show
  go run ./automation unlock staging --yes      # remove after the checks`

var unlockSpec = commandSpec{use: "unlock <stack>", short: "show a stack's state lock (holder, age); --yes removes a stale one after checking no update runs here", long: unlockDetail,
	timeout: 2 * time.Minute, bounds: "reading (and removing) the locks"}

type unlockOptions struct {
	common
	yes bool
}

func (o *unlockOptions) run(ctx context.Context, a *app, c *cobra.Command, stack string) (*report.Report, error) {
	_, dir, err := stackOf(c, stack)
	if err != nil {
		return nil, err
	}
	t, err := driver.LockTargetFor(driverFlags{}.settings(dir, stack, nil, true, nil))
	if err != nil {
		return nil, asUsage(err)
	}
	r := &report.Report{Command: "unlock", Stack: stack, Started: time.Now()}
	unlock(ctx, t, o.yes, r)
	r.Elapsed = time.Since(r.Started).Round(time.Millisecond).String()
	return r, nil
}

func (o *unlockOptions) flags(c *cobra.Command, env environ) {
	c.Flags().BoolVar(&o.yes, "yes", false, "remove the locks shown (only when no update of the stack runs on this machine)")
}

// unlock fills r: one check per lock, whether an update runs here, and
// the removal.
func unlock(ctx context.Context, t driver.LockTarget, yes bool, r *report.Report) {
	backend := redact(t.Backend.URL)
	locks, err := driver.Locks(ctx, t)
	if err != nil {
		r.Add(report.Check{ID: "locks", Status: report.Fail, Infra: true, Reason: err.Error(),
			Fix: "check the backend URL and the credentials that can read it"})
		return
	}
	if len(locks) == 0 {
		r.Add(report.Check{ID: "locks", Status: report.Pass, Reason: fmt.Sprintf("%s has no lock on %s; nothing to remove", t.Stack, backend)})
		return
	}
	now := time.Now()
	host, _ := os.Hostname()
	var elsewhere []string
	for _, l := range locks {
		r.Add(report.Check{ID: "lock", Status: report.Warn,
			Reason:  fmt.Sprintf("held by %s since %s (%s ago)", l.Holder(), l.Since.UTC().Format(time.RFC3339), l.Age(now)),
			Details: map[string]string{"key": l.Key}})
		if l.Host != host && !contains(elsewhere, l.Host) {
			elsewhere = append(elsewhere, l.Host)
		}
	}
	if running := driver.RunningLocally(t, locks); len(running) > 0 {
		for _, u := range running {
			r.Add(report.Check{ID: "running", Status: report.Fail,
				Reason: fmt.Sprintf("an update of %s is running on this machine: pid %d (%s): %s", t.Stack, u.PID, u.Why, u.Command),
				Fix:    fmt.Sprintf("let it finish, or stop it with one interrupt (kill -INT %d) so it saves the state and releases the lock itself", u.PID)})
		}
		r.Add(report.Check{ID: "unlock", Status: report.Skip, Reason: "not removed: the lock is live"})
		return
	}
	r.Add(report.Check{ID: "running", Status: report.Pass, Reason: fmt.Sprintf("no pulumi process of %s runs on this machine (%s)", t.Stack, host)})
	if len(elsewhere) > 0 {
		r.Add(report.Check{ID: "running", Status: report.Warn,
			Reason: fmt.Sprintf("taken on %s: this machine cannot see whether that update still runs", strings.Join(elsewhere, ", ")),
			Fix:    "remove it only when you know it ended: ask its user, or check that the CI job on that runner finished"})
	}
	if !yes {
		r.Add(report.Check{ID: "unlock", Status: report.Skip,
			Reason: fmt.Sprintf("not removed: %d lock(s) shown; pass --yes to remove them", len(locks)),
			Fix:    fmt.Sprintf("go run ./automation unlock %s --yes", t.Stack)})
		return
	}
	if err := driver.RemoveLocks(ctx, t, locks); err != nil {
		r.Add(report.Check{ID: "unlock", Status: report.Fail, Infra: true, Reason: err.Error()})
		return
	}
	r.Add(report.Check{ID: "unlock", Status: report.Pass,
		Reason: fmt.Sprintf("removed %d stale lock(s) of %s; the next update can run (preview first: the killed update may have applied part of its plan)", len(locks), t.Stack)})
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// redact hides credentials a backend URL might carry (user:password@).
func redact(u string) string {
	if i := strings.Index(u, "@"); i >= 0 {
		if j := strings.Index(u, "://"); j >= 0 && j < i {
			return u[:j+3] + "***" + u[i:]
		}
	}
	return u
}
