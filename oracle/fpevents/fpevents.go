// Package fpevents is the false-positive event store of SPEC 7: one item per
// finding the Oracle judged, in the fp-events table, create-only, readable by
// rule (newest first) and by finding (through FindingIndex), reviewable, and
// summarised into the window statistics the Oracle's thresholds use.
package fpevents

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/mirror-dissonance/mirror-infra/oracle/internal/clock"
	"github.com/mirror-dissonance/mirror-infra/oracle/internal/datacheck"
	"github.com/mirror-dissonance/mirror-infra/spec"
)

// API is the part of the DynamoDB client the store uses.
type API interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

// FindingIndex is the table's global secondary index by finding.
const FindingIndex = spec.FindingIndex

// Retention is how long an event lives before the table's TTL removes it.
const Retention = 90 * 24 * time.Hour

// Outcomes of one finding.
const (
	OutcomeBlock = "block"
	OutcomeWarn  = "warn"
	OutcomePass  = "pass"
)

// Event types of the context as the Oracle's adapter layer writes them
// (adapters/types.ts); Record writes these.
const (
	EventPullRequest = "pullrequest"
	EventMergeGroup  = "mergegroup"
	EventDrift       = "drift"
)

// The Oracle's older fp-store spelled two event types with an underscore;
// items carrying them are read as the same event type.
const (
	LegacyEventPullRequest = "pull_request"
	LegacyEventMergeGroup  = "merge_group"
)

// CanonicalEventType maps any spelling the Oracle has used to the adapter
// layer's, and reports whether t is an event type at all.
func CanonicalEventType(t string) (string, bool) {
	switch t {
	case EventPullRequest, LegacyEventPullRequest:
		return EventPullRequest, true
	case EventMergeGroup, LegacyEventMergeGroup:
		return EventMergeGroup, true
	case EventDrift:
		return EventDrift, true
	}
	return t, false
}

var (
	// ErrDuplicate means an event with the same key exists; nothing was written.
	ErrDuplicate = errors.New("duplicate FP event")
	// ErrNotFound means the event to update does not exist.
	ErrNotFound = errors.New("FP event not found")
	// ErrInvalid means an event fails validation before any write.
	ErrInvalid = errors.New("invalid FP event")
)

// timeLayout is RFC 3339 UTC with milliseconds, fixed width so that sort
// keys order chronologically.
const timeLayout = "2006-01-02T15:04:05.000Z"

// Context is where the event came from: the Oracle's context map, whose
// repo, branch and eventType it always writes; other keys are allowed.
type Context struct {
	Repo   string
	Branch string
	// EventType is kept as stored; CanonicalEventType reads old spellings.
	EventType string
	// PRNumber (context key prNumber) is written when positive, Commit
	// (commit) when not empty.
	PRNumber int
	Commit   string
	// Extra holds any other context keys exactly as read, so an item
	// written by another implementation survives a read and a rewrite.
	Extra map[string]types.AttributeValue
}

// Event is one FP event.
type Event struct {
	EventID         string
	RuleID          string
	RuleVersion     string
	FindingID       string
	Outcome         string
	IsFalsePositive bool
	Timestamp       time.Time
	Context         Context
	// ExpiresAt is epoch seconds; RecordedAt epoch milliseconds. Record
	// fills both.
	ExpiresAt  int64
	RecordedAt int64
	ReviewedBy string
	ReviewedAt time.Time
}

// Key identifies an event in the table.
type Key struct {
	PK string
	SK string
}

// Key is the event's primary key.
func (e Event) Key() Key {
	return Key{PK: "rule#" + e.RuleID, SK: "event#" + e.Timestamp.UTC().Format(timeLayout) + "#" + e.EventID}
}

// Reviewed is true once someone reviewed the event.
func (e Event) Reviewed() bool { return !e.ReviewedAt.IsZero() }

// Store reads and writes one fp-events table.
type Store struct {
	Client API
	Table  string
	// Now is the clock (time.Now if nil).
	Now func() time.Time
	// Marker, when set, is written as MarkerAttribute on every recorded
	// event: the E2E run id, so a sweep can find what a run left behind.
	// The Oracle leaves it empty.
	Marker string
	// Retention overrides how long recorded events live (Retention if 0);
	// E2E runs keep theirs briefly.
	Retention time.Duration
}

// MarkerAttribute is the attribute an E2E run's items carry its run id
// in (docs/oracle-contract.md); Oracle data never has it.
const MarkerAttribute = "e2eRunId"

// New returns a store on table.
func New(client API, table string) *Store { return &Store{Client: client, Table: table} }

// NewEventID returns 16 random hex characters.
func NewEventID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func validID(field, v string) error {
	if v == "" {
		return fmt.Errorf("%s is empty: %w", field, ErrInvalid)
	}
	if strings.Contains(v, "#") {
		return fmt.Errorf("%s %q contains '#', the key separator: %w", field, v, ErrInvalid)
	}
	return nil
}

// Validate checks an event before it is written.
func (e Event) Validate() error {
	for _, f := range []struct{ name, v string }{{"eventId", e.EventID}, {"ruleId", e.RuleID}, {"ruleVersion", e.RuleVersion}, {"findingId", e.FindingID}} {
		if err := validID(f.name, f.v); err != nil {
			return err
		}
	}
	switch e.Outcome {
	case OutcomeBlock, OutcomeWarn, OutcomePass:
	default:
		return fmt.Errorf("outcome %q is not block, warn or pass: %w", e.Outcome, ErrInvalid)
	}
	if _, ok := CanonicalEventType(e.Context.EventType); !ok {
		return fmt.Errorf("eventType %q is not pullrequest, mergegroup or drift: %w", e.Context.EventType, ErrInvalid)
	}
	return nil
}

// Record writes e create-only. An empty EventID or zero Timestamp is
// filled in (and returned); ExpiresAt and RecordedAt are set here. A
// duplicate key is an error wrapping ErrDuplicate, unless the item under
// the key is exactly the one this call wrote: then an earlier attempt of
// the same call succeeded (its answer was lost and the SDK retried), and
// Record succeeds.
func (s *Store) Record(ctx context.Context, e Event) (Event, error) {
	now := clock.Now(s.Now)
	if e.EventID == "" {
		e.EventID = NewEventID()
	}
	if e.Timestamp.IsZero() {
		e.Timestamp = now
	}
	e.Timestamp = e.Timestamp.UTC().Truncate(time.Millisecond)
	// As the Oracle does: both are counted from the time of recording,
	// not from the event's timestamp.
	e.RecordedAt = now.UnixMilli()
	retention := Retention
	if s.Retention > 0 {
		retention = s.Retention
	}
	e.ExpiresAt = now.Unix() + int64(retention/time.Second)
	if err := e.Validate(); err != nil {
		return Event{}, err
	}
	// Write the adapter layer's spelling whatever the caller used.
	e.Context.EventType, _ = CanonicalEventType(e.Context.EventType)
	item := ToItem(e)
	if s.Marker != "" {
		item[MarkerAttribute] = str(s.Marker)
	}
	_, err := s.Client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:           aws.String(s.Table),
		Item:                item,
		ConditionExpression: aws.String("attribute_not_exists(pk) AND attribute_not_exists(sk)"),
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		// The SDK retries a put whose answer was lost; the retry then
		// meets our own item. Only an item that differs is a duplicate.
		same, rerr := s.holds(ctx, e.Key(), item)
		if rerr != nil {
			return Event{}, fmt.Errorf("recording FP event %s for rule %s: the key exists and could not be compared: %w", e.EventID, e.RuleID, rerr)
		}
		if same {
			return e, nil
		}
		return Event{}, fmt.Errorf("recording FP event %s for rule %s: %w", e.EventID, e.RuleID, ErrDuplicate)
	}
	if err != nil {
		return Event{}, fmt.Errorf("recording FP event %s in %s: %w", e.EventID, s.Table, err)
	}
	return e, nil
}

// holds reports whether the item under k is exactly want, read strongly
// consistently through Query (the store's API has no GetItem).
func (s *Store) holds(ctx context.Context, k Key, want map[string]types.AttributeValue) (bool, error) {
	out, err := s.Client.Query(ctx, &dynamodb.QueryInput{
		TableName:              aws.String(s.Table),
		ConsistentRead:         aws.Bool(true),
		KeyConditionExpression: aws.String("pk = :pk AND sk = :sk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(k.PK), ":sk": str(k.SK),
		},
	})
	if err != nil {
		return false, fmt.Errorf("reading %s %s from %s: %w", k.PK, k.SK, s.Table, err)
	}
	return len(out.Items) == 1 && datacheck.Equal(out.Items[0], want), nil
}

// Query bounds a read by rule.
type Query struct {
	// Limit is the most events returned (0 for all).
	Limit int
	// Since keeps events at or after this time (zero for all).
	Since time.Time
}

// ByRule returns a rule's events, newest first.
func (s *Store) ByRule(ctx context.Context, ruleID string, q Query) ([]Event, error) {
	in := &dynamodb.QueryInput{
		TableName:        aws.String(s.Table),
		ScanIndexForward: aws.Bool(false),
		// The base table offers strongly consistent reads; a read right
		// after a write (the E2E cycle, a review) must see it.
		ConsistentRead:            aws.Bool(true),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: "rule#" + ruleID}},
	}
	if q.Since.IsZero() {
		in.KeyConditionExpression = aws.String("pk = :pk AND begins_with(sk, :ev)")
		in.ExpressionAttributeValues[":ev"] = &types.AttributeValueMemberS{Value: "event#"}
	} else {
		in.KeyConditionExpression = aws.String("pk = :pk AND sk >= :since")
		in.ExpressionAttributeValues[":since"] = &types.AttributeValueMemberS{Value: "event#" + q.Since.UTC().Format(timeLayout)}
	}
	if q.Limit > 0 {
		in.Limit = aws.Int32(int32(min(q.Limit, 1000)))
	}
	return s.query(ctx, in, q.Limit, "rule "+ruleID)
}

// ByFinding returns a finding's events through FindingIndex, newest first.
func (s *Store) ByFinding(ctx context.Context, findingID string) ([]Event, error) {
	evs, err := s.query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(s.Table),
		IndexName:                 aws.String(FindingIndex),
		KeyConditionExpression:    aws.String("gsi1pk = :f"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":f": &types.AttributeValueMemberS{Value: "finding#" + findingID}},
	}, 0, "finding "+findingID)
	if err != nil {
		return nil, err
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].Timestamp.After(evs[j].Timestamp) })
	return evs, nil
}

func (s *Store) query(ctx context.Context, in *dynamodb.QueryInput, limit int, what string) ([]Event, error) {
	var out []Event
	for {
		page, err := s.Client.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("reading FP events of %s from %s: %w", what, s.Table, err)
		}
		for _, av := range page.Items {
			e, err := FromItem(av)
			if err != nil {
				return nil, err
			}
			out = append(out, e)
			if limit > 0 && len(out) == limit {
				return out, nil
			}
		}
		if len(page.LastEvaluatedKey) == 0 {
			return out, nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}

// Review marks an event reviewed by reviewer and records whether it was a
// false positive. The event must exist.
func (s *Store) Review(ctx context.Context, k Key, reviewer string, falsePositive bool) error {
	if reviewer == "" {
		return fmt.Errorf("reviewing %s: reviewer is empty: %w", k.SK, ErrInvalid)
	}
	_, err := s.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           aws.String(s.Table),
		Key:                 keyAV(k),
		ConditionExpression: aws.String("attribute_exists(pk)"),
		UpdateExpression:    aws.String("SET isFalsePositive = :fp, reviewedBy = :by, reviewedAt = :at"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":fp": &types.AttributeValueMemberBOOL{Value: falsePositive},
			":by": &types.AttributeValueMemberS{Value: reviewer},
			":at": &types.AttributeValueMemberS{Value: clock.Now(s.Now).UTC().Format(timeLayout)},
		},
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return fmt.Errorf("reviewing %s %s: %w", k.PK, k.SK, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("reviewing %s %s in %s: %w", k.PK, k.SK, s.Table, err)
	}
	return nil
}

// MarkFalsePositive is Review with falsePositive set.
func (s *Store) MarkFalsePositive(ctx context.Context, k Key, reviewer string) error {
	return s.Review(ctx, k, reviewer, true)
}

// Delete removes one event (used by runs that clean up after themselves).
func (s *Store) Delete(ctx context.Context, k Key) error {
	if _, err := s.Client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.Table), Key: keyAV(k)}); err != nil {
		return fmt.Errorf("deleting FP event %s %s from %s: %w", k.PK, k.SK, s.Table, err)
	}
	return nil
}

func keyAV(k Key) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		spec.AttrPK: &types.AttributeValueMemberS{Value: k.PK},
		spec.AttrSK: &types.AttributeValueMemberS{Value: k.SK},
	}
}

// Stats summarise a rule's events over a window.
type Stats struct {
	RuleID         string
	Events         int
	Pending        int // not reviewed yet
	TruePositives  int // reviewed, not a false positive
	FalsePositives int // reviewed, a false positive
	// ObservedFPRate is FalsePositives / reviewed events (0 when none).
	ObservedFPRate float64
	// DominantRuleVersion is the version with the most events (ties: the
	// greatest version string).
	DominantRuleVersion string
	// Truncated is true when the window held more than MaxStatsEvents.
	Truncated bool
}

// MaxStatsEvents bounds how many events WindowStats reads.
const MaxStatsEvents = 1000

// WindowStats summarises a rule's events since a time (newest
// MaxStatsEvents at most).
func (s *Store) WindowStats(ctx context.Context, ruleID string, since time.Time) (Stats, error) {
	evs, err := s.ByRule(ctx, ruleID, Query{Since: since, Limit: MaxStatsEvents + 1})
	if err != nil {
		return Stats{}, err
	}
	st := Stats{RuleID: ruleID}
	if len(evs) > MaxStatsEvents {
		evs, st.Truncated = evs[:MaxStatsEvents], true
	}
	return Summarise(ruleID, evs, st.Truncated), nil
}

// Summarise computes Stats over events of one rule.
func Summarise(ruleID string, evs []Event, truncated bool) Stats {
	st := Stats{RuleID: ruleID, Events: len(evs), Truncated: truncated}
	versions := map[string]int{}
	for _, e := range evs {
		versions[e.RuleVersion]++
		switch {
		case !e.Reviewed():
			st.Pending++
		case e.IsFalsePositive:
			st.FalsePositives++
		default:
			st.TruePositives++
		}
	}
	if reviewed := st.FalsePositives + st.TruePositives; reviewed > 0 {
		st.ObservedFPRate = float64(st.FalsePositives) / float64(reviewed)
	}
	best := -1
	for v, n := range versions {
		if n > best || (n == best && v > st.DominantRuleVersion) {
			best, st.DominantRuleVersion = n, v
		}
	}
	return st
}
