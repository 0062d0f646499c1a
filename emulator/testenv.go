package emulator

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"
)

// TB is what NewTestEnv needs of a test; *testing.T and *testing.B have
// it.
type TB interface {
	Helper()
	Cleanup(func())
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
}

// TestEnv is one test's own emulator and seeded environment: Config (from
// Seeded) reaches it, Target() names it, Emulator gives request counts and
// faults.
type TestEnv struct {
	*Seeded
	Emulator *Emulator
	// Dynalite is where DynamoDB goes in a NewDynaliteTestEnv (nil
	// otherwise).
	Dynalite *Dynalite
}

// seedTimeout bounds seeding, teardownTimeout the removal at cleanup.
const (
	seedTimeout     = time.Minute
	teardownTimeout = 10 * time.Second
)

// NewTestEnv starts an emulator and seeds one environment for the test
// (opts as Seed takes them; empty Env picks a unique name). When the test
// ends, the environment is torn down and the emulator closed, so the same
// name can be seeded again by the next test or the next -count run.
//
// Tests may call it in parallel (t.Parallel): each gets its own emulator
// and, with an empty SeedOptions.Env, its own resource names. kumo keeps
// its state per process, so two live environments of one fixed name (two
// parallel tests both seeding "staging") cannot exist at once: the second
// fails saying so. Leave Env empty unless the test needs the name.
func NewTestEnv(t TB, opts SeedOptions) *TestEnv {
	t.Helper()
	e := Start()
	ctx, cancel := context.WithTimeout(context.Background(), seedTimeout)
	defer cancel()
	s, err := e.Seed(ctx, opts)
	if err != nil {
		e.Close()
		t.Fatalf("emulator: %v", err)
		return nil
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), teardownTimeout)
		defer cancel()
		if err := Teardown(ctx, s); err != nil {
			t.Errorf("emulator: %v", err)
		}
		e.Close()
	})
	return &TestEnv{Seeded: s, Emulator: e}
}

// Teardown removes what Seed created for s (and whatever the environment's
// tables, nonce path and bucket hold since), through s.Config, so that
// another Seed of the same name can follow in this process. The GitHub
// OIDC provider, one per account and shared by every environment, stays.
func Teardown(ctx context.Context, s *Seeded) error {
	cfg := s.Config
	in := newInjector(cfg)
	n := s.Names
	var errs []error
	keep := func(what string, err error) {
		if err != nil && !seededGone(err) {
			errs = append(errs, fmt.Errorf("%s: %w", what, err))
		}
	}
	for _, name := range n.Tables() {
		// Seed turns deletion protection on; the emulator enforces it.
		_, err := in.ddb.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String(name), DeletionProtectionEnabled: aws.Bool(false)})
		keep("unprotecting table "+name, err)
		_, err = in.ddb.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)})
		keep("deleting table "+name, err)
	}
	_, err := in.kms.DeleteAlias(ctx, &kms.DeleteAliasInput{AliasName: aws.String(n.KeyAlias())})
	keep("deleting alias "+n.KeyAlias(), err)
	for _, k := range []string{s.KeyID, s.OtherKeyArn} {
		if k != "" {
			_, err := in.kms.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: aws.String(k), PendingWindowInDays: aws.Int32(7)})
			keep("scheduling the deletion of key "+k, err)
		}
	}
	if s.TopicArn != "" {
		_, err := sns.NewFromConfig(cfg).DeleteTopic(ctx, &sns.DeleteTopicInput{TopicArn: aws.String(s.TopicArn)})
		keep("deleting topic "+s.TopicArn, err)
	}
	_, err = cloudwatch.NewFromConfig(cfg).DeleteAlarms(ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: n.Alarms()})
	keep("deleting the alarms", err)
	if s.QueueURL != "" {
		_, err := sqs.NewFromConfig(cfg).DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(s.QueueURL)})
		keep("deleting queue "+s.QueueURL, err)
	}
	ic := iam.NewFromConfig(cfg)
	for _, role := range []string{n.DeployRole(), n.PreviewRole(), n.OracleRole()} {
		_, err := ic.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String(role)})
		keep("deleting role "+role, err)
	}
	keep("deleting the nonce versions", deleteSeededParameters(ctx, in.ssm, n.NonceParameterPath()))
	keep("deleting bucket "+n.BaselinesBucket(), purgeSeededBucket(ctx, in.s3, n.BaselinesBucket()))
	if len(errs) > 0 {
		return fmt.Errorf("tearing down %s: %w", s.Env, errors.Join(errs...))
	}
	return nil
}

func deleteSeededParameters(ctx context.Context, c *ssm.Client, path string) error {
	var names []string
	in := &ssm.GetParametersByPathInput{Path: aws.String(path), Recursive: aws.Bool(true)}
	for {
		out, err := c.GetParametersByPath(ctx, in)
		if err != nil {
			return err
		}
		for _, p := range out.Parameters {
			names = append(names, aws.ToString(p.Name))
		}
		if out.NextToken == nil {
			break
		}
		in.NextToken = out.NextToken
	}
	for len(names) > 0 {
		batch := names[:min(10, len(names))] // DeleteParameters takes at most 10
		names = names[len(batch):]
		if _, err := c.DeleteParameters(ctx, &ssm.DeleteParametersInput{Names: batch}); err != nil {
			return err
		}
	}
	return nil
}

func purgeSeededBucket(ctx context.Context, c *s3.Client, bucket string) error {
	in := &s3.ListObjectVersionsInput{Bucket: aws.String(bucket)}
	for {
		out, err := c.ListObjectVersions(ctx, in)
		if err != nil {
			return err
		}
		var ids []s3types.ObjectIdentifier
		for _, v := range out.Versions {
			ids = append(ids, s3types.ObjectIdentifier{Key: v.Key, VersionId: v.VersionId})
		}
		for _, m := range out.DeleteMarkers {
			ids = append(ids, s3types.ObjectIdentifier{Key: m.Key, VersionId: m.VersionId})
		}
		for _, id := range ids {
			if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: id.Key, VersionId: id.VersionId}); err != nil {
				return err
			}
		}
		if !aws.ToBool(out.IsTruncated) {
			break
		}
		in.KeyMarker, in.VersionIdMarker = out.NextKeyMarker, out.NextVersionIdMarker
	}
	_, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(bucket)})
	return err
}

// seededGone reports an error saying the resource is already absent, which
// teardown of a partly seeded environment (defects leave things out)
// expects.
func seededGone(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.ErrorCode() {
	case "ResourceNotFoundException", "NotFoundException", "NotFound", "NoSuchEntity", "NoSuchBucket",
		"ParameterNotFound", "AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist", "KMSInvalidStateException":
		return true
	}
	return false
}
