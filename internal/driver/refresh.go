package driver

import (
	"context"

	"github.com/pulumi/pulumi/sdk/v3/go/auto/optrefresh"
)

// Refresh records the real state of every resource in the stack's state
// (pulumi refresh), so the next preview diffs the program against what
// is really there: a preview alone diffs against the recorded state and
// never plans to revert a change made outside Pulumi (found by the engine
// rehearsal's engine:drift).
func (d *Driver) Refresh(ctx context.Context) error {
	c := newCollector(ctx, d.s.Progress, "refresh of "+d.s.Stack, true)
	_, err := d.stack.Refresh(ctx, optrefresh.EventStreams(c.ch))
	c.finish(err)
	return opError(ctx, "refresh", err, c)
}
