package gate

// Resource type tokens the rules know (pulumi-aws v6).
const (
	TypeTable        = "aws:dynamodb/table:Table"
	TypeKey          = "aws:kms/key:Key"
	TypeAlias        = "aws:kms/alias:Alias"
	TypeTopic        = "aws:sns/topic:Topic"
	TypeTopicPolicy  = "aws:sns/topicPolicy:TopicPolicy"
	TypeSubscription = "aws:sns/topicSubscription:TopicSubscription"
	TypeAlarm        = "aws:cloudwatch/metricAlarm:MetricAlarm"
	TypeDashboard    = "aws:cloudwatch/dashboard:Dashboard"
	TypeOIDCProvider = "aws:iam/openIdConnectProvider:OpenIdConnectProvider"
	TypeRole         = "aws:iam/role:Role"
	TypeRolePolicy   = "aws:iam/rolePolicy:RolePolicy"
	TypePolicy       = "aws:iam/policy:Policy"
	TypeQueue        = "aws:sqs/queue:Queue"
	TypeQueuePolicy  = "aws:sqs/queuePolicy:QueuePolicy"

	TypeBucket                  = "aws:s3/bucketV2:BucketV2"
	TypeBucketVersioning        = "aws:s3/bucketVersioningV2:BucketVersioningV2"
	TypeBucketEncryption        = "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2"
	TypeBucketPublicAccessBlock = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
	TypeBucketPolicy            = "aws:s3/bucketPolicy:BucketPolicy"
	TypeBucketLifecycle         = "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2"
)
