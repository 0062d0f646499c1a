package verify

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/mirror-dissonance/mirror-infra/awsclient"
)

// DynamoDBAPI is the part of the DynamoDB client the checks use.
type DynamoDBAPI interface {
	DescribeTable(context.Context, *dynamodb.DescribeTableInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	DescribeTimeToLive(context.Context, *dynamodb.DescribeTimeToLiveInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTimeToLiveOutput, error)
	DescribeContinuousBackups(context.Context, *dynamodb.DescribeContinuousBackupsInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeContinuousBackupsOutput, error)
	// Scan samples items for the data check (one bounded page per table).
	Scan(context.Context, *dynamodb.ScanInput, ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

// KMSAPI is the part of the KMS client the checks use.
type KMSAPI interface {
	DescribeKey(context.Context, *kms.DescribeKeyInput, ...func(*kms.Options)) (*kms.DescribeKeyOutput, error)
	GetKeyRotationStatus(context.Context, *kms.GetKeyRotationStatusInput, ...func(*kms.Options)) (*kms.GetKeyRotationStatusOutput, error)
	GetKeyPolicy(context.Context, *kms.GetKeyPolicyInput, ...func(*kms.Options)) (*kms.GetKeyPolicyOutput, error)
}

// CloudWatchAPI is the part of the CloudWatch client the checks use.
type CloudWatchAPI interface {
	DescribeAlarms(context.Context, *cloudwatch.DescribeAlarmsInput, ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error)
	SetAlarmState(context.Context, *cloudwatch.SetAlarmStateInput, ...func(*cloudwatch.Options)) (*cloudwatch.SetAlarmStateOutput, error)
}

// SNSAPI is the part of the SNS client the checks use.
type SNSAPI interface {
	GetTopicAttributes(context.Context, *sns.GetTopicAttributesInput, ...func(*sns.Options)) (*sns.GetTopicAttributesOutput, error)
	ListSubscriptionsByTopic(context.Context, *sns.ListSubscriptionsByTopicInput, ...func(*sns.Options)) (*sns.ListSubscriptionsByTopicOutput, error)
	Publish(context.Context, *sns.PublishInput, ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// SQSAPI is the part of the SQS client the alert check uses to read the
// verification subscriber.
type SQSAPI interface {
	ReceiveMessage(context.Context, *sqs.ReceiveMessageInput, ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessageBatch(context.Context, *sqs.DeleteMessageBatchInput, ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
}

// IAMAPI is the part of the IAM client the checks use.
type IAMAPI interface {
	GetOpenIDConnectProvider(context.Context, *iam.GetOpenIDConnectProviderInput, ...func(*iam.Options)) (*iam.GetOpenIDConnectProviderOutput, error)
	GetRole(context.Context, *iam.GetRoleInput, ...func(*iam.Options)) (*iam.GetRoleOutput, error)
}

// SSMAPI is the part of the SSM client the checks use.
type SSMAPI interface {
	DescribeParameters(context.Context, *ssm.DescribeParametersInput, ...func(*ssm.Options)) (*ssm.DescribeParametersOutput, error)
	GetParameters(context.Context, *ssm.GetParametersInput, ...func(*ssm.Options)) (*ssm.GetParametersOutput, error)
}

// STSAPI finds the account (for ARNs not given as stack outputs) and is the
// first, cheap probe of whether the endpoint is reachable at all.
type STSAPI = awsclient.STSAPI

// Clients are the AWS clients a run uses; substitute any of them in tests.
type Clients struct {
	// Region is the region the clients talk to (NewClients sets the
	// aws.Config's): a target without its own region builds ARNs in it,
	// and a target whose region differs is an error.
	Region string

	DynamoDB   DynamoDBAPI
	KMS        KMSAPI
	CloudWatch CloudWatchAPI
	SNS        SNSAPI
	SQS        SQSAPI
	IAM        IAMAPI
	SSM        SSMAPI
	STS        STSAPI
	S3         S3API
}

// ClientOptions tune the SDK's own retryer for NewClients.
type ClientOptions struct {
	// MaxAttempts per request (first try included); 0 means 8, unless the
	// config already sets one (AWS_MAX_ATTEMPTS, a profile).
	MaxAttempts int
	// MaxBackoff between attempts; 0 means 2 s.
	MaxBackoff time.Duration
}

// NewClients builds the clients from an SDK config (normally from
// config.LoadDefaultConfig, so AWS_ENDPOINT_URL, profiles, web identity
// and the region apply; see docs/verify-library.md for assuming a role).
// Unless cfg has its own retryer, the SDK's standard retryer gets
// more attempts and a shorter backoff than its defaults, so throttling
// under load does not turn into a false FAIL while the run stays bounded.
func NewClients(cfg aws.Config, opts ...ClientOptions) Clients {
	var o ClientOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	if cfg.Retryer == nil {
		attempts := o.MaxAttempts
		if attempts == 0 {
			attempts = cfg.RetryMaxAttempts
		}
		if attempts == 0 {
			attempts = 8
		}
		backoff := o.MaxBackoff
		if backoff == 0 {
			backoff = 2 * time.Second
		}
		cfg.Retryer = func() aws.Retryer {
			return retry.NewStandard(func(so *retry.StandardOptions) {
				so.MaxAttempts = attempts
				so.MaxBackoff = backoff
			})
		}
	}
	return Clients{
		Region:     cfg.Region,
		DynamoDB:   dynamodb.NewFromConfig(cfg),
		KMS:        kms.NewFromConfig(cfg),
		CloudWatch: cloudwatch.NewFromConfig(cfg),
		SNS:        sns.NewFromConfig(cfg),
		SQS:        sqs.NewFromConfig(cfg),
		IAM:        iam.NewFromConfig(cfg),
		SSM:        ssm.NewFromConfig(cfg),
		STS:        sts.NewFromConfig(cfg),
		S3:         awsclient.NewS3(cfg),
	}
}

// S3API is the part of the S3 client the baselines check uses.
type S3API interface {
	GetBucketVersioning(context.Context, *s3.GetBucketVersioningInput, ...func(*s3.Options)) (*s3.GetBucketVersioningOutput, error)
	GetBucketEncryption(context.Context, *s3.GetBucketEncryptionInput, ...func(*s3.Options)) (*s3.GetBucketEncryptionOutput, error)
	GetPublicAccessBlock(context.Context, *s3.GetPublicAccessBlockInput, ...func(*s3.Options)) (*s3.GetPublicAccessBlockOutput, error)
	GetBucketPolicy(context.Context, *s3.GetBucketPolicyInput, ...func(*s3.Options)) (*s3.GetBucketPolicyOutput, error)
}
