package e2e

import (
	"context"
	"time"
)

// The lease for other kinds of run that share the sweep-by-liveness rule
// (the restore drill of internal/recovery): the same item in the
// block-counter table, so the data check accepts it and an E2E sweep
// releases it once it lapsed, and the same renewal rule.

// Lease is a lease a run holds.
type Lease struct{ l *lease }

// TakeLease takes run's lease in table (a block-counter table) for d (at
// least MinLease), before the run writes anything; it fails if run holds
// one already.
func TakeLease(ctx context.Context, db DynamoDB, table, run string, d time.Duration) (*Lease, error) {
	l := &lease{db: db, table: table, run: run, d: max(d, MinLease)}
	if err := l.acquire(ctx); err != nil {
		return nil, err
	}
	return &Lease{l}, nil
}

// Hold renews the lease every third of its duration until ctx ends; when
// it is lost (ErrLeaseLost) it calls lost once and stops.
func (l *Lease) Hold(ctx context.Context, lost func(error)) { l.l.hold(ctx, lost) }

// Release deletes the lease, after the run's cleanup.
func (l *Lease) Release(ctx context.Context) error { return l.l.release(ctx) }

// LeaseBook is what a sweep knows of the leases of the runs it meets,
// read once per run: a lapsed lease is final, so the answer holds for the
// sweep.
type LeaseBook struct{ ls *leases }

// NewLeaseBook reads the leases of table (a block-counter table).
func NewLeaseBook(db DynamoDB, table string) *LeaseBook {
	return &LeaseBook{&leases{db: db, table: table, now: time.Now, seen: map[string]leaseState{}}}
}

// Live reports whether run holds a live lease: nothing of it may be
// removed. A run without one, or whose lease lapsed, is dead.
func (b *LeaseBook) Live(ctx context.Context, run string) (bool, error) {
	l, err := b.ls.of(ctx, run)
	return l == live, err
}

// ReleaseLapsed deletes the lapsed leases met (each on condition that it
// was not renewed since): a sweep calls it last.
func (b *LeaseBook) ReleaseLapsed(ctx context.Context) (int, error) { return b.ls.releaseLapsed(ctx) }
