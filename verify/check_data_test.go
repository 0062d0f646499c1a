package verify

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/mirror-dissonance/mirror-infra/emulator"
	"github.com/mirror-dissonance/mirror-infra/oracle/breaker"
	"github.com/mirror-dissonance/mirror-infra/oracle/consent"
	"github.com/mirror-dissonance/mirror-infra/oracle/fpevents"
	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/spec"
	"github.com/mirror-dissonance/mirror-infra/verify/target"
)

type av = map[string]types.AttributeValue

func avS(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func avN(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }

// writeClean writes one item per table with this repository's adapters.
func writeClean(t *testing.T, db *dynamodb.Client, tgt target.Env) {
	t.Helper()
	ctx := context.Background()
	if _, err := fpevents.New(db, tgt.FPEventsTable).Record(ctx, fpevents.Event{
		RuleID: "R1", RuleVersion: "1", FindingID: "f1", Outcome: fpevents.OutcomeBlock,
		Context: fpevents.Context{Repo: "acme/api", Branch: "main", EventType: fpevents.EventPullRequest},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := breaker.NewCounter(db, tgt.BlockCounterTable).Increment(ctx, "R1", "acme"); err != nil {
		t.Fatal(err)
	}
	if err := consent.New(db, tgt.ConsentTable).Grant(ctx, "acme", "pull_request_analysis", consent.Grant{By: "octocat", PolicyVersion: "1"}); err != nil {
		t.Fatal(err)
	}
}

// notExpired is an expiry a year from now. kumo, like DynamoDB, deletes
// items whose TTL attribute has passed (every 30 s), so an item written
// with an expiry in the past vanishes mid-test: that, not Scan paging, was
// why TestDataCheckSaysWhenBounded found 147 or 180 of 234 items, or none.
var notExpired = time.Now().AddDate(1, 0, 0).Unix()

// oracleFPEvent is an FP event as the Oracle writes it, minus what a case
// removes or changes.
func oracleFPEvent(id string, change func(av)) av {
	it := fpevents.ToItem(fpevents.Event{
		EventID: id, RuleID: "R9", RuleVersion: "1", FindingID: "f-" + id, Outcome: "block",
		Timestamp: time.Date(2026, 11, 27, 14, 0, 0, 0, time.UTC),
		Context:   fpevents.Context{Repo: "acme/api", Branch: "main", EventType: fpevents.EventPullRequest},
		ExpiresAt: notExpired, RecordedAt: 1,
	})
	change(it)
	return it
}

// fpEventAt is a correct FP event of rule R9 at the given time, changed.
func fpEventAt(id string, at time.Time, change func(av)) av {
	it := fpevents.ToItem(fpevents.Event{
		EventID: id, RuleID: "R9", RuleVersion: "1", FindingID: "f-" + id, Outcome: "block", Timestamp: at,
		Context: fpevents.Context{Repo: "acme/api", Branch: "main", EventType: fpevents.EventPullRequest}, ExpiresAt: notExpired, RecordedAt: 1,
	})
	change(it)
	return it
}

// TestDataCheck: clean items PASS, empty tables SKIP, and each defect the
// original Oracle (or a faulty writer) leaves in the tables gives its
// finding with the contract's severity, counted.
func TestDataCheck(t *testing.T) {
	tests := []struct {
		name   string
		clean  bool
		items  map[string][]av // by table suffix
		status report.Status
		want   []string // substrings of the reason
		// details are substrings of the details, all tables together.
		details []string
	}{
		{name: "empty tables", status: report.Skip, want: []string{"empty"}},
		{name: "clean items", clean: true, status: report.Pass, want: []string{"3 sampled item(s)"}},
		{name: "the Oracle's block counters", clean: true, items: map[string][]av{spec.TableBlockCounter: {
			{"bucketKey": avS("R1:acme:2026-11-27T13:00:00.000Z"), "count": avN("7"), "ttl": avN("1795870800"), "timestamp": avN("1795788000000")},
			{"bucketKey": avS("R2:acme:2026-11-27T13:00:00.000Z"), "count": avN("1"), "ttl": avN("1795870800"), "timestamp": avN("1795788000000")},
		}}, status: report.Warn, want: []string{"2 of 3 sampled block-counter item(s) have no expiresAt", "never expire", "bytes"}},
		{name: "FP event without index keys", clean: true, items: map[string][]av{spec.TableFPEvents: {
			oracleFPEvent("e1", func(it av) { delete(it, "gsi1pk"); delete(it, "gsi1sk") }),
		}}, status: report.Fail, want: []string{"1 of 2 sampled item(s) " + fpevents.CodeMissingIndexKeys, "gsi1pk, gsi1sk"}},
		{name: "FP event of an unknown type", clean: true, items: map[string][]av{spec.TableFPEvents: {
			oracleFPEvent("e2", func(it av) {
				it["context"] = &types.AttributeValueMemberM{Value: av{"repo": avS("r"), "branch": avS("b"), "eventType": avS("push")}}
			}),
		}}, status: report.Fail, want: []string{fpevents.CodeUnknownEventType, `"push"`}},
		{name: "the Oracle's consent item", clean: true, items: map[string][]av{spec.TableConsent: {
			{"orgId": avS(consent.OrgID("globex")), "pk": avS("org#" + consent.OrgID("globex")), "sk": avS("consent#pull_request_analysis#3f0c6a52"),
				"scope": avS("pull_request_analysis"), "revoked": &types.AttributeValueMemberBOOL{}, "grantedAt": avS("2026-11-27T14:05:09.123Z")},
		}}, status: report.Fail, want: []string{consent.CodeOracleShape, "overwrites the last"}},
		{name: "FAIL outranks WARN", items: map[string][]av{
			spec.TableBlockCounter: {{"bucketKey": avS("R1:acme:2026-11-27T13:00:00.000Z"), "count": avN("7"), "ttl": avN(fmt.Sprint(notExpired))}},
			spec.TableConsent:      {{"orgId": avS(consent.OrgID("initech")), "pk": avS("org#x"), "sk": avS("consent#x#y")}},
		}, status: report.Fail, want: []string{consent.CodeOracleShape}, details: []string{"WARN " + breaker.CodeNoExpiry + " x1", "FAIL " + consent.CodeOracleShape + " x1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			e, c, s := setup(t, emulator.SeedOptions{SkipNonce: true})
			cfg := awsConfig(t, e)
			db := dynamodb.NewFromConfig(cfg)
			tgt := s.Target()
			if tc.clean {
				writeClean(t, db, tgt)
			}
			for suffix, items := range tc.items {
				for _, it := range items {
					if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(tgt.Tables()[suffix]), Item: it}); err != nil {
						t.Fatal(err)
					}
				}
			}
			e.ResetCounts()
			ch := RunCheck(ctx, c, tgt, IDData, testOptions)
			if ch.Status != tc.status {
				t.Fatalf("status %s (%s), want %s", ch.Status, ch.Reason, tc.status)
			}
			for _, w := range tc.want {
				if !strings.Contains(ch.Reason, w) {
					t.Errorf("reason %q lacks %q", ch.Reason, w)
				}
			}
			var all strings.Builder
			for k, v := range ch.Details {
				all.WriteString(k + "=" + v + "\n")
			}
			for _, w := range tc.details {
				if !strings.Contains(all.String(), w) {
					t.Errorf("details %q lack %q", all.String(), w)
				}
			}
			if ch.Status != report.Pass && ch.Status != report.Skip && !strings.Contains(ch.Fix, "docs/oracle-contract.md") {
				t.Errorf("fix %q does not point to the contract", ch.Fix)
			}
			// One Scan per table, plus the run's probe.
			if n := e.Counts().ByOperation["dynamodb.Scan"]; n != len(dataTables) {
				t.Errorf("%d Scans, want %d: %v", n, len(dataTables), e.Counts().Operations())
			}
		})
	}
}

// TestDataCheckSamplesTheNewest: with more FP events than one 1 MB Scan
// page holds, the one bad event is the newest; the check must read past
// the first page to find it, and say what it sampled.
func TestDataCheckSamplesTheNewest(t *testing.T) {
	ctx := context.Background()
	e, c, s := setup(t, emulator.SeedOptions{SkipNonce: true})
	db := dynamodb.NewFromConfig(awsConfig(t, e))
	tgt := s.Target()
	pad := strings.Repeat("x", 40<<10) // 40 KB: 26 events fill a page
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	const good = 60
	put := func(id string, at time.Time, change func(av)) {
		t.Helper()
		it := fpEventAt(id, at, change)
		it["pad"] = avS(pad)
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(tgt.FPEventsTable), Item: it}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range good {
		put(fmt.Sprintf("e%02d", i), base.Add(time.Duration(i)*time.Hour), func(av) {})
	}
	// Written last and the newest: the precondition below proves it is
	// not on the first page, whatever order the Scan reads in.
	put("bad", base.Add(good*time.Hour), func(it av) { delete(it, "gsi1pk"); delete(it, "gsi1sk") })
	first, err := db.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(tgt.FPEventsTable), Limit: aws.Int32(dataSample)})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range first.Items {
		if sAttr(it, "eventId") == "bad" {
			t.Fatalf("precondition: the bad event is on the first Scan page (%d items); the test proves nothing", len(first.Items))
		}
	}
	if len(first.LastEvaluatedKey) == 0 {
		t.Fatal("precondition: the table fits one Scan page")
	}
	ch := RunCheck(ctx, c, tgt, IDData, testOptions)
	if ch.Status != report.Fail || !strings.Contains(ch.Reason, fpevents.CodeMissingIndexKeys) || !strings.Contains(ch.Reason, "bad") {
		t.Fatalf("status %s (%s), want FAIL naming the newest event's %s", ch.Status, ch.Reason, fpevents.CodeMissingIndexKeys)
	}
	want := fmt.Sprintf("sampled the %d newest item(s) by sk (the event time) of %d read in ", good+1, good+1)
	if d := ch.Details[tgt.FPEventsTable]; !strings.Contains(d, want) || !strings.Contains(d, "the whole table") {
		t.Errorf("details %q, want %q and the whole table", d, want)
	}
}

// TestDataCheckTerraformEra: the items the original TypeScript Oracle left
// in a Terraform-made environment (emulator.SeedTerraform writes them in
// its shapes) are found and reported as SPEC 6 says: its consent records
// FAIL, its block counters WARN (no expiresAt; hours keyed by the writer's
// half-hour zone), its FP events with eventType pull_request pass.
func TestDataCheckTerraformEra(t *testing.T) {
	ctx := context.Background()
	e, cfg := start(t)
	env := fmt.Sprintf("tfdata%d", time.Now().UnixNano()%1_000_000)
	tf, err := emulator.SeedTerraform(ctx, cfg, emulator.TerraformOptions{Env: env})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tf.Teardown(context.Background()) })
	tgt := target.Env{Environment: env, Region: emulator.Region}
	tgt.Defaults()
	e.ResetCounts()
	ch := RunCheck(ctx, NewClients(cfg, ClientOptions{MaxBackoff: 20 * time.Millisecond}), tgt, IDData, testOptions)
	if ch.Status != report.Fail {
		t.Fatalf("status %s (%s), want FAIL", ch.Status, ch.Reason)
	}
	for _, w := range []string{"3 of 3 sampled item(s) " + consent.CodeOracleShape} {
		if !strings.Contains(ch.Reason, w) {
			t.Errorf("reason %q lacks %q", ch.Reason, w)
		}
	}
	// The FP events carry the original's older spelling, which is read as
	// pullrequest (SPEC 7), so they pass.
	for _, k := range tf.Items[tgt.FPEventsTable] {
		out, err := dynamodb.NewFromConfig(cfg).GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(tgt.FPEventsTable), Key: k})
		if err != nil {
			t.Fatal(err)
		}
		ctxm, _ := out.Item["context"].(*types.AttributeValueMemberM)
		if ctxm == nil || sAttr(ctxm.Value, "eventType") != "pull_request" {
			t.Errorf("Terraform-era FP event %v has context %v, want eventType pull_request", k, out.Item["context"])
		}
	}
	for table, want := range map[string][]string{
		tgt.ConsentTable:      {"FAIL " + consent.CodeOracleShape + " x3"},
		tgt.BlockCounterTable: {"WARN " + breaker.CodeNoExpiry + " x3", "WARN " + breaker.CodeBadKey + " x3"},
		tgt.FPEventsTable:     {"sampled the 3 newest item(s)", "0 with findings"},
	} {
		for _, w := range want {
			if !strings.Contains(ch.Details[table], w) {
				t.Errorf("details of %s = %q, want %q", table, ch.Details[table], w)
			}
		}
	}
}

// TestDataCheckKeepsTheNewest: with more items than the sample holds, the
// sample is the newest ones: the bad event, the newest, is in it.
func TestDataCheckKeepsTheNewest(t *testing.T) {
	ctx := context.Background()
	e, c, s := setup(t, emulator.SeedOptions{SkipNonce: true})
	db := dynamodb.NewFromConfig(awsConfig(t, e))
	tgt := s.Target()
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	const n = dataSample + 20
	for i := range n {
		it := fpEventAt(fmt.Sprintf("e%03d", i), base.Add(time.Duration(i)*time.Minute), func(it av) {
			if i == n-1 {
				it["context"] = &types.AttributeValueMemberM{Value: av{"repo": avS("r"), "branch": avS("b"), "eventType": avS("push")}}
			}
		})
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(tgt.FPEventsTable), Item: it}); err != nil {
			t.Fatal(err)
		}
	}
	ch := RunCheck(ctx, c, tgt, IDData, testOptions)
	if ch.Status != report.Fail || !strings.Contains(ch.Reason, fmt.Sprintf("1 of %d sampled item(s) %s", dataSample, fpevents.CodeUnknownEventType)) {
		t.Fatalf("status %s (%s), want FAIL naming the newest event's type", ch.Status, ch.Reason)
	}
	if d := ch.Details[tgt.FPEventsTable]; !strings.Contains(d, fmt.Sprintf("sampled the %d newest item(s) by sk (the event time) of %d read", dataSample, n)) {
		t.Errorf("details %q", d)
	}
}

// TestDataCheckSaysWhenBounded: a table of more Scan pages than the check
// reads is sampled among the pages read, and the details say the bound
// cut it.
func TestDataCheckSaysWhenBounded(t *testing.T) {
	ctx := context.Background()
	e, c, s := setup(t, emulator.SeedOptions{SkipNonce: true})
	db := dynamodb.NewFromConfig(awsConfig(t, e))
	tgt := s.Target()
	pad := strings.Repeat("x", 40<<10) // 26 events fill a 1 MB page
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	n := (dataScanPages + 1) * 26
	for i := range n {
		it := fpEventAt(fmt.Sprintf("e%03d", i), base.Add(time.Duration(i)*time.Minute), func(it av) { it["pad"] = avS(pad) })
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(tgt.FPEventsTable), Item: it}); err != nil {
			t.Fatal(err)
		}
	}
	e.ResetCounts()
	ch := RunCheck(ctx, c, tgt, IDData, testOptions)
	if ch.Status != report.Pass {
		t.Fatalf("status %s (%s), want PASS", ch.Status, ch.Reason)
	}
	want := fmt.Sprintf("in %d Scan page(s) (stopped at %d pages: the table has more", dataScanPages, dataScanPages)
	if d := ch.Details[tgt.FPEventsTable]; !strings.Contains(d, want) {
		t.Errorf("details %q lack %q", d, want)
	}
	if got := e.Counts().ByOperation["dynamodb.Scan"]; got != dataScanPages+2 {
		t.Errorf("%d Scans, want %d (the bound on fp-events, one each on the others)", got, dataScanPages+2)
	}
}
