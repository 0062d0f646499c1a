package emulator

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TestFaultKinds: each kind reaches the client as it would from AWS, and
// only a lost response lets the write take effect. Mutation check: make
// FaultLostResponse drop before forwarding (writeFault's path) and the
// "lost" row fails on "item written".
func TestFaultKinds(t *testing.T) {
	e, cfg := startT(t)
	ctx := context.Background()
	cfg.RetryMaxAttempts = 1
	s, err := Seed(ctx, cfg, SeedOptions{SkipNonce: true})
	if err != nil {
		t.Fatal(err)
	}
	db := dynamodb.NewFromConfig(cfg)
	table := s.Names.Table("consent")
	for i, tc := range []struct {
		name    string
		faults  Faults
		wantErr bool
		written bool
		minTime time.Duration
		lost    int
		delayed int
	}{
		{"drop rule", Faults{Rules: []FaultRule{{Operation: "PutItem", Kind: DropConnection}}}, true, false, 0, 0, 0},
		{"lost rule", Faults{Rules: []FaultRule{{Operation: "PutItem", Kind: FaultLostResponse}}}, true, true, 0, 1, 0},
		{"latency rule", Faults{Rules: []FaultRule{{Operation: "PutItem", Kind: FaultLatency, Delay: 80 * time.Millisecond}}}, false, true, 80 * time.Millisecond, 0, 1},
		{"drop share", Faults{DropShare: 1, Seed: 1}, true, false, 0, 0, 0},
		{"lost share", Faults{LostResponseShare: 1, Seed: 2}, true, true, 0, 1, 0},
		{"latency share", Faults{LatencyShare: 1, Latency: 60 * time.Millisecond, Seed: 3}, false, true, 60 * time.Millisecond, 0, 1},
		{"rule used up", Faults{Rules: []FaultRule{{Operation: "GetItem", Times: 1}, {Operation: "PutItem", Kind: FaultLostResponse, Times: 0}}}, true, true, 0, 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			org := fmt.Sprintf("org-%d-%d", i, time.Now().UnixNano())
			e.SetFaults(tc.faults)
			e.ResetCounts()
			start := time.Now()
			_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table),
				Item: map[string]types.AttributeValue{"orgId": &types.AttributeValueMemberS{Value: org}}})
			took := time.Since(start)
			c := e.Counts()
			e.SetFaults(Faults{})
			if (err != nil) != tc.wantErr {
				t.Fatalf("PutItem error %v, want error=%t", err, tc.wantErr)
			}
			got, gerr := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true),
				Key: map[string]types.AttributeValue{"orgId": &types.AttributeValueMemberS{Value: org}}})
			if gerr != nil {
				t.Fatal(gerr)
			}
			if (len(got.Item) > 0) != tc.written {
				t.Errorf("item written = %t, want %t", len(got.Item) > 0, tc.written)
			}
			if took < tc.minTime {
				t.Errorf("took %s, want at least %s", took, tc.minTime)
			}
			if c.Lost != tc.lost || c.Delayed != tc.delayed || c.Total != 1 {
				t.Errorf("counts %+v, want total 1, lost %d, delayed %d", c, tc.lost, tc.delayed)
			}
		})
	}
}

// TestFaultRuleTimes: a rule with Times fires that often, then lets
// requests through, so a test can lose exactly one answer.
func TestFaultRuleTimes(t *testing.T) {
	e, cfg := startT(t)
	cfg.RetryMaxAttempts = 1
	db := dynamodb.NewFromConfig(cfg)
	e.SetFaults(Faults{Rules: []FaultRule{{Operation: "ListTables", Kind: FaultThrottle, Times: 2}}})
	var errs int
	for range 5 {
		if _, err := db.ListTables(context.Background(), &dynamodb.ListTablesInput{}); err != nil {
			errs++
		}
	}
	if errs != 2 {
		t.Fatalf("%d of 5 calls failed, want 2", errs)
	}
}

// TestSDKRetriesEveryKind: with the SDK's standard retryer (as a real
// caller has it) one injected fault of each kind is retried through, and
// a lost answer's retry meets the write it already made.
func TestSDKRetriesEveryKind(t *testing.T) {
	e, cfg := startT(t)
	ctx := context.Background()
	s, err := Seed(ctx, cfg, SeedOptions{SkipNonce: true})
	if err != nil {
		t.Fatal(err)
	}
	db := dynamodb.NewFromConfig(cfg)
	table := s.Names.Table("consent")
	for _, k := range []FaultKind{FaultThrottle, FaultServerError, DropConnection, FaultLostResponse, FaultLatency} {
		t.Run(k.String(), func(t *testing.T) {
			org := "retry-" + k.String() + fmt.Sprint(time.Now().UnixNano())
			e.SetFaults(Faults{Rules: []FaultRule{{Operation: "PutItem", Kind: k, Times: 1, Delay: 10 * time.Millisecond}}})
			defer e.SetFaults(Faults{})
			e.ResetCounts()
			_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table),
				ConditionExpression: aws.String("attribute_not_exists(orgId)"),
				Item:                map[string]types.AttributeValue{"orgId": &types.AttributeValueMemberS{Value: org}}})
			want := 2
			if k == FaultLatency {
				want = 1
			}
			if n := e.Counts().ByOperation["dynamodb.PutItem"]; n != want {
				t.Errorf("%d PutItem attempts, want %d", n, want)
			}
			// The retry of a lost conditional put fails its condition:
			// the caller must recognise its own write (oracle/fpevents).
			if k == FaultLostResponse {
				var ccf *types.ConditionalCheckFailedException
				if !asCCF(err, &ccf) {
					t.Errorf("retried lost put: %v, want ConditionalCheckFailed", err)
				}
				return
			}
			if err != nil {
				t.Errorf("PutItem through one %s: %v", k, err)
			}
		})
	}
}

func TestFaultsValidateAndParse(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    Faults
		ok   bool
	}{
		{"zero", Faults{}, true},
		{"all kinds", Faults{ThrottleShare: .1, ServerErrorShare: .1, DropShare: .1, LostResponseShare: .1, LatencyShare: .1, Latency: time.Second}, true},
		{"negative", Faults{DropShare: -.1}, false},
		{"above one", Faults{LostResponseShare: 1.5}, false},
		{"sum above one", Faults{ThrottleShare: .6, LostResponseShare: .6}, false},
		{"negative latency", Faults{Latency: -time.Second}, false},
		{"negative rule delay", Faults{Rules: []FaultRule{{Kind: FaultLatency, Delay: -1}}}, false},
	} {
		if err := tc.f.Validate(); (err == nil) != tc.ok {
			t.Errorf("%s: Validate() = %v, want ok=%t", tc.name, err, tc.ok)
		}
	}
	for _, k := range []FaultKind{FaultThrottle, FaultServerError, DropConnection, FaultLostResponse, FaultLatency} {
		got, err := ParseFaultKind(k.String())
		if err != nil || got != k {
			t.Errorf("ParseFaultKind(%q) = %v, %v", k, got, err)
		}
		if f := (Faults{}).WithShare(k, .3); f.Validate() != nil || f.ThrottleShare+f.ServerErrorShare+f.DropShare+f.LostResponseShare+f.LatencyShare != .3 {
			t.Errorf("WithShare(%s, .3) = %+v", k, f)
		}
	}
	if _, err := ParseFaultKind("slow"); err == nil {
		t.Error("ParseFaultKind(slow) accepted")
	}
}

func asCCF(err error, target **types.ConditionalCheckFailedException) bool {
	return errors.As(err, target)
}
