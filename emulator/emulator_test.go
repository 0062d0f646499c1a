package emulator

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go"

	"github.com/mirror-dissonance/mirror-infra/spec"
)

func TestStartServesDynamoDB(t *testing.T) {
	_, cfg := startT(t)
	ctx := context.Background()
	db := dynamodb.NewFromConfig(cfg)
	// kumo keeps its state per process: a unique name keeps -count=N runs apart.
	tableName := fmt.Sprintf("t-%d", time.Now().UnixNano())
	_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(tableName),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
	})
	if err != nil {
		t.Fatalf("CreateTable through the emulator: %v", err)
	}
	out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(tableName)})
	if err != nil {
		t.Fatalf("DescribeTable: %v", err)
	}
	if got := aws.ToString(out.Table.TableName); got != tableName {
		t.Fatalf("table name = %q, want %s", got, tableName)
	}
}

func TestDashboards(t *testing.T) {
	_, cfg := startT(t)
	ctx := context.Background()
	cw := cloudwatch.NewFromConfig(cfg)
	body := `{"widgets":[{"type":"text","properties":{"markdown":"x"}}]}`
	if _, err := cw.PutDashboard(ctx, &cloudwatch.PutDashboardInput{DashboardName: aws.String("d"), DashboardBody: aws.String(body)}); err != nil {
		t.Fatal(err)
	}
	got, err := cw.GetDashboard(ctx, &cloudwatch.GetDashboardInput{DashboardName: aws.String("d")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.DashboardBody) != body || aws.ToString(got.DashboardArn) != "arn:aws:cloudwatch::"+AccountID+":dashboard/d" {
		t.Errorf("got %q %q", aws.ToString(got.DashboardBody), aws.ToString(got.DashboardArn))
	}
	if _, err := cw.DeleteDashboards(ctx, &cloudwatch.DeleteDashboardsInput{DashboardNames: []string{"d"}}); err != nil {
		t.Fatal(err)
	}
	_, err = cw.GetDashboard(ctx, &cloudwatch.GetDashboardInput{DashboardName: aws.String("d")})
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "ResourceNotFound" {
		t.Fatalf("after delete: %v, want ResourceNotFound", err)
	}
}

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

// TestSeedTwiceNamesTheCause: kumo's state is per process, so a second Seed
// of one name must fail saying so, not half-way on some resource.
func TestSeedTwiceNamesTheCause(t *testing.T) {
	e, _ := startT(t)
	ctx := context.Background()
	s, err := e.Seed(ctx, SeedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.Seed(ctx, SeedOptions{Env: s.Env})
	if err == nil || !strings.Contains(err.Error(), "already exists in this process") || !strings.Contains(err.Error(), s.Env) {
		t.Fatalf("second Seed of %s: %v, want an error naming the cause", s.Env, err)
	}
}

// TestCatalogue: every defect names a resource the environment has, and
// Inject refuses what it cannot make outside Pulumi.
func TestCatalogue(t *testing.T) {
	n := spec.For("x")
	known := map[string]bool{"": true, strings.TrimPrefix(n.Topic(), n.Prefix()): true,
		strings.TrimPrefix(n.DeployRole(), n.Prefix()): true, strings.TrimPrefix(n.BaselinesBucket(), n.Prefix()): true,
		strings.TrimPrefix(n.OracleRole(), n.Prefix()): true}
	for _, s := range spec.TableSuffixes {
		known[s] = true
	}
	for _, a := range n.ThrottleAlarms() {
		known[strings.TrimPrefix(a.Name, n.Prefix())] = true
	}
	for _, d := range Catalogue() {
		if !known[d.Resource] || d.Description == "" || d.Origin == 0 {
			t.Errorf("%s: resource %q, description %q, origin %d", d.Name, d.Resource, d.Description, d.Origin)
		}
	}
	if _, err := LookupDefect("pitr"); err == nil || !strings.Contains(err.Error(), "pitr-off") {
		t.Errorf("LookupDefect(pitr): %v, want an error listing the known defects", err)
	}
	e, cfg := startT(t)
	s, err := e.Seed(context.Background(), SeedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := Inject(context.Background(), cfg, s.Target(), DefectTableMissing); err == nil {
		t.Error("Inject(table-missing) succeeded; a table cannot be made missing outside Pulumi here")
	}
}

// TestEmailSubscriptionsPending: both subscription listings show an email
// subscription pending until ConfirmEmailSubscriptions, and others as
// kumo answers them.
func TestEmailSubscriptionsPending(t *testing.T) {
	e, cfg := startT(t)
	ctx := context.Background()
	s, err := e.Seed(ctx, SeedOptions{AlertEmail: "ops@example.com", VerifyQueue: true})
	if err != nil {
		t.Fatal(err)
	}
	client := sns.NewFromConfig(cfg)
	arns := func() map[string]string {
		out := map[string]string{}
		byTopic, err := client.ListSubscriptionsByTopic(ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(s.TopicArn)})
		if err != nil {
			t.Fatal(err)
		}
		all, err := client.ListSubscriptions(ctx, &sns.ListSubscriptionsInput{})
		if err != nil {
			t.Fatal(err)
		}
		for _, sub := range append(byTopic.Subscriptions, all.Subscriptions...) {
			if aws.ToString(sub.TopicArn) == s.TopicArn {
				out[aws.ToString(sub.Protocol)] += aws.ToString(sub.SubscriptionArn) + " "
			}
		}
		return out
	}
	got := arns()
	if got["email"] != "PendingConfirmation PendingConfirmation " || !strings.HasPrefix(got["sqs"], s.TopicArn+":") {
		t.Errorf("before confirmation: %v, want email pending in both listings, sqs confirmed", got)
	}
	e.ConfirmEmailSubscriptions()
	if got := arns(); strings.Contains(got["email"], "Pending") || got["email"] == "" {
		t.Errorf("after confirmation: %v", got)
	}
}
