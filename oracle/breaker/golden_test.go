package breaker_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/mirror-dissonance/mirror-infra/oracle/breaker"
	"github.com/mirror-dissonance/mirror-infra/oracle/internal/oracletest"
)

type counterFixture struct {
	RuleID     string   `json:"ruleId"`
	OrgID      string   `json:"orgId"`
	Increments []string `json:"increments"`
	OracleItem string   `json:"oracleItem"`
	OurItem    string   `json:"ourItem"`
}

func (f counterFixture) times(t *testing.T) []time.Time {
	t.Helper()
	var out []time.Time
	for _, s := range f.Increments {
		out = append(out, oracletest.Time(t, s))
	}
	return out
}

// TestGoldenCounterItems: our increments write the Oracle's bucket (same
// key, count, timestamp) with expiresAt, byte-identical to the fixture; an
// Oracle bucket is read and counted on by ours (shared buckets), gains
// expiresAt, and CheckItem reports the Oracle's item (WARN) but not ours.
func TestGoldenCounterItems(t *testing.T) {
	ctx := context.Background()
	f := oracletest.ReadFixture[counterFixture](t, "block-counter.json")
	oracleItem, oracleRaw := oracletest.ReadItem(t, filepath.Join("testdata", f.OracleItem))
	ourItem, ourRaw := oracletest.ReadItem(t, filepath.Join("testdata", f.OurItem))
	oracletest.RequireSameBytes(t, "re-encoded Oracle item", oracleItem, oracleRaw)
	ts := f.times(t)
	key := map[string]types.AttributeValue{"bucketKey": oracleItem["bucketKey"]}

	t.Run("ours writes the Oracle's bucket", func(t *testing.T) {
		e, c, now := newCounter(t)
		for _, at := range ts {
			*now = at
			if _, err := c.Increment(ctx, f.RuleID, f.OrgID); err != nil {
				t.Fatal(err)
			}
		}
		out, err := e.DynamoDB().GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(e.Target().BlockCounterTable), Key: key})
		if err != nil {
			t.Fatal(err)
		}
		oracletest.RequireSameBytes(t, "our bucket", out.Item, ourRaw)
		oracletest.NoFindings(t, "CheckItem(ours)", breaker.CheckItem(out.Item))
	})

	t.Run("shared bucket", func(t *testing.T) {
		e, c, now := newCounter(t)
		if _, err := e.DynamoDB().PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(e.Target().BlockCounterTable), Item: oracleItem}); err != nil {
			t.Fatal(err)
		}
		*now = ts[len(ts)-1]
		if n, err := c.Count(ctx, f.RuleID, f.OrgID); err != nil || n != 3 {
			t.Fatalf("Count of the Oracle's bucket = %d, %v; want 3", n, err)
		}
		if n, err := c.Increment(ctx, f.RuleID, f.OrgID); err != nil || n != 4 {
			t.Fatalf("Increment on the Oracle's bucket = %d, %v; want 4", n, err)
		}
		out, err := e.DynamoDB().GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(e.Target().BlockCounterTable), Key: key})
		if err != nil {
			t.Fatal(err)
		}
		if out.Item["expiresAt"] == nil || out.Item["ttl"] == nil {
			t.Errorf("healed bucket %v: want expiresAt added and the Oracle's ttl kept", out.Item)
		}
		oracletest.NoFindings(t, "CheckItem(healed)", breaker.CheckItem(out.Item))
	})

	t.Run("checks", func(t *testing.T) {
		fs := breaker.CheckItem(oracleItem)
		if len(fs) != 1 || fs[0].Code != breaker.CodeNoExpiry || fs[0].Severity != "WARN" {
			t.Errorf("CheckItem(Oracle's) = %v, want one WARN %s", fs, breaker.CodeNoExpiry)
		}
		oracletest.NoFindings(t, "CheckItem(ours)", breaker.CheckItem(ourItem))
	})
}

func TestParseBucketKeyAndCheckItem(t *testing.T) {
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	n := func(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }
	tests := []struct {
		name  string
		item  map[string]types.AttributeValue
		codes []string
		rule  string
		org   string
	}{
		{"ours", map[string]types.AttributeValue{"bucketKey": s("R1:acme/api:2026-11-27T14:00:00.000Z"), "count": n("2"), "expiresAt": n("1")}, nil, "R1", "acme/api"},
		{"org with colon", map[string]types.AttributeValue{"bucketKey": s("R1:a:b:2026-11-27T14:00:00.000Z"), "count": n("2"), "expiresAt": n("1")}, nil, "R1", "a:b"},
		{"Oracle's ttl", map[string]types.AttributeValue{"bucketKey": s("R1:acme:2026-11-27T14:00:00.000Z"), "count": n("2"), "ttl": n("1")}, []string{breaker.CodeNoExpiry}, "R1", "acme"},
		{"old Go key", map[string]types.AttributeValue{"bucketKey": s("R1#org#2026-07-04T13"), "count": n("2"), "expiresAt": n("1")}, []string{breaker.CodeBadKey}, "", ""},
		{"not the start of the hour", map[string]types.AttributeValue{"bucketKey": s("R1:acme:2026-11-27T14:30:00.000Z"), "count": n("2"), "expiresAt": n("1")}, []string{breaker.CodeBadKey}, "", ""},
		{"no count", map[string]types.AttributeValue{"bucketKey": s("R1:acme:2026-11-27T14:00:00.000Z"), "expiresAt": n("1")}, []string{breaker.CodeBadCount}, "R1", "acme"},
		{"string count", map[string]types.AttributeValue{"bucketKey": s("R1:acme:2026-11-27T14:00:00.000Z"), "count": s("3"), "expiresAt": n("1")}, []string{breaker.CodeBadCount}, "R1", "acme"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var codes []string
			for _, f := range breaker.CheckItem(tc.item) {
				codes = append(codes, f.Code)
			}
			if len(codes) != len(tc.codes) || (len(codes) > 0 && codes[0] != tc.codes[0]) {
				t.Errorf("codes %v, want %v", codes, tc.codes)
			}
			b, err := breaker.ParseBucketKey(tc.item["bucketKey"].(*types.AttributeValueMemberS).Value)
			if tc.rule != "" && (err != nil || b.RuleID != tc.rule || b.OrgID != tc.org) {
				t.Errorf("ParseBucketKey = %+v, %v; want %s / %s", b, err, tc.rule, tc.org)
			}
		})
	}
}
