package emulator

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TestFaultRules: a rule fails exactly the requests it matches, an
// unreachable fault reaches the client as a transport error, and the
// counter sees every attempt.
func TestFaultRules(t *testing.T) {
	e, cfg := startT(t)
	ctx := context.Background()
	cfg.RetryMaxAttempts = 1
	s, err := Seed(ctx, cfg, SeedOptions{SkipNonce: true})
	if err != nil {
		t.Fatal(err)
	}
	db := dynamodb.NewFromConfig(cfg)
	put := func(table string) error {
		_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table),
			Item: map[string]types.AttributeValue{"orgId": &types.AttributeValueMemberS{Value: "acme"}}})
		return err
	}
	consent := s.Names.Table("consent")
	for _, tc := range []struct {
		rule FaultRule
		fail bool
	}{
		{FaultRule{Operation: "PutItem", BodyContains: consent}, true},
		{FaultRule{Operation: "dynamodb.PutItem"}, true},
		{FaultRule{Operation: "GetItem"}, false},
		{FaultRule{BodyContains: "no-such-table"}, false},
		{FaultRule{Operation: "PutItem", Kind: FaultThrottle}, true},
		{FaultRule{Operation: "PutItem", Kind: FaultServerError}, true},
	} {
		e.SetFaults(Faults{Rules: []FaultRule{tc.rule}})
		e.ResetCounts()
		err := put(consent)
		if (err != nil) != tc.fail {
			t.Errorf("%+v: error %v, want failure=%t", tc.rule, err, tc.fail)
		}
		c := e.Counts()
		if c.ByOperation["dynamodb.PutItem"] != 1 || c.Total != 1 || (c.Faulted == 1) != tc.fail {
			t.Errorf("%+v: counts %+v, want one PutItem (faulted=%t)", tc.rule, c, tc.fail)
		}
	}
	e.SetFaults(Faults{})
	if err := put(consent); err != nil {
		t.Errorf("after SetFaults(Faults{}): %v", err)
	}
}
