package fpevents_test

import (
	"context"
	"testing"
	"time"

	"github.com/mirror-dissonance/mirror-infra/emulator"
	"github.com/mirror-dissonance/mirror-infra/oracle/fpevents"
)

// TestStoreOnDynalite runs the FP event store's requests (a conditional
// put, queries of the table and of FindingIndex, a review update, a
// delete) against dynalite, an independent DynamoDB. It skips only when
// node is missing.
func TestStoreOnDynalite(t *testing.T) {
	t.Parallel()
	env := emulator.NewDynaliteTestEnv(t, emulator.SeedOptions{SkipNonce: true})
	t.Logf("DynamoDB on dynalite at %s", env.Dynalite.URL)
	ctx := context.Background()
	s := fpevents.NewFromConfig(env.Config, env.Target().FPEventsTable)
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var evs []fpevents.Event
	for i := range 3 {
		ev, err := s.Record(ctx, fpevents.Event{RuleID: "R1", RuleVersion: "1", FindingID: "F1", Outcome: fpevents.OutcomeBlock,
			Timestamp: base.Add(time.Duration(i) * time.Minute), Context: fpevents.Context{Repo: "acme/api", Branch: "main", EventType: fpevents.EventPullRequest}})
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		evs = append(evs, ev)
	}
	got, err := s.ByRule(ctx, "R1", fpevents.Query{Limit: 2})
	if err != nil || len(got) != 2 || got[0].EventID != evs[2].EventID {
		t.Fatalf("by rule, newest 2: %+v, %v", got, err)
	}
	got, err = s.ByFinding(ctx, "F1")
	if err != nil || len(got) != 3 {
		t.Fatalf("by finding: %d events, %v; want 3", len(got), err)
	}
	if err := s.MarkFalsePositive(ctx, evs[0].Key(), "bob"); err != nil {
		t.Fatalf("review: %v", err)
	}
	if err := s.Delete(ctx, evs[1].Key()); err != nil {
		t.Fatalf("delete: %v", err)
	}
	got, err = s.ByRule(ctx, "R1", fpevents.Query{})
	if err != nil || len(got) != 2 {
		t.Fatalf("after delete: %d events, %v; want 2", len(got), err)
	}
	for _, e := range got {
		if e.EventID == evs[0].EventID && (!e.IsFalsePositive || e.ReviewedBy == "") {
			t.Errorf("review not kept: %+v", e)
		}
	}
}
