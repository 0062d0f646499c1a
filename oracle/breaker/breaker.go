// Package breaker is the Oracle's block counter and circuit breaker (SPEC 7):
// blocks are counted per rule and organisation in hourly UTC buckets with
// atomic increments, in the Oracle's own bucket format so that both
// implementations count in the same items; each bucket expires through the
// table's `expiresAt` TTL a day after its hour ends. When a rule's count
// within one hour reaches the threshold the breaker trips and turns further
// blocks into warnings with a stated reason.
package breaker

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/mirror-dissonance/mirror-infra/oracle/internal/clock"
	"github.com/mirror-dissonance/mirror-infra/spec"
)

// API is the part of the DynamoDB client the counter uses.
type API interface {
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

// Thresholds of SPEC 7.
const (
	DefaultThreshold = 100
	StrictThreshold  = 50
)

// hourLayout is the bucket's hour as the Oracle renders it
// (Date.prototype.toISOString of the start of the hour): ISO-8601 UTC with
// milliseconds.
const hourLayout = "2006-01-02T15:04:05.000Z"

// BucketKey is "<ruleId>:<orgId>:<start of t's UTC hour>", for example
// "R1:acme/api:2026-11-27T14:00:00.000Z"; orgID is used as the caller
// passes it, as the Oracle does.
func BucketKey(ruleID, orgID string, t time.Time) string {
	return ruleID + ":" + orgID + ":" + t.UTC().Truncate(time.Hour).Format(hourLayout)
}

// ExpiresAt is the end of t's UTC hour plus 24 hours, in epoch seconds.
func ExpiresAt(t time.Time) int64 {
	return t.UTC().Truncate(time.Hour).Add(time.Hour + 24*time.Hour).Unix()
}

// Counter counts blocks in one block-counter table.
type Counter struct {
	Client API
	Table  string
	// Now is the clock (time.Now if nil).
	Now func() time.Time
	// Marker, when set, is written as the E2E marker (attribute e2eRunId)
	// on the buckets this counter increments, so a sweep can find what an
	// E2E run left behind. The Oracle leaves it empty.
	Marker string
}

// MarkerAttribute is the E2E marker attribute (fpevents.MarkerAttribute).
const MarkerAttribute = "e2eRunId"

// NewCounter returns a counter on table.
func NewCounter(client API, table string) *Counter { return &Counter{Client: client, Table: table} }

func key(bucket string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{spec.AttrBucketKey: &types.AttributeValueMemberS{Value: bucket}}
}

// Increment adds one block to the current hour's bucket and returns the
// bucket's new count. The increment is a single atomic UpdateItem (ADD), so
// concurrent Oracles never lose a count.
//
// Retry safety: ADD is not idempotent. When the answer to an increment is
// lost, the SDK's retry counts the block a second time. That costs at most
// one extra count per lost answer in one hourly bucket: the breaker may
// trip that many blocks early, which turns a block into a warn (the
// fail-open direction of SPEC 7), and the bucket expires with its hour.
// DynamoDB offers no client token on UpdateItem (only on
// TransactWriteItems, at twice the write cost); a condition on a
// per-call id would have to keep every recent id in the item. Neither is
// worth it for an advisory counter, so none is used.
func (c *Counter) Increment(ctx context.Context, ruleID, orgID string) (int64, error) {
	now := clock.Now(c.Now)
	bucket := BucketKey(ruleID, orgID, now)
	in := &dynamodb.UpdateItemInput{
		TableName: aws.String(c.Table),
		Key:       key(bucket),
		// "count" and "timestamp" are reserved words, hence the name
		// placeholders. The Oracle writes count and timestamp (last
		// increment, epoch ms) too, and its expiry into ttl, which the
		// table ignores; expiresAt is the table's TTL attribute, and
		// setting it also heals a bucket the Oracle created.
		UpdateExpression:         aws.String("ADD #cnt :one SET #exp = if_not_exists(#exp, :exp), #ts = :ts"),
		ExpressionAttributeNames: map[string]string{"#cnt": AttrCount, "#exp": spec.TTLAttribute, "#ts": AttrTimestamp},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":one": &types.AttributeValueMemberN{Value: "1"},
			":exp": &types.AttributeValueMemberN{Value: strconv.FormatInt(ExpiresAt(now), 10)},
			":ts":  &types.AttributeValueMemberN{Value: strconv.FormatInt(now.UnixMilli(), 10)},
		},
		ReturnValues: types.ReturnValueUpdatedNew,
	}
	if c.Marker != "" {
		in.UpdateExpression = aws.String(aws.ToString(in.UpdateExpression) + ", #mk = :mk")
		in.ExpressionAttributeNames["#mk"] = MarkerAttribute
		in.ExpressionAttributeValues[":mk"] = &types.AttributeValueMemberS{Value: c.Marker}
	}
	out, err := c.Client.UpdateItem(ctx, in)
	if err != nil {
		return 0, fmt.Errorf("incrementing block counter %s in %s: %w", bucket, c.Table, err)
	}
	return countOf(out.Attributes, bucket)
}

// Count reads the current hour's bucket (0 when there is none).
func (c *Counter) Count(ctx context.Context, ruleID, orgID string) (int64, error) {
	bucket := BucketKey(ruleID, orgID, clock.Now(c.Now))
	out, err := c.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(c.Table), Key: key(bucket), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return 0, fmt.Errorf("reading block counter %s from %s: %w", bucket, c.Table, err)
	}
	if len(out.Item) == 0 {
		return 0, nil
	}
	return countOf(out.Item, bucket)
}

// Delete removes the bucket of ruleID and orgID for the hour of t (for runs
// that clean up after themselves).
func (c *Counter) Delete(ctx context.Context, ruleID, orgID string, t time.Time) error {
	bucket := BucketKey(ruleID, orgID, t)
	if _, err := c.Client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(c.Table), Key: key(bucket)}); err != nil {
		return fmt.Errorf("deleting block counter %s from %s: %w", bucket, c.Table, err)
	}
	return nil
}

var errNoCount = errors.New("no count attribute")

func countOf(item map[string]types.AttributeValue, bucket string) (int64, error) {
	n, ok := item[AttrCount].(*types.AttributeValueMemberN)
	if !ok {
		return 0, fmt.Errorf("block counter %s: %w", bucket, errNoCount)
	}
	v, err := strconv.ParseInt(n.Value, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("block counter %s holds %q: %w", bucket, n.Value, err)
	}
	return v, nil
}

// Breaker decides whether a block stands.
type Breaker struct {
	// Threshold is how many blocks one rule may make for one organisation
	// within an hour before further blocks become warnings
	// (DefaultThreshold when 0).
	Threshold int64
}

// Limit is the effective threshold.
func (b Breaker) Limit() int64 {
	if b.Threshold > 0 {
		return b.Threshold
	}
	return DefaultThreshold
}

// Tripped is true when count blocks reach the threshold (count >= limit,
// the Oracle's isCircuitBroken).
func (b Breaker) Tripped(count int64) bool { return count >= b.Limit() }

// Reason says why a block became a warning.
func (b Breaker) Reason(ruleID string, count int64) string {
	return fmt.Sprintf("circuit breaker tripped: rule %s has blocked %d times this hour (threshold %d); block downgraded to warn", ruleID, count, b.Limit())
}
