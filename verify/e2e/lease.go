package e2e

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/mirror-dissonance/mirror-infra/oracle/breaker"
	"github.com/mirror-dissonance/mirror-infra/spec"
)

// The lease (its item's shape is in the package doc). The run takes it
// before writing anything (a conditional put), renews it on condition that
// it still holds it and that it has not lapsed (a lapsed lease is final),
// and deletes it after its cleanup. Lease times are wall-clock: the
// sweeper's and the run's clocks must agree to well within Options.Lease.
const (
	// DefaultLease is how long a lease lasts unless renewed; the sweep can
	// clean up a killed run at most this long after the kill.
	DefaultLease = 30 * time.Second
	// MinLease is the shortest lease a run accepts.
	MinLease = 300 * time.Millisecond
	// AttrLeaseUntil holds the lease's expiry (epoch ms).
	AttrLeaseUntil = "leaseUntil"
	// LeaseTTLMargin: the table's TTL removes a lease this long after it
	// lapsed, should no sweep run.
	LeaseTTLMargin = time.Hour
	leaseRule      = "e2e-lease"
)

// ErrLeaseLost means a run could not renew its lease in time; its steps
// stop, since a sweep may now remove its items.
var ErrLeaseLost = errors.New("the run's lease lapsed or was taken")

// LeaseKey is the block-counter key of run's lease.
func LeaseKey(run string) string {
	return breaker.BucketKey(leaseRule, syntheticOrgBase+run, time.Unix(0, 0))
}

// IsLease reports whether a block-counter key is a lease's.
func IsLease(bucketKey string) bool { return strings.HasPrefix(bucketKey, leaseRule+":") }

type lease struct {
	db    DynamoDB
	table string
	run   string
	d     time.Duration
	mu    sync.Mutex
	until time.Time
}

func leaseKey(run string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{spec.AttrBucketKey: &types.AttributeValueMemberS{Value: LeaseKey(run)}}
}

func nAttr(v int64) *types.AttributeValueMemberN {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

// acquire writes the lease; it fails if the run id holds one already.
func (l *lease) acquire(ctx context.Context) error {
	now := time.Now()
	until := now.Add(l.d)
	item := leaseKey(l.run)
	item[breaker.AttrCount] = nAttr(0)
	item[MarkerAttribute] = &types.AttributeValueMemberS{Value: l.run}
	item[AttrLeaseUntil] = nAttr(until.UnixMilli())
	item[breaker.AttrTimestamp] = nAttr(now.UnixMilli())
	item[spec.TTLAttribute] = nAttr(until.Add(LeaseTTLMargin).Unix())
	_, err := l.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(l.table), Item: item,
		ConditionExpression:      aws.String("attribute_not_exists(#k)"),
		ExpressionAttributeNames: map[string]string{"#k": spec.AttrBucketKey},
	})
	if err != nil {
		return fmt.Errorf("taking the lease %s in %s: %w", LeaseKey(l.run), l.table, err)
	}
	l.setUntil(until)
	return nil
}

func (l *lease) setUntil(t time.Time) {
	l.mu.Lock()
	l.until = t
	l.mu.Unlock()
}

func (l *lease) expiry() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.until
}

// renew extends the lease if it is still the run's and has not lapsed.
func (l *lease) renew(ctx context.Context) error {
	now := time.Now()
	until := now.Add(l.d)
	_, err := l.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(l.table),
		Key:                      leaseKey(l.run),
		UpdateExpression:         aws.String("SET #lu = :lu, #ts = :ts, #exp = :exp"),
		ConditionExpression:      aws.String("#mk = :mk AND #lu > :now"),
		ExpressionAttributeNames: map[string]string{"#lu": AttrLeaseUntil, "#ts": breaker.AttrTimestamp, "#exp": spec.TTLAttribute, "#mk": MarkerAttribute},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":lu": nAttr(until.UnixMilli()), ":ts": nAttr(now.UnixMilli()), ":exp": nAttr(until.Add(LeaseTTLMargin).Unix()),
			":mk": &types.AttributeValueMemberS{Value: l.run}, ":now": nAttr(now.UnixMilli()),
		},
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return fmt.Errorf("renewing the lease of run %s: %w", l.run, ErrLeaseLost)
	}
	if err != nil {
		return fmt.Errorf("renewing the lease of run %s: %w", l.run, err)
	}
	l.setUntil(until)
	return nil
}

// hold renews the lease every third of its duration until ctx ends; when
// the lease is lost (refused, or not renewed before it lapsed) it calls
// lost once and stops.
func (l *lease) hold(ctx context.Context, lost func(error)) {
	tick := time.NewTicker(l.d / 3)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		err := l.renew(ctx)
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, ErrLeaseLost) || (err != nil && time.Now().After(l.expiry())) {
			lost(fmt.Errorf("%w: %v", ErrLeaseLost, err))
			return
		}
	}
}

// release deletes the lease (if it is still the run's).
func (l *lease) release(ctx context.Context) error {
	_, err := l.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 aws.String(l.table),
		Key:                       leaseKey(l.run),
		ConditionExpression:       aws.String("#mk = :mk"),
		ExpressionAttributeNames:  map[string]string{"#mk": MarkerAttribute},
		ExpressionAttributeValues: map[string]types.AttributeValue{":mk": &types.AttributeValueMemberS{Value: l.run}},
	})
	var ccf *types.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &ccf) {
		return fmt.Errorf("releasing the lease of run %s: %w", l.run, err)
	}
	return nil
}

// liveness is what a sweep knows of a run.
type liveness int

const (
	// noLease: the run never held one (an older version's run) or its
	// lease is gone; its items go by age and expiry.
	noLease liveness = iota
	// live: the run is in progress; nothing of it is removed.
	live
	// lapsed: the run is dead; everything of it goes, whatever its age.
	lapsed
)

// leases looks up and caches the lease of each run a sweep meets. A run's
// lease is written before any of its items, so a lookup made after seeing
// an item is authoritative; a lapsed lease cannot be renewed, so caching
// "lapsed" is safe, and caching "live" only keeps more.
type leases struct {
	db    DynamoDB
	table string
	now   func() time.Time
	seen  map[string]leaseState
}

type leaseState struct {
	l     liveness
	until string // the leaseUntil read, for the conditional delete
}

func (ls *leases) of(ctx context.Context, run string) (liveness, error) {
	if st, ok := ls.seen[run]; ok {
		return st.l, nil
	}
	if ls.table == "" {
		return noLease, nil
	}
	out, err := ls.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(ls.table), Key: leaseKey(run), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return live, fmt.Errorf("reading the lease of run %s: %w", run, err)
	}
	st := leaseState{l: noLease}
	if len(out.Item) > 0 {
		st.l = live
		if v, ok := out.Item[AttrLeaseUntil].(*types.AttributeValueMemberN); ok {
			st.until = v.Value
			if ms, err := strconv.ParseInt(v.Value, 10, 64); err == nil && time.UnixMilli(ms).Before(ls.now()) {
				st.l = lapsed
			}
		}
	}
	ls.seen[run] = st
	return st.l, nil
}

// releaseLapsed deletes the lapsed leases met, last, so that a sweep cut
// short leaves them for the next one; each delete is conditional on the
// expiry read.
func (ls *leases) releaseLapsed(ctx context.Context) (int, error) {
	n := 0
	var errs []error
	for run, st := range ls.seen {
		if st.l != lapsed {
			continue
		}
		_, err := ls.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
			TableName:                 aws.String(ls.table),
			Key:                       leaseKey(run),
			ConditionExpression:       aws.String("#lu = :lu"),
			ExpressionAttributeNames:  map[string]string{"#lu": AttrLeaseUntil},
			ExpressionAttributeValues: map[string]types.AttributeValue{":lu": &types.AttributeValueMemberN{Value: st.until}},
		})
		var ccf *types.ConditionalCheckFailedException
		switch {
		case errors.As(err, &ccf):
		case err != nil:
			errs = append(errs, fmt.Errorf("sweeping the lapsed lease of run %s: %w", run, err))
		default:
			n++
		}
	}
	return n, errors.Join(errs...)
}
