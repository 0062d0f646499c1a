package emulator_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/mirror-dissonance/mirror-infra/emulator"
)

// TestStartConcurrently starts emulators from several goroutines at once
// and uses each, as parallel tests calling NewTestEnv do. Under -race this
// failed while every Start built its own kumo server: kumo wires its
// process-wide services anew for each server (13 races in the consumer
// suite, all in that wiring).
func TestStartConcurrently(t *testing.T) {
	const n = 6
	var wg sync.WaitGroup
	ready := make(chan struct{})
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-ready
			e := emulator.Start()
			defer e.Close()
			cfg, err := e.Config(context.Background())
			if err != nil {
				errs <- err
				return
			}
			if _, err := dynamodb.NewFromConfig(cfg).ListTables(context.Background(), &dynamodb.ListTablesInput{}); err != nil {
				errs <- fmt.Errorf("emulator %d: %w", i, err)
			}
		}()
	}
	close(ready)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestParallelEnvsStayApart: parallel test environments share one kumo
// but not what a test sees of its own: its items, its request counts, its
// faults, its index delay and the state the front server keeps (PITR).
func TestParallelEnvsStayApart(t *testing.T) {
	envs := make([]*emulator.TestEnv, 3)
	for i := range envs {
		envs[i] = emulator.NewTestEnv(t, emulator.SeedOptions{SkipNonce: true})
	}
	// The first environment's emulator fails every PutItem; the others
	// must not notice.
	envs[0].Emulator.SetFaults(emulator.Faults{Rules: []emulator.FaultRule{{Operation: "dynamodb.PutItem", Kind: emulator.FaultServerError}}})
	envs[1].Emulator.SetIndexDelay(time.Hour)
	ctx := context.Background()
	var wg sync.WaitGroup
	results := make([]error, len(envs))
	for i, env := range envs {
		env.Emulator.ResetCounts()
		wg.Add(1)
		go func() {
			defer wg.Done()
			cfg := env.Config.Copy()
			cfg.RetryMaxAttempts = 1
			db := dynamodb.NewFromConfig(cfg)
			table := env.Target().ConsentTable
			for j := range 3 {
				item, _ := attributevalue.MarshalMap(map[string]string{"orgId": fmt.Sprintf("org-%d-%d", i, j)})
				if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
					results[i] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	if results[0] == nil {
		t.Errorf("env 0: PutItem succeeded despite its own fault rule")
	}
	for i := 1; i < len(envs); i++ {
		if results[i] != nil {
			t.Errorf("env %d: another emulator's fault reached it: %v", i, results[i])
		}
		c := envs[i].Emulator.Counts()
		if got := c.ByOperation["dynamodb.PutItem"]; got != 3 || c.Total != 3 {
			t.Errorf("env %d counted %v, want its own 3 PutItem only", i, c.Operations())
		}
		out, err := dynamodb.NewFromConfig(envs[i].Config).Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(envs[i].Target().ConsentTable)})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range out.Items {
			var row struct {
				OrgID string `dynamodbav:"orgId"`
			}
			_ = attributevalue.UnmarshalMap(it, &row)
			if want := fmt.Sprintf("org-%d-", i); len(row.OrgID) < len(want) || row.OrgID[:len(want)] != want {
				t.Errorf("env %d sees item %s written by another test", i, row.OrgID)
			}
		}
		if len(out.Items) != 3 {
			t.Errorf("env %d sees %d items, want its 3", i, len(out.Items))
		}
	}
	// Front-server state is per emulator: PITR off in one leaves it on in
	// the others.
	db0 := dynamodb.NewFromConfig(envs[0].Config)
	if _, err := db0.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{
		TableName:                        aws.String(envs[0].Target().ConsentTable),
		PointInTimeRecoverySpecification: &ddbtypes.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(false)},
	}); err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(envs); i++ {
		out, err := dynamodb.NewFromConfig(envs[i].Config).DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String(envs[i].Target().ConsentTable)})
		if err != nil {
			t.Fatal(err)
		}
		if s := out.ContinuousBackupsDescription.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus; s != ddbtypes.PointInTimeRecoveryStatusEnabled {
			t.Errorf("env %d: PITR %s after env 0 turned its own off", i, s)
		}
	}
}
