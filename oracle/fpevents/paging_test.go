package fpevents_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/mirror-dissonance/mirror-infra/emulator"
	"github.com/mirror-dissonance/mirror-infra/oracle/fpevents"
)

// TestReadsFollowPages: 30 events of 40 KB do not fit one 1 MB page, so
// ByRule and ByFinding must follow LastEvaluatedKey (several Queries) to
// return all of them. Before the emulator paged by size, one Query
// answered everything and the ExclusiveStartKey loop never ran.
func TestReadsFollowPages(t *testing.T) {
	t.Parallel()
	env := emulator.NewTestEnv(t, emulator.SeedOptions{SkipNonce: true})
	ctx := context.Background()
	table := env.Target().FPEventsTable
	store := fpevents.NewFromConfig(env.Config, table)
	db := dynamodb.NewFromConfig(env.Config)
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	pad := strings.Repeat("p", 40*1024)
	for i := range 30 {
		ev, err := store.Record(ctx, fpevents.Event{
			RuleID: "R-big", RuleVersion: "1", FindingID: "F-big", Outcome: fpevents.OutcomeBlock, Timestamp: base.Add(time.Duration(i) * time.Minute),
			Context: fpevents.Context{Repo: "acme/api", Branch: "main", EventType: fpevents.EventPullRequest},
		})
		if err != nil {
			t.Fatal(err)
		}
		// The padding is an attribute the store does not read: it makes
		// the item 40 KB without changing the event.
		k := ev.Key()
		if _, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                 aws.String(table),
			Key:                       map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: k.PK}, "sk": &types.AttributeValueMemberS{Value: k.SK}},
			UpdateExpression:          aws.String("SET #pad = :pad"),
			ExpressionAttributeNames:  map[string]string{"#pad": "padding"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":pad": &types.AttributeValueMemberS{Value: pad}},
		}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name string
		read func() ([]fpevents.Event, error)
	}{
		{"ByRule", func() ([]fpevents.Event, error) { return store.ByRule(ctx, "R-big", fpevents.Query{}) }},
		{"ByFinding", func() ([]fpevents.Event, error) { return store.ByFinding(ctx, "F-big") }},
	} {
		env.Emulator.ResetCounts()
		got, err := tc.read()
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if len(got) != 30 {
			t.Errorf("%s: %d events, want 30", tc.name, len(got))
		}
		for i := 1; i < len(got); i++ {
			if got[i].Timestamp.After(got[i-1].Timestamp) {
				t.Errorf("%s: not newest first at %d", tc.name, i)
				break
			}
		}
		if q := env.Emulator.Counts().ByOperation["dynamodb.Query"]; q < 2 {
			t.Errorf("%s: %d Query, want several pages", tc.name, q)
		}
	}
}
