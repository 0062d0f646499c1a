// Package sweep finds what an ephemeral acceptance stack left in an
// account after its destroy: every resource named after the run (tables,
// alias, a key not scheduled for deletion, topic, alarms, dashboard, roles,
// bucket) and the nonce versions the post-deploy stage made outside
// Pulumi. It reads only; Purge removes the nonce versions, the one thing a
// destroy cannot know about.
package sweep

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"

	"github.com/mirror-dissonance/mirror-infra/awsclient"
	"github.com/mirror-dissonance/mirror-infra/spec"
)

// Clients are the narrow AWS clients a sweep uses.
type Clients struct {
	DynamoDB interface {
		ListTables(context.Context, *dynamodb.ListTablesInput, ...func(*dynamodb.Options)) (*dynamodb.ListTablesOutput, error)
	}
	KMS interface {
		ListAliases(context.Context, *kms.ListAliasesInput, ...func(*kms.Options)) (*kms.ListAliasesOutput, error)
		ListKeys(context.Context, *kms.ListKeysInput, ...func(*kms.Options)) (*kms.ListKeysOutput, error)
		DescribeKey(context.Context, *kms.DescribeKeyInput, ...func(*kms.Options)) (*kms.DescribeKeyOutput, error)
	}
	SNS interface {
		ListTopics(context.Context, *sns.ListTopicsInput, ...func(*sns.Options)) (*sns.ListTopicsOutput, error)
	}
	CloudWatch interface {
		DescribeAlarms(context.Context, *cloudwatch.DescribeAlarmsInput, ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error)
		GetDashboard(context.Context, *cloudwatch.GetDashboardInput, ...func(*cloudwatch.Options)) (*cloudwatch.GetDashboardOutput, error)
	}
	IAM interface {
		ListRoles(context.Context, *iam.ListRolesInput, ...func(*iam.Options)) (*iam.ListRolesOutput, error)
	}
	S3 interface {
		HeadBucket(context.Context, *s3.HeadBucketInput, ...func(*s3.Options)) (*s3.HeadBucketOutput, error)
	}
	SSM interface {
		GetParametersByPath(context.Context, *ssm.GetParametersByPathInput, ...func(*ssm.Options)) (*ssm.GetParametersByPathOutput, error)
		DeleteParameters(context.Context, *ssm.DeleteParametersInput, ...func(*ssm.Options)) (*ssm.DeleteParametersOutput, error)
	}
}

// NewClients builds the clients from an AWS config (S3 path-style on a
// custom endpoint, which has no per-bucket host names).
func NewClients(cfg aws.Config) Clients {
	return Clients{
		DynamoDB:   dynamodb.NewFromConfig(cfg),
		KMS:        kms.NewFromConfig(cfg),
		SNS:        sns.NewFromConfig(cfg),
		CloudWatch: cloudwatch.NewFromConfig(cfg),
		IAM:        iam.NewFromConfig(cfg),
		S3:         awsclient.NewS3(cfg),
		SSM:        ssm.NewFromConfig(cfg),
	}
}

// Leftover is one thing named after the run that still exists.
type Leftover struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
}

func (l Leftover) String() string { return l.Kind + " " + l.Name }

// Find lists what remains of environment env (an ephemeral stack's name).
// A key scheduled for deletion is gone as far as a run can make it (KMS
// keeps it for the deletion window); an enabled one is a leftover.
func Find(ctx context.Context, c Clients, env string) ([]Leftover, error) {
	n := spec.For(env)
	var out []Leftover
	var errs []error
	add := func(kind string, names ...string) {
		for _, name := range names {
			out = append(out, Leftover{Kind: kind, Name: name})
		}
	}
	for _, step := range []struct {
		what string
		fn   func() ([]string, error)
		kind string
	}{
		{"listing tables", func() ([]string, error) { return tables(ctx, c, n.Prefix()) }, "table"},
		{"listing aliases", func() ([]string, error) { return aliases(ctx, c, n.KeyAlias()) }, "kms-alias"},
		{"listing keys", func() ([]string, error) { return keys(ctx, c, env) }, "kms-key"},
		{"listing topics", func() ([]string, error) { return topics(ctx, c, n.Topic()) }, "sns-topic"},
		{"listing alarms", func() ([]string, error) { return alarms(ctx, c, n.Prefix()) }, "alarm"},
		{"listing dashboards", func() ([]string, error) { return dashboards(ctx, c, n.Dashboard()) }, "dashboard"},
		{"listing roles", func() ([]string, error) { return roles(ctx, c, n.Prefix()) }, "iam-role"},
		{"looking for the bucket", func() ([]string, error) { return bucket(ctx, c, n.BaselinesBucket()) }, "s3-bucket"},
		{"listing nonce versions", func() ([]string, error) { return parameters(ctx, c, n.NonceParameterPath()) }, "ssm-parameter"},
	} {
		names, err := step.fn()
		if err != nil {
			// A partial answer is never a clean account; and an endpoint
			// that does not answer one listing would cost each of the
			// others its full timeout too.
			errs = append(errs, fmt.Errorf("%s of %s: %w", step.what, env, err))
			break
		}
		add(step.kind, names...)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out, errors.Join(errs...)
}

// ErrRefused is wrapped by a refusal to act on an environment that is not
// an acceptance run's: bad usage (exit 2), decided before any call.
var ErrRefused = errors.New("not an acceptance environment")

// PurgeParameters deletes the nonce versions of environment env, which the
// post-deploy stage creates outside Pulumi; only for ephemeral stacks
// (otherwise an error wrapping ErrRefused, before any call).
func PurgeParameters(ctx context.Context, c Clients, env string) (int, error) {
	if !spec.IsEphemeralStack(env) {
		return 0, fmt.Errorf("refusing to delete the nonce of %q: %w: only %s<run> acceptance environments are purged", env, ErrRefused, spec.EphemeralPrefix)
	}
	names, err := parameters(ctx, c, spec.For(env).NonceParameterPath())
	if err != nil {
		return 0, fmt.Errorf("listing the nonce versions of %s: %w", env, err)
	}
	n := 0
	for i := 0; i < len(names); i += 10 { // DeleteParameters takes at most 10
		batch := names[i:min(i+10, len(names))]
		if _, err := c.SSM.DeleteParameters(ctx, &ssm.DeleteParametersInput{Names: batch}); err != nil {
			return n, fmt.Errorf("deleting the nonce versions of %s: %w", env, err)
		}
		n += len(batch)
	}
	return n, nil
}

func tables(ctx context.Context, c Clients, prefix string) ([]string, error) {
	return listAll("dynamodb:ListTables", func(token *string) ([]string, *string, bool, error) {
		page, err := c.DynamoDB.ListTables(ctx, &dynamodb.ListTablesInput{ExclusiveStartTableName: token})
		if err != nil {
			return nil, nil, false, err
		}
		var out []string
		for _, t := range page.TableNames {
			if strings.HasPrefix(t, prefix) {
				out = append(out, t)
			}
		}
		return out, page.LastEvaluatedTableName, page.LastEvaluatedTableName != nil, nil
	})
}

func aliases(ctx context.Context, c Clients, alias string) ([]string, error) {
	return listAll("kms:ListAliases", func(token *string) ([]string, *string, bool, error) {
		page, err := c.KMS.ListAliases(ctx, &kms.ListAliasesInput{Marker: token})
		if err != nil {
			return nil, nil, false, err
		}
		var out []string
		for _, a := range page.Aliases {
			if aws.ToString(a.AliasName) == alias {
				out = append(out, alias)
			}
		}
		return out, page.NextMarker, page.Truncated, nil
	})
}

// keys finds the run's key by the description the program gives it, since
// its alias is the first thing a destroy removes.
func keys(ctx context.Context, c Clients, env string) ([]string, error) {
	want := spec.KeyDescription(env)
	return listAll("kms:ListKeys", func(token *string) ([]string, *string, bool, error) {
		page, err := c.KMS.ListKeys(ctx, &kms.ListKeysInput{Marker: token})
		if err != nil {
			return nil, nil, false, err
		}
		var out []string
		for _, k := range page.Keys {
			d, err := c.KMS.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: k.KeyId})
			if err != nil {
				return nil, nil, false, err
			}
			m := d.KeyMetadata
			if aws.ToString(m.Description) == want && m.KeyState != kmstypes.KeyStatePendingDeletion {
				out = append(out, aws.ToString(m.Arn)+" ("+string(m.KeyState)+")")
			}
		}
		return out, page.NextMarker, page.Truncated, nil
	})
}

func topics(ctx context.Context, c Clients, name string) ([]string, error) {
	return listAll("sns:ListTopics", func(token *string) ([]string, *string, bool, error) {
		page, err := c.SNS.ListTopics(ctx, &sns.ListTopicsInput{NextToken: token})
		if err != nil {
			return nil, nil, false, err
		}
		var out []string
		for _, t := range page.Topics {
			if arn := aws.ToString(t.TopicArn); strings.HasSuffix(arn, ":"+name) {
				out = append(out, arn)
			}
		}
		return out, page.NextToken, aws.ToString(page.NextToken) != "", nil
	})
}

func alarms(ctx context.Context, c Clients, prefix string) ([]string, error) {
	return listAll("cloudwatch:DescribeAlarms", func(token *string) ([]string, *string, bool, error) {
		page, err := c.CloudWatch.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNamePrefix: aws.String(prefix), NextToken: token})
		if err != nil {
			return nil, nil, false, err
		}
		var out []string
		for _, a := range page.MetricAlarms {
			out = append(out, aws.ToString(a.AlarmName))
		}
		return out, page.NextToken, aws.ToString(page.NextToken) != "", nil
	})
}

func dashboards(ctx context.Context, c Clients, name string) ([]string, error) {
	_, err := c.CloudWatch.GetDashboard(ctx, &cloudwatch.GetDashboardInput{DashboardName: aws.String(name)})
	return existing(name, err)
}

// notFound tells "it does not exist" from a failure to look.
func notFound(err error) bool {
	var api smithy.APIError
	if !errors.As(err, &api) {
		return false
	}
	switch api.ErrorCode() {
	case "NotFound", "NoSuchBucket", "ResourceNotFound", "ResourceNotFoundException":
		return true
	}
	return false
}

func roles(ctx context.Context, c Clients, prefix string) ([]string, error) {
	return listAll("iam:ListRoles", func(token *string) ([]string, *string, bool, error) {
		page, err := c.IAM.ListRoles(ctx, &iam.ListRolesInput{Marker: token})
		if err != nil {
			return nil, nil, false, err
		}
		var out []string
		for _, r := range page.Roles {
			if strings.HasPrefix(aws.ToString(r.RoleName), prefix) {
				out = append(out, aws.ToString(r.RoleName))
			}
		}
		return out, page.Marker, page.IsTruncated, nil
	})
}

func bucket(ctx context.Context, c Clients, name string) ([]string, error) {
	_, err := c.S3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(name)})
	return existing(name, err)
}

// existing is name when err, the error of looking it up, is nil; nothing
// when err says it does not exist; err otherwise.
func existing(name string, err error) ([]string, error) {
	if err == nil {
		return []string{name}, nil
	}
	if notFound(err) {
		return nil, nil
	}
	return nil, err
}

func parameters(ctx context.Context, c Clients, path string) ([]string, error) {
	return listAll("ssm:GetParametersByPath", func(token *string) ([]string, *string, bool, error) {
		page, err := c.SSM.GetParametersByPath(ctx, &ssm.GetParametersByPathInput{Path: aws.String(strings.TrimSuffix(path, "/")), Recursive: aws.Bool(true), NextToken: token})
		if err != nil {
			return nil, nil, false, err
		}
		var out []string
		for _, p := range page.Parameters {
			out = append(out, aws.ToString(p.Name))
		}
		return out, page.NextToken, aws.ToString(page.NextToken) != "", nil
	})
}

// listAll gathers what page finds on each page of the listing op: page
// is called with the token of the next page (nil for the first) and
// returns what it found, the next token, and whether there are more
// pages. It follows at most awsclient.DefaultMaxPages pages, so an endpoint
// that always answers with a next token ends in an error naming the bound.
func listAll(op string, page func(token *string) (found []string, next *string, more bool, err error)) ([]string, error) {
	var out []string
	var token *string
	pages := awsclient.Pages{What: op}
	for {
		if err := pages.Next(); err != nil {
			return nil, err
		}
		found, next, more, err := page(token)
		if err != nil {
			return nil, err
		}
		out = append(out, found...)
		if !more {
			return out, nil
		}
		token = next
	}
}
