package sweep_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/mirror-dissonance/mirror-infra/awsclient"
	"github.com/mirror-dissonance/mirror-infra/emulator"
	"github.com/mirror-dissonance/mirror-infra/internal/sweep"
	"github.com/mirror-dissonance/mirror-infra/spec"
)

func kinds(ls []sweep.Leftover) map[string]int {
	m := map[string]int{}
	for _, l := range ls {
		m[l.Kind]++
	}
	return m
}

// TestFindSeesARunUntilItIsGone seeds an acceptance environment, finds all
// of it, removes it as a destroy would (the key only scheduled for
// deletion), and finds nothing; an unrelated environment is never listed.
func TestFindSeesARunUntilItIsGone(t *testing.T) {
	e := emulator.Start()
	t.Cleanup(e.Close)
	ctx := context.Background()
	cfg, err := e.Config(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	env := "acc-" + hex.EncodeToString(b)
	s, err := emulator.Seed(ctx, cfg, emulator.SeedOptions{Env: env})
	if err != nil {
		t.Fatal(err)
	}
	other, err := emulator.Seed(ctx, cfg, emulator.SeedOptions{SkipOIDCProvider: true})
	if err != nil {
		t.Fatal(err)
	}
	k := kms.NewFromConfig(cfg)
	// The program's key carries its description; the seeder's does not.
	key, err := k.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String(spec.KeyDescription(env))})
	if err != nil {
		t.Fatal(err)
	}
	cw := cloudwatch.NewFromConfig(cfg)
	if _, err := cw.PutDashboard(ctx, &cloudwatch.PutDashboardInput{DashboardName: aws.String(spec.For(env).Dashboard()), DashboardBody: aws.String(`{"widgets":[]}`)}); err != nil {
		t.Fatal(err)
	}
	c := sweep.NewClients(cfg)

	found, err := sweep.Find(ctx, c, env)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"table": 3, "kms-alias": 1, "kms-key": 1, "sns-topic": 1, "alarm": 6, "iam-role": 3, "s3-bucket": 1, "ssm-parameter": 1, "dashboard": 1}
	got := kinds(found)
	for kind, n := range want {
		if got[kind] != n {
			t.Errorf("found %d %s, want %d (all: %v)", got[kind], kind, n, found)
		}
	}
	for _, l := range found {
		if strings.Contains(l.Name, other.Env) {
			t.Errorf("listed %s of another environment", l)
		}
	}

	// Remove everything as a destroy would.
	n := s.Names
	ddb := dynamodb.NewFromConfig(cfg)
	for _, tbl := range n.Tables() {
		if _, err := ddb.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String(tbl), DeletionProtectionEnabled: aws.Bool(false)}); err != nil {
			t.Fatal(err)
		}
		if _, err := ddb.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(tbl)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := k.DeleteAlias(ctx, &kms.DeleteAliasInput{AliasName: aws.String(n.KeyAlias())}); err != nil {
		t.Fatal(err)
	}
	if _, err := k.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: key.KeyMetadata.KeyId, PendingWindowInDays: aws.Int32(7)}); err != nil {
		t.Fatal(err)
	}
	if _, err := sns.NewFromConfig(cfg).DeleteTopic(ctx, &sns.DeleteTopicInput{TopicArn: aws.String(s.TopicArn)}); err != nil {
		t.Fatal(err)
	}
	if _, err := cw.DeleteAlarms(ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: n.Alarms()}); err != nil {
		t.Fatal(err)
	}
	if _, err := cw.DeleteDashboards(ctx, &cloudwatch.DeleteDashboardsInput{DashboardNames: []string{n.Dashboard()}}); err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{n.DeployRole(), n.PreviewRole(), n.OracleRole()} {
		if _, err := iam.NewFromConfig(cfg).DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String(r)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := emulator.NewS3Client(cfg).DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(n.BaselinesBucket())}); err != nil {
		t.Fatal(err)
	}
	if got, err := sweep.Find(ctx, c, env); err != nil || len(got) != 1 || got[0].Kind != "ssm-parameter" {
		t.Fatalf("after the destroy: %v, %v; want only the nonce, which no destroy knows about", got, err)
	}
	if n, err := sweep.PurgeParameters(ctx, c, env); err != nil || n != 1 {
		t.Fatalf("PurgeParameters = %d, %v; want 1", n, err)
	}
	if got, err := sweep.Find(ctx, c, env); err != nil || len(got) != 0 {
		t.Fatalf("after the purge: %v, %v; want nothing left", got, err)
	}
	if got, _ := sweep.Find(ctx, c, other.Env); kinds(got)["table"] != 3 {
		t.Errorf("the other environment lost its tables: %v", got)
	}
}

func TestPurgeRefusesANonEphemeralEnvironment(t *testing.T) {
	for _, env := range []string{"staging", "production", "local", "acc_1"} {
		if _, err := sweep.PurgeParameters(context.Background(), sweep.Clients{}, env); err == nil || !strings.Contains(err.Error(), "refusing") {
			t.Errorf("PurgeParameters(%q) = %v, want a refusal before any call", env, err)
		}
	}
}

// endlessSSM answers every listing with one more page.
type endlessSSM struct{ calls int }

func (e *endlessSSM) GetParametersByPath(context.Context, *ssm.GetParametersByPathInput, ...func(*ssm.Options)) (*ssm.GetParametersByPathOutput, error) {
	e.calls++
	return &ssm.GetParametersByPathOutput{NextToken: aws.String("again")}, nil
}

func (e *endlessSSM) DeleteParameters(context.Context, *ssm.DeleteParametersInput, ...func(*ssm.Options)) (*ssm.DeleteParametersOutput, error) {
	return &ssm.DeleteParametersOutput{}, nil
}

// Issue 21, finding 3: a listing that always has a next page ends in an
// error naming the page bound, not in an endless loop.
func TestPurgeStopsAtThePageBound(t *testing.T) {
	fake := &endlessSSM{}
	done := make(chan error, 1)
	go func() {
		_, err := sweep.PurgeParameters(context.Background(), sweep.Clients{SSM: fake}, "acc-r1")
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, awsclient.ErrBound) || !strings.Contains(err.Error(), "ssm:GetParametersByPath") {
			t.Fatalf("error %v, want the page bound named", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("still listing after 20s")
	}
	if fake.calls != awsclient.DefaultMaxPages {
		t.Errorf("%d pages asked for, want %d", fake.calls, awsclient.DefaultMaxPages)
	}
}

// Issue 21, finding 9: the refusal is usage (ErrRefused), before any call.
func TestPurgeRefusalIsUsage(t *testing.T) {
	fake := &endlessSSM{}
	_, err := sweep.PurgeParameters(context.Background(), sweep.Clients{SSM: fake}, "staging")
	if !errors.Is(err, sweep.ErrRefused) || fake.calls != 0 {
		t.Fatalf("error %v after %d calls, want ErrRefused before any", err, fake.calls)
	}
}
