package consent_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/mirror-dissonance/mirror-infra/oracle/consent"
	"github.com/mirror-dissonance/mirror-infra/oracle/internal/oracletest"
)

type consentFixture struct {
	Input struct {
		OrgID     string `json:"orgId"`
		Scope     string `json:"scope"`
		GrantedBy string `json:"grantedBy"`
		ExpiresAt string `json:"expiresAt"`
	} `json:"input"`
	Now  string `json:"now"`
	Item string `json:"item"`
}

// TestGoldenOracleConsentItem: the Oracle's pk/sk consent record keys the
// organisation as ours does, is read (not failed on) as a grant of its
// scope, is reported by CheckItem, and is replaced by our record on our
// next write without losing its grant.
func TestGoldenOracleConsentItem(t *testing.T) {
	ctx := context.Background()
	f := oracletest.ReadFixture[consentFixture](t, "consent-oracle.json")
	item, itemRaw := oracletest.ReadItem(t, filepath.Join("testdata", f.Item))
	oracletest.RequireSameBytes(t, "re-encoded Oracle consent item", item, itemRaw)

	if got := item["orgId"].(*types.AttributeValueMemberS).Value; got != consent.OrgID(f.Input.OrgID) {
		t.Errorf("the Oracle keys %q as %s, OrgID gives %s", f.Input.OrgID, got, consent.OrgID(f.Input.OrgID))
	}
	if got := consent.Classify(item); got != consent.ShapeOracle {
		t.Errorf("Classify = %s, want %s", got, consent.ShapeOracle)
	}
	fs := consent.CheckItem(item)
	if len(fs) != 1 || fs[0].Code != consent.CodeOracleShape || fs[0].Severity != "FAIL" {
		t.Errorf("CheckItem = %v, want one FAIL %s", fs, consent.CodeOracleShape)
	}

	e, s, now := newStore(t)
	if _, err := e.DynamoDB().PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(e.Target().ConsentTable), Item: item}); err != nil {
		t.Fatal(err)
	}
	recorded, expires := oracletest.Time(t, f.Now), oracletest.Time(t, f.Input.ExpiresAt)
	*now = recorded.Add(time.Hour)
	st, err := s.Check(ctx, f.Input.OrgID, f.Input.Scope)
	if err != nil {
		t.Fatalf("reading the Oracle's item failed: %v", err)
	}
	if !st.Allowed || st.State != consent.Granted || st.GrantedBy != consent.Hash(f.Input.GrantedBy) || st.ExpiresAt != expires.Unix() || st.GrantedAt != recorded.Unix() {
		t.Errorf("Check = %+v; want the Oracle's grant", st)
	}
	*now = expires.Add(time.Second)
	if st, err := s.Check(ctx, f.Input.OrgID, f.Input.Scope); err != nil || st.State != consent.Expired {
		t.Errorf("after its expiresAt: %+v, %v; want expired", st, err)
	}

	// Our next write replaces the Oracle's item with our record, keeping
	// its grant.
	*now = recorded.Add(time.Hour)
	if err := s.Request(ctx, f.Input.OrgID, "fp-telemetry", "2026-01"); err != nil {
		t.Fatal(err)
	}
	res, version, err := s.Resources(ctx, f.Input.OrgID)
	if err != nil || version != 1 || res[f.Input.Scope].State != consent.Granted || res["fp-telemetry"].State != consent.Pending {
		t.Errorf("after our write: %+v v%d %v", res, version, err)
	}
	out, err := e.DynamoDB().GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(e.Target().ConsentTable), Key: map[string]types.AttributeValue{"orgId": item["orgId"]}})
	if err != nil {
		t.Fatal(err)
	}
	if consent.Classify(out.Item) != consent.ShapeStore || len(consent.CheckItem(out.Item)) != 0 {
		t.Errorf("our rewrite is %s with findings %v", consent.Classify(out.Item), consent.CheckItem(out.Item))
	}
}

func TestCheckItem(t *testing.T) {
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	id := consent.OrgID("acme")
	tests := []struct {
		name string
		item map[string]types.AttributeValue
		code string
	}{
		{"ours", map[string]types.AttributeValue{"orgId": s(id), "version": &types.AttributeValueMemberN{Value: "1"},
			"resources": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"r": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"state": s("granted")}}}}}, ""},
		{"Oracle's pk/sk", map[string]types.AttributeValue{"orgId": s(id), "pk": s("org#" + id), "sk": s("consent#x#u")}, consent.CodeOracleShape},
		{"unhashed key", map[string]types.AttributeValue{"orgId": s("acme"), "resources": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{}}}, consent.CodeBadKey},
		{"unknown state", map[string]types.AttributeValue{"orgId": s(id),
			"resources": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"r": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"state": s("maybe")}}}}}, consent.CodeBadRecord},
		{"neither shape", map[string]types.AttributeValue{"orgId": s(id), "scope": s("x")}, consent.CodeBadRecord},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := consent.CheckItem(tc.item)
			if tc.code == "" {
				oracletest.NoFindings(t, "findings", fs)
				return
			}
			if len(fs) == 0 || fs[0].Code != tc.code || fs[0].Severity != "FAIL" {
				t.Errorf("findings %v, want FAIL %s first", fs, tc.code)
			}
			for _, f := range fs {
				if tc.name == "unhashed key" && strings.Contains(f.Detail, "acme") {
					t.Errorf("detail echoes the unhashed org: %s", f.Detail)
				}
			}
		})
	}
}
