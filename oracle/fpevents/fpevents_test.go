package fpevents_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/mirror-dissonance/mirror-infra/emulator"
	"github.com/mirror-dissonance/mirror-infra/oracle/fpevents"
)

var base = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newStore(tb testing.TB) (*emulator.TestEnv, *fpevents.Store) {
	tb.Helper()
	e := emulator.NewTestEnv(tb, emulator.SeedOptions{SkipNonce: true})
	s := fpevents.New(e.DynamoDB(), e.Target().FPEventsTable)
	s.Now = func() time.Time { return base.Add(time.Hour) }
	return e, s
}

func event(rule, version, finding string, at time.Time) fpevents.Event {
	return fpevents.Event{
		RuleID: rule, RuleVersion: version, FindingID: finding, Outcome: fpevents.OutcomeBlock, Timestamp: at,
		Context: fpevents.Context{Repo: "acme/api", Branch: "feature", PRNumber: 7, Commit: "abc123", EventType: fpevents.EventPullRequest},
	}
}

func TestRecordAndReadBack(t *testing.T) {
	ctx := context.Background()
	e, s := newStore(t)
	var recorded []fpevents.Event
	for i := range 5 {
		ev, err := s.Record(ctx, event("R1", "1.0", fmt.Sprintf("f%d", i%2), base.Add(time.Duration(i)*time.Minute)))
		if err != nil {
			t.Fatal(err)
		}
		recorded = append(recorded, ev)
	}
	if _, err := s.Record(ctx, event("R2", "1.0", "f0", base)); err != nil {
		t.Fatal(err)
	}

	// The stored item follows the SPEC 7 schema.
	k := recorded[0].Key()
	got, err := e.DynamoDB().GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(e.Target().FPEventsTable), Key: map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: k.PK}, "sk": &types.AttributeValueMemberS{Value: k.SK},
	}})
	if err != nil {
		t.Fatal(err)
	}
	s0 := func(name string) string {
		if v, ok := got.Item[name].(*types.AttributeValueMemberS); ok {
			return v.Value
		}
		return fmt.Sprintf("<%T>", got.Item[name])
	}
	n0 := func(name string) string {
		if v, ok := got.Item[name].(*types.AttributeValueMemberN); ok {
			return v.Value
		}
		return fmt.Sprintf("<%T>", got.Item[name])
	}
	ctxMap, _ := got.Item["context"].(*types.AttributeValueMemberM)
	checks := map[string][2]string{
		"pk":     {s0("pk"), "rule#R1"},
		"sk":     {s0("sk"), "event#2026-03-01T12:00:00.000Z#" + recorded[0].EventID},
		"gsi1pk": {s0("gsi1pk"), "finding#f0"},
		"gsi1sk": {s0("gsi1sk"), "rule#R1#1.0"},
		// Counted from the recording time (the store's clock), as the Oracle does.
		"expiresAt": {n0("expiresAt"), fmt.Sprint(base.Add(time.Hour + 90*24*time.Hour).Unix())},
		"recorded":  {n0("recordedAt"), fmt.Sprint(base.Add(time.Hour).UnixMilli())},
		"outcome":   {s0("outcome"), "block"},
	}
	for name, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s = %s, want %s", name, c[0], c[1])
		}
	}
	if ctxMap == nil || ctxMap.Value["eventType"].(*types.AttributeValueMemberS).Value != "pullrequest" {
		t.Errorf("context map missing or wrong: %#v", got.Item["context"])
	}

	tests := []struct {
		name string
		q    fpevents.Query
		want []int // indexes into recorded, in expected order
	}{
		{"all, newest first", fpevents.Query{}, []int{4, 3, 2, 1, 0}},
		{"limit 2", fpevents.Query{Limit: 2}, []int{4, 3}},
		{"since minute 3", fpevents.Query{Since: base.Add(3 * time.Minute)}, []int{4, 3}},
		{"since after all", fpevents.Query{Since: base.Add(time.Hour)}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			evs, err := s.ByRule(ctx, "R1", tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != len(tc.want) {
				t.Fatalf("%d events, want %d", len(evs), len(tc.want))
			}
			for i, w := range tc.want {
				if evs[i].EventID != recorded[w].EventID {
					t.Errorf("event %d is %s, want %s", i, evs[i].EventID, recorded[w].EventID)
				}
			}
		})
	}

	byF, err := s.ByFinding(ctx, "f0")
	if err != nil {
		t.Fatal(err)
	}
	// f0: R1 at minutes 0, 2, 4 plus R2 at minute 0.
	if len(byF) != 4 || byF[0].EventID != recorded[4].EventID {
		t.Fatalf("by finding: %d events (first %v), want 4 starting with %s", len(byF), byF, recorded[4].EventID)
	}
	for _, ev := range byF {
		if ev.FindingID != "f0" || ev.Context.Repo != "acme/api" || ev.Context.PRNumber != 7 {
			t.Errorf("decoded event %+v", ev)
		}
	}
}

func TestRecordIsCreateOnly(t *testing.T) {
	ctx := context.Background()
	_, s := newStore(t)
	ev := event("R1", "1", "f1", base)
	ev.EventID = "fixed"
	if _, err := s.Record(ctx, ev); err != nil {
		t.Fatal(err)
	}
	ev.Outcome = fpevents.OutcomePass
	if _, err := s.Record(ctx, ev); !errors.Is(err, fpevents.ErrDuplicate) {
		t.Fatalf("second write: %v, want ErrDuplicate", err)
	}
	evs, err := s.ByRule(ctx, "R1", fpevents.Query{})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].Outcome != fpevents.OutcomeBlock {
		t.Fatalf("after the duplicate: %+v, want the original block event only", evs)
	}
}

func TestValidation(t *testing.T) {
	ctx := context.Background()
	e, s := newStore(t)
	tests := []struct {
		name string
		edit func(*fpevents.Event)
	}{
		{"no rule", func(ev *fpevents.Event) { ev.RuleID = "" }},
		{"separator in rule", func(ev *fpevents.Event) { ev.RuleID = "a#b" }},
		{"no finding", func(ev *fpevents.Event) { ev.FindingID = "" }},
		{"no version", func(ev *fpevents.Event) { ev.RuleVersion = "" }},
		{"bad outcome", func(ev *fpevents.Event) { ev.Outcome = "allow" }},
		{"bad event type", func(ev *fpevents.Event) { ev.Context.EventType = "push" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev := event("R1", "1", "f1", base)
			tc.edit(&ev)
			e.Emulator.ResetCounts()
			if _, err := s.Record(ctx, ev); !errors.Is(err, fpevents.ErrInvalid) {
				t.Fatalf("Record: %v, want ErrInvalid", err)
			}
			if n := e.Emulator.Counts().Total; n != 0 {
				t.Fatalf("%d requests sent for an invalid event, want 0", n)
			}
		})
	}
}

func TestReviewAndStats(t *testing.T) {
	ctx := context.Background()
	_, s := newStore(t)
	var evs []fpevents.Event
	for i, v := range []string{"1", "2", "2", "2", "1"} {
		ev, err := s.Record(ctx, event("R9", v, fmt.Sprintf("f%d", i), base.Add(time.Duration(i)*time.Second)))
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
	}
	if err := s.MarkFalsePositive(ctx, evs[0].Key(), "alice"); err != nil {
		t.Fatal(err)
	}
	if err := s.Review(ctx, evs[1].Key(), "bob", false); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkFalsePositive(ctx, evs[2].Key(), "carol"); err != nil {
		t.Fatal(err)
	}
	missing := evs[0].Key()
	missing.SK += "x"
	if err := s.Review(ctx, missing, "alice", true); !errors.Is(err, fpevents.ErrNotFound) {
		t.Fatalf("reviewing a missing event: %v, want ErrNotFound", err)
	}
	byF, err := s.ByFinding(ctx, "f0")
	if err != nil || len(byF) != 1 {
		t.Fatalf("by finding: %v %v", byF, err)
	}
	if !byF[0].IsFalsePositive || byF[0].ReviewedBy != "alice" || !byF[0].Reviewed() {
		t.Fatalf("reviewed event reads back as %+v", byF[0])
	}
	tests := []struct {
		name  string
		since time.Time
		want  fpevents.Stats
	}{
		{"whole window", base, fpevents.Stats{RuleID: "R9", Events: 5, Pending: 2, TruePositives: 1, FalsePositives: 2, ObservedFPRate: 2.0 / 3, DominantRuleVersion: "2"}},
		{"last two", base.Add(3 * time.Second), fpevents.Stats{RuleID: "R9", Events: 2, Pending: 2, DominantRuleVersion: "2"}},
		{"empty window", base.Add(time.Minute), fpevents.Stats{RuleID: "R9"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, err := s.WindowStats(ctx, "R9", tc.since)
			if err != nil {
				t.Fatal(err)
			}
			if st != tc.want {
				t.Fatalf("stats %+v, want %+v", st, tc.want)
			}
		})
	}
	for _, ev := range evs {
		if err := s.Delete(ctx, ev.Key()); err != nil {
			t.Fatal(err)
		}
	}
	left, err := s.ByRule(ctx, "R9", fpevents.Query{})
	if err != nil || len(left) != 0 {
		t.Fatalf("after delete: %d events, %v", len(left), err)
	}
}

func TestUnreachableTableIsAnError(t *testing.T) {
	ctx := context.Background()
	e, s := newStore(t)
	e.Fail(t, emulator.FaultRule{BodyContains: e.Target().FPEventsTable})
	if _, err := s.Record(ctx, event("R1", "1", "f", base)); err == nil || errors.Is(err, fpevents.ErrDuplicate) {
		t.Fatalf("Record with the table unreachable: %v", err)
	}
	if _, err := s.ByRule(ctx, "R1", fpevents.Query{}); err == nil {
		t.Fatal("ByRule with the table unreachable succeeded")
	}
	if _, err := s.WindowStats(ctx, "R1", base); err == nil {
		t.Fatal("WindowStats with the table unreachable succeeded")
	}
}

func BenchmarkRecord(b *testing.B) {
	ctx := context.Background()
	_, s := newStore(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		if _, err := s.Record(ctx, event("RB", "1", fmt.Sprintf("f%d", i), base.Add(time.Duration(i)*time.Millisecond))); err != nil {
			b.Fatal(err)
		}
	}
}

func benchRead(b *testing.B, read func(context.Context, *fpevents.Store) (int, error)) {
	ctx := context.Background()
	_, s := newStore(b)
	for i := range 50 {
		if _, err := s.Record(ctx, event("RB", "1", fmt.Sprintf("f%d", i%5), base.Add(time.Duration(i)*time.Second))); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := read(ctx, s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkByRuleLimit10(b *testing.B) {
	benchRead(b, func(ctx context.Context, s *fpevents.Store) (int, error) {
		evs, err := s.ByRule(ctx, "RB", fpevents.Query{Limit: 10})
		return len(evs), err
	})
}

func BenchmarkByFinding(b *testing.B) {
	benchRead(b, func(ctx context.Context, s *fpevents.Store) (int, error) {
		evs, err := s.ByFinding(ctx, "f3")
		return len(evs), err
	})
}

func BenchmarkWindowStats50(b *testing.B) {
	benchRead(b, func(ctx context.Context, s *fpevents.Store) (int, error) {
		st, err := s.WindowStats(ctx, "RB", base)
		return st.Events, err
	})
}
