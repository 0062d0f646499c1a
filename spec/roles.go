package spec

import "slices"

// RoleResources are the ARNs a GitHub role's policy is scoped to that are
// known only after apply.
type RoleResources struct {
	KeyArn, TopicArn, ProviderArn string
}

// DeployPolicy lets the deploy role run the driver and the verifier for one
// environment: every statement is scoped to the environment's names
// (SPEC 2.6).
func DeployPolicy(n Names, a Account, r RoleResources) PolicyDocument {
	tables := a.TableArn(n.Prefix() + "*")
	bucket := a.BucketArn(n.BaselinesBucket())
	return Policy(
		Allow("ManageTables", []string{
			"dynamodb:CreateTable", "dynamodb:UpdateTable", "dynamodb:DeleteTable", "dynamodb:DescribeTable",
			"dynamodb:DescribeContinuousBackups", "dynamodb:UpdateContinuousBackups",
			"dynamodb:DescribeTimeToLive", "dynamodb:UpdateTimeToLive",
			"dynamodb:TagResource", "dynamodb:UntagResource", "dynamodb:ListTagsOfResource",
		}, tables),
		Allow("TableData", []string{
			"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
			"dynamodb:Query", "dynamodb:BatchWriteItem", "dynamodb:ConditionCheckItem",
		}, tables, tables+"/index/*"),
		// CreateKey and ListAliases have no resource-level scoping in IAM.
		Allow("CreateKey", []string{"kms:CreateKey", "kms:ListAliases"}, "*"),
		Allow("ManageKey", []string{
			"kms:DescribeKey", "kms:GetKeyPolicy", "kms:PutKeyPolicy", "kms:EnableKeyRotation",
			"kms:GetKeyRotationStatus", "kms:ScheduleKeyDeletion", "kms:TagResource", "kms:UntagResource",
			"kms:ListResourceTags", "kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias",
		}, r.KeyArn, a.KeyAliasArn(n.KeyAlias())),
		Statement{Sid: "UseKeyViaServices", Effect: "Allow",
			Action:   Strings{"kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*", "kms:DescribeKey"},
			Resource: Strings{r.KeyArn},
			Condition: map[string]map[string]any{"StringEquals": {"kms:ViaService": []any{
				a.ServiceEndpoint("dynamodb"), a.ServiceEndpoint("ssm"), a.ServiceEndpoint("s3"),
			}}}},
		Allow("ManageTopic", []string{
			"sns:CreateTopic", "sns:DeleteTopic", "sns:GetTopicAttributes", "sns:SetTopicAttributes",
			"sns:Subscribe", "sns:Unsubscribe", "sns:ListSubscriptionsByTopic", "sns:GetSubscriptionAttributes",
			"sns:TagResource", "sns:UntagResource", "sns:ListTagsForResource", "sns:Publish",
		}, r.TopicArn, a.TopicArn(n.Topic())),
		Allow("ManageAlarms", []string{
			"cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms", "cloudwatch:DescribeAlarms",
			"cloudwatch:SetAlarmState", "cloudwatch:TagResource", "cloudwatch:UntagResource",
			"cloudwatch:ListTagsForResource",
		}, a.AlarmArn(n.Prefix()+"*")),
		Allow("ManageDashboard", []string{"cloudwatch:PutDashboard", "cloudwatch:GetDashboard", "cloudwatch:DeleteDashboards"},
			a.DashboardArn(n.Dashboard())),
		Allow("ManageRoles", []string{
			"iam:GetRole", "iam:CreateRole", "iam:UpdateRole", "iam:UpdateAssumeRolePolicy", "iam:TagRole", "iam:UntagRole",
			"iam:PutRolePolicy", "iam:GetRolePolicy", "iam:DeleteRolePolicy", "iam:ListRolePolicies",
			"iam:ListAttachedRolePolicies",
		}, a.RoleArn(n.Prefix()+"github-*")),
		Allow("ReadOIDCProvider", []string{"iam:GetOpenIDConnectProvider"}, r.ProviderArn),
		Allow("NonceParameters", []string{
			"ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath", "ssm:PutParameter",
			"ssm:AddTagsToResource", "ssm:DeleteParameter",
		}, a.ParametersArn(n.NonceParameterPath())),
		Allow("ManageBaselinesBucket", append(slices.Clone(BaselinesBucketReadActions), BaselinesBucketWriteActions...), bucket),
		// The E2E drift step writes, reads and removes a baseline (every
		// version of it: the bucket is versioned).
		Allow("BaselineObjects", []string{
			"s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion",
		}, bucket+"/*"),
	)
}

// BaselinesBucketReadActions are what the AWS provider reads to refresh the
// bucket and its configuration resources (a BucketV2 read asks for every
// bucket sub-configuration), and what the verifier reads.
var BaselinesBucketReadActions = []string{
	"s3:ListBucket", "s3:ListBucketVersions", "s3:GetBucketLocation", "s3:GetBucketAcl", "s3:GetBucketCORS",
	"s3:GetBucketWebsite", "s3:GetBucketLogging", "s3:GetAccelerateConfiguration", "s3:GetBucketRequestPayment",
	"s3:GetReplicationConfiguration", "s3:GetBucketObjectLockConfiguration", "s3:GetBucketOwnershipControls",
	"s3:GetBucketTagging", "s3:GetBucketVersioning", "s3:GetEncryptionConfiguration",
	"s3:GetBucketPublicAccessBlock", "s3:GetBucketPolicy", "s3:GetLifecycleConfiguration",
}

// BaselinesBucketWriteActions create, configure and delete the bucket; the
// configuration deletes (DeleteBucketEncryption, DeletePublicAccessBlock,
// DeleteBucketLifecycle) are authorised by the Put actions.
var BaselinesBucketWriteActions = []string{
	"s3:CreateBucket", "s3:DeleteBucket", "s3:PutBucketTagging", "s3:PutBucketVersioning",
	"s3:PutEncryptionConfiguration", "s3:PutBucketPublicAccessBlock", "s3:PutBucketPolicy",
	"s3:DeleteBucketPolicy", "s3:PutLifecycleConfiguration",
}

// PreviewPolicy is read-only access to the same resources, enough for
// `pulumi preview` and a refresh.
func PreviewPolicy(n Names, a Account, r RoleResources) PolicyDocument {
	tables := a.TableArn(n.Prefix() + "*")
	return Policy(
		Allow("ReadTables", []string{
			"dynamodb:DescribeTable", "dynamodb:DescribeContinuousBackups", "dynamodb:DescribeTimeToLive",
			"dynamodb:ListTagsOfResource",
		}, tables),
		Allow("ReadKey", []string{
			"kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags",
		}, r.KeyArn),
		Allow("ListAliases", []string{"kms:ListAliases"}, "*"),
		Allow("ReadTopic", []string{
			"sns:GetTopicAttributes", "sns:ListSubscriptionsByTopic", "sns:GetSubscriptionAttributes",
			"sns:ListTagsForResource",
		}, r.TopicArn, a.TopicArn(n.Topic())),
		Allow("ReadAlarms", []string{"cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource"}, a.AlarmArn(n.Prefix()+"*")),
		Allow("ReadDashboard", []string{"cloudwatch:GetDashboard"}, a.DashboardArn(n.Dashboard())),
		Allow("ReadRoles", []string{"iam:GetRole", "iam:GetRolePolicy", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies"},
			a.RoleArn(n.Prefix()+"github-*")),
		Allow("ReadOIDCProvider", []string{"iam:GetOpenIDConnectProvider"}, r.ProviderArn),
		Allow("ReadBaselinesBucket", BaselinesBucketReadActions, a.BucketArn(n.BaselinesBucket())),
	)
}
