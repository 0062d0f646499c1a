package provider

import (
	"context"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
)

// Calls records the AWS API calls the stand-in makes, per resource type
// (or invoke token) and provider operation (read, create, update, delete,
// invoke), as IAM actions ("dynamodb:DescribeTable").
type Calls struct {
	mu sync.Mutex
	m  map[string]map[string][]string // type -> op -> actions
}

// NewCalls returns an empty record.
func NewCalls() *Calls { return &Calls{m: map[string]map[string][]string{}} }

type callKey struct{}

type callLabel struct{ typ, op string }

// withCall labels the AWS calls made under ctx.
func withCall(ctx context.Context, typ, op string) context.Context {
	return context.WithValue(ctx, callKey{}, callLabel{typ, op})
}

// Attach adds the recording middleware to cfg: every call made with a
// context the provider labelled is recorded.
func (c *Calls) Attach(cfg *aws.Config) {
	cfg.APIOptions = append(cfg.APIOptions, func(st *middleware.Stack) error {
		return st.Initialize.Add(middleware.InitializeMiddlewareFunc("mdProviderCalls",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				if l, ok := ctx.Value(callKey{}).(callLabel); ok {
					c.add(l.typ, l.op, iamAction(awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx)))
				}
				return next.HandleInitialize(ctx, in)
			}), middleware.After)
	})
}

// iamPrefix maps the SDK's service ids to IAM's service prefixes.
var iamPrefix = map[string]string{
	"DynamoDB": "dynamodb", "KMS": "kms", "SNS": "sns", "CloudWatch": "cloudwatch", "IAM": "iam",
	"S3": "s3", "SQS": "sqs", "STS": "sts", "SSM": "ssm",
}

// s3Actions are the S3 operations IAM authorises under another name.
var s3Actions = map[string]string{
	"PutBucketEncryption": "PutEncryptionConfiguration", "GetBucketEncryption": "GetEncryptionConfiguration",
	"DeleteBucketEncryption": "PutEncryptionConfiguration", "PutPublicAccessBlock": "PutBucketPublicAccessBlock",
	"GetPublicAccessBlock": "GetBucketPublicAccessBlock", "DeletePublicAccessBlock": "PutBucketPublicAccessBlock",
	"PutBucketLifecycleConfiguration": "PutLifecycleConfiguration", "GetBucketLifecycleConfiguration": "GetLifecycleConfiguration",
	"DeleteBucketLifecycle": "PutLifecycleConfiguration", "HeadBucket": "ListBucket", "ListObjectVersions": "ListBucketVersions",
	"DeleteBucketTagging": "PutBucketTagging",
}

func iamAction(service, op string) string {
	if a, ok := s3Actions[op]; ok && service == "S3" {
		op = a
	}
	p, ok := iamPrefix[service]
	if !ok {
		p = strings.ToLower(service)
	}
	return p + ":" + op
}

func (c *Calls) add(typ, op, action string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ops := c.m[typ]
	if ops == nil {
		ops = map[string][]string{}
		c.m[typ] = ops
	}
	if !slices.Contains(ops[op], action) {
		ops[op] = append(ops[op], action)
		sort.Strings(ops[op])
	}
}

// Snapshot returns a copy: type -> op -> sorted actions.
func (c *Calls) Snapshot() map[string]map[string][]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]map[string][]string{}
	for t, ops := range c.m {
		out[t] = map[string][]string{}
		for op, acts := range ops {
			out[t][op] = slices.Clone(acts)
		}
	}
	return out
}
