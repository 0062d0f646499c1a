package verify

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/mirror-dissonance/mirror-infra/emulator"
	"github.com/mirror-dissonance/mirror-infra/oracle/consent"
	"github.com/mirror-dissonance/mirror-infra/oracle/fpevents"
	"github.com/mirror-dissonance/mirror-infra/report"
)

// TestTablesAndDataOnDynalite runs the tables and data checks with
// DynamoDB on dynalite, which rejects what DynamoDB rejects and pages at
// 1 MB: the requests of both checks must be accepted, the tables check
// must see the schemas, and the data check must page to the newest item
// and report the original Oracle's consent record. dynalite keeps no
// deletion protection (see emulator.NewDynaliteTestEnv), so tables may
// WARN about it and nothing else.
func TestTablesAndDataOnDynalite(t *testing.T) {
	env := emulator.NewDynaliteTestEnv(t, emulator.SeedOptions{SkipNonce: true})
	ctx := context.Background()
	cfg := env.Seeded.Config
	c := NewClients(cfg, ClientOptions{MaxBackoff: 20 * time.Millisecond})
	tgt := env.Seeded.Target()

	ch := RunCheck(ctx, c, tgt, IDTables, testOptions)
	if ch.Status == report.Fail || (ch.Status == report.Warn && !strings.Contains(ch.Reason, "deletion protection")) {
		t.Fatalf("tables on dynalite: %s (%s), want PASS or a WARN about deletion protection only", ch.Status, ch.Reason)
	}

	ch = RunCheck(ctx, c, tgt, IDData, testOptions)
	if ch.Status != report.Skip {
		t.Fatalf("data on empty dynalite tables: %s (%s), want SKIP", ch.Status, ch.Reason)
	}

	// Written only to dynalite: the emulator's tables stay empty, so a
	// finding proves the checks read dynalite.
	db := dynamodb.NewFromConfig(cfg)
	writeClean(t, db, tgt)
	pad := strings.Repeat("x", 40<<10)
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for i := range 40 {
		it := fpEventAt(fmt.Sprintf("e%02d", i), base.Add(time.Duration(i)*time.Hour), func(it av) { it["pad"] = avS(pad) })
		if i == 39 { // the newest
			delete(it, "gsi1pk")
			delete(it, "gsi1sk")
		}
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(tgt.FPEventsTable), Item: it}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(tgt.ConsentTable), Item: av{
		"orgId": avS(consent.OrgID("globex")), "pk": avS("org#" + consent.OrgID("globex")), "sk": avS("consent#pull_request_analysis#1"),
		"scope": avS("pull_request_analysis"), "updatedAt": avS("2026-11-27T14:05:09.123Z"),
	}}); err != nil {
		t.Fatal(err)
	}
	ch = RunCheck(ctx, c, tgt, IDData, testOptions)
	if ch.Status != report.Fail || !strings.Contains(ch.Reason, consent.CodeOracleShape) || !strings.Contains(ch.Reason, "1 of 41 sampled item(s) "+fpevents.CodeMissingIndexKeys) ||
		strings.Contains(ch.Reason, fpevents.CodeKeyMismatch) {
		t.Fatalf("data on dynalite: %s (%s), want FAIL with %s and %s", ch.Status, ch.Reason, consent.CodeOracleShape, fpevents.CodeMissingIndexKeys)
	}
	if d := ch.Details[tgt.FPEventsTable]; !strings.Contains(d, "of 41 read in ") || strings.Contains(d, "in 1 Scan page") {
		t.Errorf("fp-events details %q, want 41 items read over more than one 1 MB page", d)
	}
}
