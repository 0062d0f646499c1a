package breaker_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/mirror-dissonance/mirror-infra/emulator"
	"github.com/mirror-dissonance/mirror-infra/oracle/breaker"
	"github.com/mirror-dissonance/mirror-infra/oracle/internal/oracletest"
)

var t0 = time.Date(2026, 7, 4, 13, 59, 0, 0, time.UTC)

func newCounter(tb testing.TB) (*emulator.TestEnv, *breaker.Counter, *time.Time) {
	tb.Helper()
	e := emulator.NewTestEnv(tb, emulator.SeedOptions{SkipNonce: true})
	now, clock := oracletest.Clock(t0)
	return e, &breaker.Counter{Client: e.DynamoDB(), Table: e.Target().BlockCounterTable, Now: clock}, now
}

func TestBucketKeyAndExpiry(t *testing.T) {
	tests := []struct {
		at      time.Time
		key     string
		expires time.Time
	}{
		{t0, "R1:org:2026-07-04T13:00:00.000Z", time.Date(2026, 7, 5, 14, 0, 0, 0, time.UTC)},
		{time.Date(2026, 12, 31, 23, 0, 0, 0, time.UTC), "R1:org:2026-12-31T23:00:00.000Z", time.Date(2027, 1, 2, 0, 0, 0, 0, time.UTC)},
		{time.Date(2026, 7, 4, 15, 30, 0, 0, time.FixedZone("CEST", 2*3600)), "R1:org:2026-07-04T13:00:00.000Z", time.Date(2026, 7, 5, 14, 0, 0, 0, time.UTC)},
	}
	for _, tc := range tests {
		if got := breaker.BucketKey("R1", "org", tc.at); got != tc.key {
			t.Errorf("BucketKey(%s) = %s, want %s", tc.at, got, tc.key)
		}
		if got := breaker.ExpiresAt(tc.at); got != tc.expires.Unix() {
			t.Errorf("ExpiresAt(%s) = %s, want %s", tc.at, time.Unix(got, 0).UTC(), tc.expires)
		}
	}
}

func TestIncrementWritesTTLAttribute(t *testing.T) {
	ctx := context.Background()
	e, c, now := newCounter(t)
	for want := int64(1); want <= 3; want++ {
		got, err := c.Increment(ctx, "R1", "org")
		if err != nil || got != want {
			t.Fatalf("increment: %d %v, want %d", got, err, want)
		}
	}
	out, err := e.DynamoDB().GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(e.Target().BlockCounterTable), Key: map[string]types.AttributeValue{
		"bucketKey": &types.AttributeValueMemberS{Value: "R1:org:2026-07-04T13:00:00.000Z"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	exp, ok := out.Item["expiresAt"].(*types.AttributeValueMemberN)
	if !ok || exp.Value != fmt.Sprint(breaker.ExpiresAt(t0)) {
		t.Fatalf("expiresAt = %#v, want %d", out.Item["expiresAt"], breaker.ExpiresAt(t0))
	}
	if _, ok := out.Item["ttl"]; ok {
		t.Fatal("the item has a ttl attribute; the table's TTL attribute is expiresAt")
	}
	// A new hour is a new bucket.
	*now = now.Add(2 * time.Minute)
	if got, err := c.Count(ctx, "R1", "org"); err != nil || got != 0 {
		t.Fatalf("count in the next hour: %d %v, want 0", got, err)
	}
	if got, err := c.Increment(ctx, "R1", "org"); err != nil || got != 1 {
		t.Fatalf("first increment of the next hour: %d %v", got, err)
	}
	if err := c.Delete(ctx, "R1", "org", t0); err != nil {
		t.Fatal(err)
	}
	*now = t0
	if got, err := c.Count(ctx, "R1", "org"); err != nil || got != 0 {
		t.Fatalf("after delete: %d %v", got, err)
	}
}

func TestConcurrentIncrementsAreExact(t *testing.T) {
	ctx := context.Background()
	_, c, _ := newCounter(t)
	const total, workers = 1000, 50
	seen := make([]int64, 0, total)
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			for range total / workers {
				n, err := c.Increment(ctx, "R-hot", "org")
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				seen = append(seen, n)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got, err := c.Count(ctx, "R-hot", "org")
	if err != nil || got != total {
		t.Fatalf("count %d %v, want %d", got, err, total)
	}
	// Every increment saw a distinct value: none was applied twice or lost.
	dup := map[int64]bool{}
	for _, n := range seen {
		if n < 1 || n > total || dup[n] {
			t.Fatalf("increment returned %d twice or out of range", n)
		}
		dup[n] = true
	}
}

func TestBreaker(t *testing.T) {
	tests := []struct {
		b       breaker.Breaker
		count   int64
		tripped bool
	}{
		// The Oracle trips at count >= threshold.
		{breaker.Breaker{}, 99, false},
		{breaker.Breaker{}, 100, true},
		{breaker.Breaker{Threshold: breaker.StrictThreshold}, 49, false},
		{breaker.Breaker{Threshold: breaker.StrictThreshold}, 50, true},
		{breaker.Breaker{Threshold: 1}, 0, false},
		{breaker.Breaker{Threshold: 1}, 1, true},
	}
	for _, tc := range tests {
		if got := tc.b.Tripped(tc.count); got != tc.tripped {
			t.Errorf("threshold %d, count %d: tripped %v, want %v", tc.b.Limit(), tc.count, got, tc.tripped)
		}
	}
	if r := (breaker.Breaker{}).Reason("R1", 101); r == "" {
		t.Error("empty reason")
	}
}

func TestUnreachableIsAnError(t *testing.T) {
	e, c, _ := newCounter(t)
	e.Fail(t, emulator.FaultRule{BodyContains: e.Target().BlockCounterTable})
	if _, err := c.Increment(context.Background(), "R1", "org"); err == nil {
		t.Fatal("increment with the table unreachable succeeded")
	}
}

func BenchmarkIncrement(b *testing.B) {
	ctx := context.Background()
	_, c, _ := newCounter(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Increment(ctx, "RB", "org"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkIncrementParallel(b *testing.B) {
	ctx := context.Background()
	_, c, _ := newCounter(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.Increment(ctx, "RB", "org"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
