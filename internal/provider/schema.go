package provider

import "slices"

// Schema is what the stand-in knows of one resource type of the pulumi-aws
// v6.83.4 Go SDK (property names in the SDK's camelCase).
type Schema struct {
	// ForceNew are the input properties whose change replaces the
	// resource, as the Terraform AWS provider's schema marks them.
	ForceNew []string
	// Computed are the outputs AWS assigns; unknown in a preview.
	Computed []string
	// Tagged types carry tags and tagsAll (tags merged over the
	// provider's default tags).
	Tagged bool
	// Source is the Terraform AWS provider file the ForceNew list is read
	// from (github.com/hashicorp/terraform-provider-aws).
	Source string
}

// Schemas are the resource types stacks.Program declares. A type not here
// is refused by Check, naming it.
//
// | type | ForceNew | source |
// |---|---|---|
// | dynamodb Table | name, hashKey, rangeKey, localSecondaryIndexes, restore* | internal/service/dynamodb/table.go |
// | kms Key | customerMasterKeySpec, keySpec, keyUsage, multiRegion, customKeyStoreId, xksKeyId | internal/service/kms/key.go |
// | kms Alias | name, namePrefix | internal/service/kms/alias.go |
// | sns Topic | name, namePrefix, fifoTopic | internal/service/sns/topic.go |
// | sns TopicPolicy | arn | internal/service/sns/topic_policy.go |
// | sns TopicSubscription | topic, protocol, endpoint, endpointAutoConfirms, confirmationTimeoutInMinutes | internal/service/sns/topic_subscription.go |
// | cloudwatch MetricAlarm | name | internal/service/cloudwatch/metric_alarm.go |
// | cloudwatch Dashboard | dashboardName | internal/service/cloudwatch/dashboard.go |
// | iam OpenIdConnectProvider | url | internal/service/iam/openid_connect_provider.go |
// | iam Role | name, namePrefix, path | internal/service/iam/role.go |
// | iam RolePolicy | name, namePrefix, role | internal/service/iam/role_policy.go |
// | iam Policy | name, namePrefix, path, description | internal/service/iam/policy.go |
// | sqs Queue | name, namePrefix, fifoQueue | internal/service/sqs/queue.go |
// | sqs QueuePolicy | queueUrl | internal/service/sqs/queue_policy.go |
// | s3 BucketV2 | bucket, bucketPrefix, objectLockEnabled | internal/service/s3/bucket.go |
// | s3 bucket configuration resources | bucket, expectedBucketOwner | internal/service/s3/bucket_*.go |
var Schemas = map[string]Schema{
	"aws:dynamodb/table:Table": {
		ForceNew: []string{"name", "hashKey", "rangeKey", "localSecondaryIndexes", "restoreSourceName", "restoreSourceTableArn", "restoreToLatestTime", "restoreDateTime"},
		Computed: []string{"arn", "streamArn", "streamLabel"}, Tagged: true,
		Source: "internal/service/dynamodb/table.go"},
	"aws:kms/key:Key": {
		ForceNew: []string{"customerMasterKeySpec", "keySpec", "keyUsage", "multiRegion", "customKeyStoreId", "xksKeyId"},
		Computed: []string{"arn", "keyId"}, Tagged: true,
		Source: "internal/service/kms/key.go"},
	"aws:kms/alias:Alias": {
		ForceNew: []string{"name", "namePrefix"},
		Computed: []string{"arn", "targetKeyArn"},
		Source:   "internal/service/kms/alias.go"},
	"aws:sns/topic:Topic": {
		ForceNew: []string{"name", "namePrefix", "fifoTopic"},
		Computed: []string{"arn", "owner"}, Tagged: true,
		Source: "internal/service/sns/topic.go"},
	"aws:sns/topicPolicy:TopicPolicy": {
		ForceNew: []string{"arn"},
		Computed: []string{"owner"},
		Source:   "internal/service/sns/topic_policy.go"},
	"aws:sns/topicSubscription:TopicSubscription": {
		ForceNew: []string{"topic", "protocol", "endpoint", "endpointAutoConfirms", "confirmationTimeoutInMinutes"},
		Computed: []string{"arn", "ownerId", "pendingConfirmation", "confirmationWasAuthenticated"},
		Source:   "internal/service/sns/topic_subscription.go"},
	"aws:cloudwatch/metricAlarm:MetricAlarm": {
		ForceNew: []string{"name"},
		Computed: []string{"arn"}, Tagged: true,
		Source: "internal/service/cloudwatch/metric_alarm.go"},
	"aws:cloudwatch/dashboard:Dashboard": {
		ForceNew: []string{"dashboardName"},
		Computed: []string{"dashboardArn"},
		Source:   "internal/service/cloudwatch/dashboard.go"},
	"aws:iam/openIdConnectProvider:OpenIdConnectProvider": {
		ForceNew: []string{"url"},
		Computed: []string{"arn"}, Tagged: true,
		Source: "internal/service/iam/openid_connect_provider.go"},
	"aws:iam/role:Role": {
		ForceNew: []string{"name", "namePrefix", "path"},
		Computed: []string{"arn", "uniqueId", "createDate"}, Tagged: true,
		Source: "internal/service/iam/role.go"},
	"aws:iam/rolePolicy:RolePolicy": {
		ForceNew: []string{"name", "namePrefix", "role"},
		Source:   "internal/service/iam/role_policy.go"},
	"aws:iam/policy:Policy": {
		ForceNew: []string{"name", "namePrefix", "path", "description"},
		Computed: []string{"arn", "policyId"}, Tagged: true,
		Source: "internal/service/iam/policy.go"},
	"aws:sqs/queue:Queue": {
		ForceNew: []string{"name", "namePrefix", "fifoQueue"},
		Computed: []string{"arn", "url"}, Tagged: true,
		Source: "internal/service/sqs/queue.go"},
	"aws:sqs/queuePolicy:QueuePolicy": {
		ForceNew: []string{"queueUrl"},
		Source:   "internal/service/sqs/queue_policy.go"},
	"aws:s3/bucketV2:BucketV2": {
		ForceNew: []string{"bucket", "bucketPrefix", "objectLockEnabled"},
		Computed: []string{"arn", "bucketDomainName", "bucketRegionalDomainName", "hostedZoneId", "region"}, Tagged: true,
		Source: "internal/service/s3/bucket.go"},
	"aws:s3/bucketVersioningV2:BucketVersioningV2": {
		ForceNew: []string{"bucket", "expectedBucketOwner"},
		Source:   "internal/service/s3/bucket_versioning.go"},
	"aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2": {
		ForceNew: []string{"bucket", "expectedBucketOwner"},
		Source:   "internal/service/s3/bucket_server_side_encryption_configuration.go"},
	"aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": {
		ForceNew: []string{"bucket"},
		Source:   "internal/service/s3/bucket_public_access_block.go"},
	"aws:s3/bucketPolicy:BucketPolicy": {
		ForceNew: []string{"bucket"},
		Source:   "internal/service/s3/bucket_policy.go"},
	"aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2": {
		ForceNew: []string{"bucket", "expectedBucketOwner"},
		Source:   "internal/service/s3/bucket_lifecycle_configuration.go"},
}

// Invokes are the data sources the program calls.
var Invokes = []string{
	"aws:index/getCallerIdentity:getCallerIdentity",
	"aws:index/getPartition:getPartition",
	"aws:iam/getOpenIdConnectProvider:getOpenIdConnectProvider",
}

func (s Schema) forceNew(key string) bool { return slices.Contains(s.ForceNew, key) }

func (s Schema) computed(key string) bool {
	return slices.Contains(s.Computed, key) || key == "tagsAll"
}
