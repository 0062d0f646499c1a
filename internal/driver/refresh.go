package driver

import (
	"context"

	"github.com/pulumi/pulumi/sdk/v3/go/auto/optrefresh"
)

// Refresh records the real state of every resource in the stack's state
// (pulumi refresh). Preview and Up refresh on their own; this is for
// repairing state (after a killed update, say).
func (d *Driver) Refresh(ctx context.Context) error {
	c := newCollector(ctx, d.s.Progress, "refresh of "+d.s.Stack, true)
	_, err := d.stack.Refresh(ctx, optrefresh.EventStreams(c.ch))
	c.finish(err)
	return opError(ctx, "refresh", err, c)
}
