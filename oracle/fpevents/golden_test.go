package fpevents_test

import (
	"context"
	"github.com/mirror-dissonance/mirror-infra/emulator"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/mirror-dissonance/mirror-infra/oracle/fpevents"
	"github.com/mirror-dissonance/mirror-infra/oracle/internal/oracletest"
)

// goldenCase is one case of testdata/fp-events.json: the Oracle's FPEvent
// input, its clock, and the item its fp-store writes for them.
type goldenCase struct {
	Name   string `json:"name"`
	Writer bool   `json:"writer"`
	Now    string `json:"now"`
	Event  struct {
		EventID         string         `json:"eventId"`
		RuleID          string         `json:"ruleId"`
		RuleVersion     string         `json:"ruleVersion"`
		FindingID       string         `json:"findingId"`
		Outcome         string         `json:"outcome"`
		IsFalsePositive bool           `json:"isFalsePositive"`
		Timestamp       string         `json:"timestamp"`
		Context         map[string]any `json:"context"`
	} `json:"event"`
	Review *struct {
		ReviewedBy string `json:"reviewedBy"`
		ReviewedAt string `json:"reviewedAt"`
	} `json:"review"`
	Item string `json:"item"`
}

func goldenCases(t *testing.T) []goldenCase {
	t.Helper()
	f := oracletest.ReadFixture[struct {
		Cases []goldenCase `json:"cases"`
	}](t, "fp-events.json")
	if len(f.Cases) == 0 {
		t.Fatal("no golden cases")
	}
	return f.Cases
}

// want is the Event the fixture's input describes, as FromItem must give it.
func (c goldenCase) want(t *testing.T) fpevents.Event {
	now := oracletest.Time(t, c.Now)
	e := fpevents.Event{
		EventID: c.Event.EventID, RuleID: c.Event.RuleID, RuleVersion: c.Event.RuleVersion, FindingID: c.Event.FindingID,
		Outcome: c.Event.Outcome, IsFalsePositive: c.Event.IsFalsePositive, Timestamp: oracletest.Time(t, c.Event.Timestamp),
		ExpiresAt: now.Unix() + 90*86400, RecordedAt: now.UnixMilli(),
	}
	for k, v := range c.Event.Context {
		switch k {
		case "repo":
			e.Context.Repo = v.(string)
		case "branch":
			e.Context.Branch = v.(string)
		case "eventType":
			e.Context.EventType = v.(string)
		case "commit":
			e.Context.Commit = v.(string)
		case "prNumber":
			e.Context.PRNumber = int(v.(float64))
		default:
			if e.Context.Extra == nil {
				e.Context.Extra = map[string]types.AttributeValue{}
			}
			e.Context.Extra[k] = &types.AttributeValueMemberS{Value: v.(string)}
		}
	}
	if c.Review != nil {
		e.ReviewedBy, e.ReviewedAt = c.Review.ReviewedBy, oracletest.Time(t, c.Review.ReviewedAt)
	}
	return e
}

// TestGoldenOracleItems: an item the Oracle's fp-store writes decodes with
// every field intact, re-encodes byte-identical, passes CheckItem, and is
// what our Record writes for the same input and clock (so the Oracle reads
// ours as its own); an Oracle item put into the table reads back by rule and
// by finding.
func TestGoldenOracleItems(t *testing.T) {
	ctx := context.Background()
	e := emulator.NewTestEnv(t, emulator.SeedOptions{SkipNonce: true})
	for _, c := range goldenCases(t) {
		t.Run(c.Name, func(t *testing.T) {
			item, raw := oracletest.ReadItem(t, filepath.Join("testdata", c.Item))
			want := c.want(t)

			got, err := fpevents.FromItem(item)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("decoded\n %#v\nwant\n %#v", got, want)
			}
			oracletest.RequireSameBytes(t, "ToItem(FromItem(fixture))", fpevents.ToItem(got), raw)
			oracletest.NoFindings(t, "CheckItem(fixture)", fpevents.CheckItem(item))
			if canon, ok := fpevents.CanonicalEventType(got.Context.EventType); !ok || canon == "" {
				t.Errorf("event type %q not readable", got.Context.EventType)
			}

			// The Oracle's item in the table reads back through both access
			// paths the Oracle uses.
			table := e.Target().FPEventsTable
			if _, err := e.DynamoDB().PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
				t.Fatal(err)
			}
			s := fpevents.New(e.DynamoDB(), table)
			byRule, err := s.ByRule(ctx, want.RuleID, fpevents.Query{})
			if err != nil || len(byRule) != 1 || !reflect.DeepEqual(byRule[0], want) {
				t.Errorf("ByRule = %v, %v; want the fixture's event", byRule, err)
			}
			byFinding, err := s.ByFinding(ctx, want.FindingID)
			if err != nil || len(byFinding) != 1 || !reflect.DeepEqual(byFinding[0], want) {
				t.Errorf("ByFinding = %v, %v; want the fixture's event", byFinding, err)
			}
			if err := s.Delete(ctx, want.Key()); err != nil {
				t.Fatal(err)
			}

			if !c.Writer {
				return
			}
			// Our writer, same input and clock: the stored bytes are the
			// Oracle's.
			s.Now = func() time.Time { return oracletest.Time(t, c.Now) }
			in := want
			in.ExpiresAt, in.RecordedAt = 0, 0
			if _, err := s.Record(ctx, in); err != nil {
				t.Fatal(err)
			}
			out, err := e.DynamoDB().GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: map[string]types.AttributeValue{
				"pk": item["pk"], "sk": item["sk"],
			}})
			if err != nil {
				t.Fatal(err)
			}
			oracletest.RequireSameBytes(t, "the item Record stored", out.Item, raw)
			if err := s.Delete(ctx, want.Key()); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestRecordWritesTheAdapterSpelling: the older spelling is accepted on
// input but stored as the adapter layer's.
func TestRecordWritesTheAdapterSpelling(t *testing.T) {
	tests := []struct{ in, stored string }{
		{fpevents.LegacyEventPullRequest, fpevents.EventPullRequest},
		{fpevents.LegacyEventMergeGroup, fpevents.EventMergeGroup},
		{fpevents.EventPullRequest, fpevents.EventPullRequest},
		{fpevents.EventMergeGroup, fpevents.EventMergeGroup},
		{fpevents.EventDrift, fpevents.EventDrift},
	}
	ctx := context.Background()
	_, s := newStore(t)
	for i, tc := range tests {
		ev := event("RS", "1", "f", base.Add(time.Duration(i)*time.Second))
		ev.Context.EventType = tc.in
		rec, err := s.Record(ctx, ev)
		if err != nil {
			t.Fatalf("%s: %v", tc.in, err)
		}
		got, err := s.ByFinding(ctx, "f")
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range got {
			if g.EventID == rec.EventID && g.Context.EventType != tc.stored {
				t.Errorf("%s stored as %q, want %q", tc.in, g.Context.EventType, tc.stored)
			}
		}
	}
}

// TestCheckItem: each contract defect gives its finding and severity; the
// clean item gives none.
func TestCheckItem(t *testing.T) {
	clean := fpevents.ToItem(fpevents.Event{
		EventID: "e1", RuleID: "R1", RuleVersion: "1", FindingID: "f1", Outcome: "block",
		Timestamp: base, Context: fpevents.Context{Repo: "acme/api", Branch: "main", EventType: fpevents.EventPullRequest},
		ExpiresAt: base.Unix() + 1, RecordedAt: base.UnixMilli(),
	})
	with := func(change func(map[string]types.AttributeValue)) map[string]types.AttributeValue {
		it := make(map[string]types.AttributeValue, len(clean))
		for k, v := range clean {
			it[k] = v
		}
		change(it)
		return it
	}
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	tests := []struct {
		name string
		item map[string]types.AttributeValue
		code string
		fail bool
	}{
		{"clean", clean, "", false},
		{"legacy spelling", with(func(it map[string]types.AttributeValue) {
			it["context"] = &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"repo": s("r"), "branch": s("b"), "eventType": s("merge_group")}}
		}), "", false},
		{"no gsi1pk", with(func(it map[string]types.AttributeValue) { delete(it, "gsi1pk") }), fpevents.CodeMissingIndexKeys, true},
		{"empty gsi1sk", with(func(it map[string]types.AttributeValue) { it["gsi1sk"] = s("") }), fpevents.CodeMissingIndexKeys, true},
		{"gsi1pk of another finding", with(func(it map[string]types.AttributeValue) { it["gsi1pk"] = s("finding#other") }), fpevents.CodeKeyMismatch, true},
		{"unknown event type", with(func(it map[string]types.AttributeValue) {
			it["context"] = &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"repo": s("r"), "branch": s("b"), "eventType": s("push")}}
		}), fpevents.CodeUnknownEventType, true},
		{"no context", with(func(it map[string]types.AttributeValue) { delete(it, "context") }), fpevents.CodeUnknownEventType, true},
		{"bad outcome", with(func(it map[string]types.AttributeValue) { it["outcome"] = s("deny") }), fpevents.CodeBadField, true},
		{"bad timestamp", with(func(it map[string]types.AttributeValue) { it["timestamp"] = s("yesterday") }), fpevents.CodeBadField, true},
		{"no expiresAt", with(func(it map[string]types.AttributeValue) { delete(it, "expiresAt") }), fpevents.CodeNoExpiry, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := fpevents.CheckItem(tc.item)
			if tc.code == "" {
				oracletest.NoFindings(t, "findings", fs)
				return
			}
			found := false
			for _, f := range fs {
				if f.Code == tc.code {
					found = true
					if (f.Severity == "FAIL") != tc.fail {
						t.Errorf("%s has severity %s, want fail=%v", f.Code, f.Severity, tc.fail)
					}
				}
			}
			if !found {
				t.Errorf("findings %v, want %s", fs, tc.code)
			}
		})
	}
}
