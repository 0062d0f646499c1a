package e2e_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/mirror-dissonance/mirror-infra/verify/e2e"
)

// TestSweepFollowsScanPages: with 30 Oracle items of 40 KB in fp-events,
// one Scan page (1 MB) does not hold the table, so the sweep must follow
// LastEvaluatedKey to find what a killed run left; it removes that and
// keeps every Oracle item. Before the emulator paged by size, one Scan
// per table answered and the ExclusiveStartKey loop never ran.
func TestSweepFollowsScanPages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := setup(t, true)
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
	c := e2e.NewClients(e.NoRetries())
	e2e.KilledRun(ctx, c, e.Target(), e2e.Options{TempDir: t.TempDir()}, len(e2e.Steps)-1)
	e.Emulator.ResetCounts()
	res, err := e2e.Sweep(ctx, c, e.Target(), e2e.SweepOptions{Now: func() time.Time { return time.Now().Add(30 * 24 * time.Hour) }})
	if err != nil || res.FPEvents == 0 {
		t.Fatalf("sweep %+v, %v; want the killed run's FP events removed", res, err)
	}
	if scans := e.Emulator.Counts().ByOperation["dynamodb.Scan"]; scans < 4 {
		t.Errorf("%d Scans for three tables; fp-events alone needs two pages", scans)
	}
	kept := 0
	p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: aws.String(e.Target().FPEventsTable)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			if v, ok := it["pk"].(*types.AttributeValueMemberS); ok && v.Value == "rule#bulk" {
				kept++
			}
		}
	}
	if kept != 30 {
		t.Errorf("%d of the 30 Oracle items kept", kept)
	}
}
