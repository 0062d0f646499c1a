package fpevents_test

import (
	"context"
	"fmt"
	"time"

	"github.com/mirror-dissonance/mirror-infra/emulator"
	"github.com/mirror-dissonance/mirror-infra/oracle/fpevents"
)

// Record an FP event and read it back by rule and by finding, here against
// a seeded emulator (a real table works the same way).
func Example() {
	e := emulator.Start()
	defer e.Close()
	ctx := context.Background()
	s, err := e.Seed(ctx, emulator.SeedOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	store := fpevents.NewFromConfig(s.Config, s.Target().FPEventsTable)

	ev, err := store.Record(ctx, fpevents.Event{
		RuleID: "secret-scan", RuleVersion: "3", FindingID: "f-42", Outcome: fpevents.OutcomeBlock,
		Timestamp: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Context:   fpevents.Context{Repo: "acme/web", Branch: "feature", PRNumber: 7, EventType: fpevents.EventPullRequest},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := store.MarkFalsePositive(ctx, ev.Key(), "reviewer"); err != nil {
		fmt.Println(err)
		return
	}
	byRule, err := store.ByRule(ctx, "secret-scan", fpevents.Query{})
	if err != nil {
		fmt.Println(err)
		return
	}
	byFinding, err := store.ByFinding(ctx, "f-42")
	if err != nil {
		fmt.Println(err)
		return
	}
	got := byRule[0]
	fmt.Println(len(byRule), len(byFinding), got.RuleID, got.FindingID, got.Outcome, got.Timestamp.Format(time.RFC3339))
	fmt.Println("false positive:", got.IsFalsePositive, "reviewed by", got.ReviewedBy)
	// Output:
	// 1 1 secret-scan f-42 block 2026-01-02T03:04:05Z
	// false positive: true reviewed by reviewer
}
