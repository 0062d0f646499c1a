package e2e_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/mirror-dissonance/mirror-infra/emulator"
	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/verify/e2e"
)

// TestCycleOnDynalite runs the E2E cycle with DynamoDB on dynalite (every
// other service on the emulator): dynalite rejects what DynamoDB rejects,
// so each request of the cycle, its lease and its cleanup must be one
// DynamoDB accepts, and the cleanup must leave the tables as they were.
func TestCycleOnDynalite(t *testing.T) {
	ctx := context.Background()
	e := setupOn(t, true, emulator.NewDynaliteTestEnv)
	before := snapshot(t, e)
	checks := e2e.Run(ctx, e2e.NewClients(e.NoRetries()), e.Target(), e2e.Options{TempDir: t.TempDir()}).Checks
	for _, c := range checks {
		if c.Status != report.Pass {
			t.Errorf("%s on dynalite: %s %s", c.ID, c.Status, c.Reason)
		}
	}
	for op, n := range e.Emulator.Counts().ByOperation {
		if strings.HasPrefix(op, "dynamodb.") {
			t.Errorf("%d %s reached the emulator, not dynalite", n, op)
		}
	}
	if after := snapshot(t, e); !reflect.DeepEqual(before, after) {
		t.Fatalf("tables changed on dynalite:\nbefore %v\nafter  %v", before, after)
	}
}

// TestSweepOnDynalite: what a run killed before its cleanup left is found
// and removed by the sweep on dynalite, which pages Scans at 1 MB as
// DynamoDB does (30 Oracle items of 40 KB make fp-events two pages), and
// every Oracle item is kept.
func TestSweepOnDynalite(t *testing.T) {
	ctx := context.Background()
	e := setupOn(t, true, emulator.NewDynaliteTestEnv)
	db := e.DynamoDB()
	pad := strings.Repeat("p", 40*1024)
	for i := range 30 {
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(e.Target().FPEventsTable), Item: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: "rule#bulk"}, "sk": &types.AttributeValueMemberS{Value: fmt.Sprintf("event#%03d", i)},
			"padding": &types.AttributeValueMemberS{Value: pad},
		}}); err != nil {
			t.Fatal(err)
		}
	}
	before := snapshot(t, e)
	c := e2e.NewClients(e.NoRetries())
	e2e.KilledRun(ctx, c, e.Target(), e2e.Options{TempDir: t.TempDir()}, len(e2e.Steps)-1)
	if killed := snapshot(t, e); reflect.DeepEqual(before, killed) {
		t.Fatal("the killed run left nothing to sweep")
	}
	res, err := e2e.Sweep(ctx, c, e.Target(), e2e.SweepOptions{Now: func() time.Time { return time.Now().Add(30 * 24 * time.Hour) }})
	if err != nil || res.FPEvents == 0 {
		t.Fatalf("sweep on dynalite %+v, %v; want the killed run's FP events removed", res, err)
	}
	if after := snapshot(t, e); !reflect.DeepEqual(before, after) {
		t.Errorf("after the sweep on dynalite:\nwant %v\ngot  %v", before, after)
	}
}
