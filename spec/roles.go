package spec

import "slices"

// Tag keys and the project value every taggable resource carries (SPEC 1).
// Key management is scoped by them, so a replacement key (whose ARN is not
// known before CreateKey) is manageable while other keys are not.
const (
	TagKeyProject     = "Project"
	TagKeyEnvironment = "Environment"
	TagValueProject   = "MirrorDissonance"
)

// Scope is what a role's permissions depend on besides the environment's
// names: the account, and the optional parts of the stack. Every ARN a
// policy names is derived from it, never from an apply-time output, so a
// preview knows the whole policy and replacing a resource never changes a
// role's policy (which the deploy role may not change for itself).
type Scope struct {
	Names   Names
	Account Account
	// OwnsProvider: this stack creates and updates the account's GitHub
	// OIDC provider.
	OwnsProvider bool
	// LooksUpProvider: the program finds the provider by its URL
	// (iam:ListOpenIDConnectProviders), as a stack that neither owns it nor
	// is given its ARN does.
	LooksUpProvider bool
	// VerifyQueue: the stack has the verification subscriber (SPEC 2.11).
	VerifyQueue bool
}

// Resource ARNs of the scope.
func (s Scope) tables() string        { return s.Account.TableArn(s.Names.Prefix() + "*") }
func (s Scope) indexes() string       { return s.tables() + "/index/*" }
func (s Scope) topic() string         { return s.Account.TopicArn(s.Names.Topic()) }
func (s Scope) subscriptions() string { return s.topic() + ":*" }
func (s Scope) keys() string          { return s.Account.KeyArn("*") }
func (s Scope) alias() string         { return s.Account.KeyAliasArn(s.Names.KeyAlias()) }
func (s Scope) alarms() string        { return s.Account.AlarmArn(s.Names.Prefix() + "*") }
func (s Scope) dashboard() string     { return s.Account.DashboardArn(s.Names.Dashboard()) }
func (s Scope) provider() string      { return s.Account.OIDCProviderArn() }
func (s Scope) bucket() string        { return s.Account.BucketArn(s.Names.BaselinesBucket()) }
func (s Scope) objects() string       { return s.bucket() + "/*" }
func (s Scope) queue() string         { return s.Account.QueueArn(s.Names.VerifyQueue()) }
func (s Scope) boundary() string      { return s.Account.PolicyArn(s.Names.PermissionsBoundary()) }
func (s Scope) params() string        { return s.Account.ParametersArn(s.Names.NonceParameterPath()) }
func (s Scope) paramPath() string     { return s.Account.ParameterPathArn(s.Names.NonceParameterPath()) }
func (s Scope) role(name string) string {
	return s.Account.RoleArn(name)
}

// ManagedRoles are the roles the deploy role creates and changes: every
// role of the stack except itself. Each carries the boundary.
func (s Scope) ManagedRoles() []string {
	return []string{s.Names.PreviewRole(), s.Names.OracleRole()}
}

// BoundaryArn is the ARN of the stack's permissions boundary.
func (s Scope) BoundaryArn() string { return s.boundary() }

// Condition keys the policies use.
const (
	CondPermissionsBoundary = "iam:PermissionsBoundary"
	CondViaService          = "kms:ViaService"
	CondResourceTagEnv      = "aws:ResourceTag/" + TagKeyEnvironment
	CondResourceTagProject  = "aws:ResourceTag/" + TagKeyProject
	CondRequestTagEnv       = "aws:RequestTag/" + TagKeyEnvironment
	CondRequestTagProject   = "aws:RequestTag/" + TagKeyProject
	CondResourceAliases     = "kms:ResourceAliases"
)

// StateKeyAlias names the KMS key of the shared state backend's secrets
// provider (awskms://alias/mirror-dissonance-state). It is made at
// bootstrap, outside any stack, like the state bucket, so that no workflow
// needs a passphrase: a role opens a stack by decrypting with this key.
const StateKeyAlias = "alias/mirror-dissonance-state"

// stateSecrets lets a role use the state key, found by its alias since its
// ARN is not the stack's to know.
func (s Scope) stateSecrets(actions ...string) Statement {
	return allowIf("StateSecrets", actions,
		map[string]map[string]any{"ForAnyValue:StringEquals": {CondResourceAliases: StateKeyAlias}}, s.keys())
}

// stateSecretsOps are the state-key calls of a job: preview opens a stack
// (Decrypt); deploy also creates one (Encrypt of its data key).
func (s Scope) stateSecretsOps(actions ...string) []Operation {
	var out []Operation
	for _, a := range actions {
		out = append(out, Operation{Action: a, Resource: s.Account.KeyArn("state-key"),
			Context: map[string]string{CondResourceAliases: StateKeyAlias},
			Source:  "the shared backend's awskms:// secrets provider (docs/operations.md, section 3.1)"})
	}
	return out
}

// keyTagged scopes key actions to the environment's keys by their tags:
// the key ARN is only known after CreateKey.
func (s Scope) keyTagged() map[string]map[string]any {
	return map[string]map[string]any{"StringEquals": {
		CondResourceTagEnv: s.Names.Env, CondResourceTagProject: TagValueProject,
	}}
}

// viaServices scopes key use to requests services make for the caller, on
// the environment's keys.
func (s Scope) viaServices(services ...string) map[string]map[string]any {
	var eps []any
	for _, svc := range services {
		eps = append(eps, s.Account.ServiceEndpoint(svc))
	}
	c := s.keyTagged()
	c["StringEquals"][CondViaService] = eps
	return c
}

func (s Scope) withBoundary() map[string]map[string]any {
	return map[string]map[string]any{"StringEquals": {CondPermissionsBoundary: s.boundary()}}
}

func allowIf(sid string, actions []string, cond map[string]map[string]any, resources ...string) Statement {
	st := Allow(sid, actions, resources...)
	st.Condition = cond
	return st
}

func (s Scope) managedRoleArns() []string {
	var out []string
	for _, r := range s.ManagedRoles() {
		out = append(out, s.role(r))
	}
	return out
}

func (s Scope) allRoleArns() []string {
	return append([]string{s.role(s.Names.DeployRole())}, s.managedRoleArns()...)
}

// Action groups. Each is what the provider (or our code) calls; the
// operation tables in permissions.go say which job needs which, with the
// provider file cited, and the tests hold the policies to them.
var (
	tableReadActions = []string{"dynamodb:DescribeTable", "dynamodb:DescribeContinuousBackups", "dynamodb:DescribeTimeToLive", "dynamodb:ListTagsOfResource"}
	keyReadActions   = []string{"kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags"}
	topicReadActions = []string{"sns:GetTopicAttributes", "sns:ListTagsForResource", "sns:ListSubscriptionsByTopic"}
	alarmReadActions = []string{"cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource"}
	roleReadActions  = []string{"iam:GetRole", "iam:ListRolePolicies", "iam:GetRolePolicy", "iam:ListAttachedRolePolicies"}
	queueReadActions = []string{"sqs:GetQueueAttributes", "sqs:ListQueueTags"}
	// itemActions are the Oracle's and the E2E's item-level DynamoDB calls.
	itemActions = []string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Query", "dynamodb:Scan"}
	// nonceReadActions read the nonce versions (DescribeParameters lists
	// them with their key; it has no resource-level scoping in IAM).
	nonceReadActions = []string{"ssm:GetParameters", "ssm:GetParametersByPath"}
)

// DeployPolicy lets the deploy role run the driver (create, update and
// delete the stack's resources as the AWS provider does) and the
// post-deploy stage (nonce bootstrap and rotation, verifier with the alert
// check, E2E) for one environment, and nothing else (SPEC 2.6). It may
// create or change a role only with the stack's boundary attached, and
// never its own role or the boundary.
func DeployPolicy(s Scope) PolicyDocument {
	n := s.Names
	sts := []Statement{
		Allow("ManageTables", append(slices.Clone(tableReadActions),
			"dynamodb:CreateTable", "dynamodb:UpdateTable", "dynamodb:DeleteTable",
			"dynamodb:UpdateContinuousBackups", "dynamodb:UpdateTimeToLive",
			"dynamodb:TagResource", "dynamodb:UntagResource"), s.tables()),
		Allow("TableData", itemActions, s.tables(), s.indexes()),
		// CreateKey and ListAliases have no resource-level scoping in IAM;
		// CreateKey only with the environment's tags, so every key it makes
		// is one the ManageKeys statement (scoped by those tags) covers.
		allowIf("CreateKey", []string{"kms:CreateKey"}, map[string]map[string]any{"StringEquals": {
			CondRequestTagEnv: n.Env, CondRequestTagProject: TagValueProject,
		}}, "*"),
		Allow("ListAliases", []string{"kms:ListAliases"}, "*"),
		// No kms:PutKeyPolicy: the provider calls it only when the key
		// policy changes (kms/key.go updateKeyPolicy), and with it the role
		// could hand the key to anyone; a key-policy change is an admin run.
		allowIf("ManageKeys", append(slices.Clone(keyReadActions),
			"kms:EnableKeyRotation", "kms:UpdateKeyDescription", "kms:ScheduleKeyDeletion",
			"kms:TagResource", "kms:UntagResource"), s.keyTagged(), s.keys()),
		// CreateAlias and UpdateAlias are authorised on the alias and on
		// each key it names.
		Allow("ManageAlias", []string{"kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias"}, s.alias()),
		allowIf("AliasTargetKeys", []string{"kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias"}, s.keyTagged(), s.keys()),
		// Services using the key for the caller: DynamoDB tables (create
		// needs a grant), SSM SecureStrings, S3 objects, publishing to the
		// encrypted topic and reading the encrypted queue.
		allowIf("UseKeyViaServices", []string{"kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*", "kms:DescribeKey", "kms:CreateGrant"},
			s.viaServices(deployKeyServices(s)...), s.keys()),
		Allow("ManageTopic", append(slices.Clone(topicReadActions),
			"sns:CreateTopic", "sns:DeleteTopic", "sns:SetTopicAttributes", "sns:Subscribe",
			"sns:TagResource", "sns:UntagResource", "sns:Publish"), s.topic()),
		// Subscription calls are authorised on the subscription's ARN
		// (<topic ARN>:<id>), not the topic's.
		Allow("ManageSubscriptions", []string{"sns:GetSubscriptionAttributes", "sns:SetSubscriptionAttributes", "sns:Unsubscribe"}, s.subscriptions()),
		// No cloudwatch:SetAlarmState: it can silence an alarm, and the
		// post-deploy alert check proves delivery by publishing a test
		// alert to the topic (FireAlarm stays off on a real deploy).
		Allow("ManageAlarms", append(slices.Clone(alarmReadActions),
			"cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms", "cloudwatch:TagResource", "cloudwatch:UntagResource"), s.alarms()),
		Allow("ManageDashboard", []string{"cloudwatch:PutDashboard", "cloudwatch:GetDashboard", "cloudwatch:DeleteDashboards"}, s.dashboard()),
		Allow("ReadRoles", roleReadActions, s.allRoleArns()...),
		// Changes that carry the boundary: the role must have (or be given)
		// the stack's boundary, so no role the deploy role makes can exceed it.
		allowIf("ChangeBoundedRoles", []string{"iam:CreateRole", "iam:PutRolePermissionsBoundary", "iam:PutRolePolicy", "iam:DeleteRolePolicy"},
			s.withBoundary(), s.managedRoleArns()...),
		// Role changes IAM cannot condition on the boundary, on the managed
		// roles by exact ARN.
		Allow("ChangeManagedRoles", []string{"iam:UpdateAssumeRolePolicy", "iam:UpdateRole", "iam:UpdateRoleDescription",
			"iam:TagRole", "iam:UntagRole", "iam:ListInstanceProfilesForRole", "iam:DeleteRole"}, s.managedRoleArns()...),
		Allow("ReadBoundary", []string{"iam:GetPolicy", "iam:GetPolicyVersion"}, s.boundary()),
		Allow("ReadOIDCProvider", []string{"iam:GetOpenIDConnectProvider"}, s.provider()),
	}
	if s.LooksUpProvider {
		// The lookup by URL lists the account's providers
		// (iam/openid_connect_provider_data_source.go); no resource scoping.
		sts = append(sts, Allow("LookUpOIDCProvider", []string{"iam:ListOpenIDConnectProviders"}, "*"))
	}
	if s.OwnsProvider {
		// Retained on delete, so no DeleteOpenIDConnectProvider.
		sts = append(sts, Allow("ManageOIDCProvider", []string{"iam:CreateOpenIDConnectProvider",
			"iam:UpdateOpenIDConnectProviderThumbprint", "iam:AddClientIDToOpenIDConnectProvider",
			"iam:RemoveClientIDFromOpenIDConnectProvider", "iam:TagOpenIDConnectProvider", "iam:UntagOpenIDConnectProvider"}, s.provider()))
	}
	sts = append(sts,
		// The nonce: bootstrap and rotation write versions; GetParametersByPath
		// is evaluated on the path ARN itself.
		Allow("NonceParameters", append(slices.Clone(nonceReadActions), "ssm:PutParameter", "ssm:DeleteParameters"), s.params(), s.paramPath()),
		Allow("DescribeParameters", []string{"ssm:DescribeParameters"}, "*"),
		Allow("ManageBaselinesBucket", append(slices.Clone(BaselinesBucketReadActions), BaselinesBucketWriteActions...), s.bucket()),
		// The E2E drift step writes, reads and removes a baseline (every
		// version of it: the bucket is versioned).
		Allow("BaselineObjects", []string{"s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"}, s.objects()),
	)
	if s.VerifyQueue {
		sts = append(sts, Allow("ManageVerifyQueue", append(slices.Clone(queueReadActions),
			"sqs:CreateQueue", "sqs:DeleteQueue", "sqs:SetQueueAttributes", "sqs:TagQueue", "sqs:UntagQueue",
			"sqs:ReceiveMessage", "sqs:DeleteMessage"), s.queue()))
	}
	// Never its own role or the boundary, whatever an Allow above says.
	sts = append(sts,
		Statement{Sid: "NeverChangeOwnRole", Effect: "Deny",
			Action:   Strings{"iam:Put*", "iam:Update*", "iam:Attach*", "iam:Detach*", "iam:Delete*", "iam:Tag*", "iam:Untag*"},
			Resource: Strings{s.role(n.DeployRole())}},
		Statement{Sid: "NeverChangeBoundary", Effect: "Deny",
			Action: Strings{"iam:CreatePolicy", "iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion",
				"iam:SetDefaultPolicyVersion", "iam:TagPolicy", "iam:UntagPolicy"},
			Resource: Strings{s.boundary()}},
	)
	sts = append(sts, s.stateSecrets("kms:Decrypt", "kms:Encrypt"))
	return Policy(sts...)
}

func deployKeyServices(s Scope) []string {
	svcs := []string{"dynamodb", "ssm", "s3", "sns"}
	if s.VerifyQueue {
		svcs = append(svcs, "sqs")
	}
	return svcs
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
// `pulumi preview` with a refresh and the provider lookup.
func PreviewPolicy(s Scope) PolicyDocument {
	sts := []Statement{
		Allow("ReadTables", tableReadActions, s.tables()),
		allowIf("ReadKeys", keyReadActions, s.keyTagged(), s.keys()),
		Allow("ListAliases", []string{"kms:ListAliases"}, "*"),
		Allow("ReadTopic", []string{"sns:GetTopicAttributes", "sns:ListTagsForResource"}, s.topic()),
		Allow("ReadSubscriptions", []string{"sns:GetSubscriptionAttributes"}, s.subscriptions()),
		Allow("ReadAlarms", alarmReadActions, s.alarms()),
		Allow("ReadDashboard", []string{"cloudwatch:GetDashboard"}, s.dashboard()),
		Allow("ReadRoles", roleReadActions, s.allRoleArns()...),
		Allow("ReadBoundary", []string{"iam:GetPolicy", "iam:GetPolicyVersion"}, s.boundary()),
		Allow("ReadOIDCProvider", []string{"iam:GetOpenIDConnectProvider"}, s.provider()),
		Allow("ReadBaselinesBucket", BaselinesBucketReadActions, s.bucket()),
		s.stateSecrets("kms:Decrypt"),
	}
	if s.LooksUpProvider {
		sts = append(sts, Allow("LookUpOIDCProvider", []string{"iam:ListOpenIDConnectProviders"}, "*"))
	}
	if s.VerifyQueue {
		sts = append(sts, Allow("ReadVerifyQueue", queueReadActions, s.queue()))
	}
	return Policy(sts...)
}

// OraclePolicy is the Oracle runtime role's policy (SPEC 2.6): item-level
// access to the three tables and their index, the nonce versions read and
// decrypted through SSM only, the baselines objects, the describe calls of
// the read-only verifier catalogue and publishing to the ops topic. No
// rotation (no ssm:PutParameter) and no administration of tables, key,
// topic or roles.
func OraclePolicy(s Scope) PolicyDocument {
	return Policy(
		Allow("TableItems", itemActions, s.tables(), s.indexes()),
		Allow("DescribeTables", []string{"dynamodb:DescribeTable", "dynamodb:DescribeContinuousBackups", "dynamodb:DescribeTimeToLive"}, s.tables()),
		Allow("ReadNonce", nonceReadActions, s.params(), s.paramPath()),
		Allow("DescribeParameters", []string{"ssm:DescribeParameters"}, "*"),
		// Decrypt the nonce through SSM only; the baselines bucket is
		// SSE-KMS, so S3 needs the key for the caller too; publishing to
		// the encrypted topic needs a data key through SNS.
		allowIf("DecryptNonceViaSSM", []string{"kms:Decrypt"}, s.viaServices("ssm"), s.keys()),
		allowIf("BaselinesKeyViaS3", []string{"kms:Decrypt", "kms:GenerateDataKey"}, s.viaServices("s3"), s.keys()),
		allowIf("PublishKeyViaSNS", []string{"kms:Decrypt", "kms:GenerateDataKey"}, s.viaServices("sns"), s.keys()),
		allowIf("DescribeKey", []string{"kms:DescribeKey", "kms:GetKeyRotationStatus", "kms:GetKeyPolicy"}, s.keyTagged(), s.keys()),
		Allow("ReadBaselinesBucket", []string{"s3:ListBucket", "s3:ListBucketVersions", "s3:GetBucketVersioning",
			"s3:GetEncryptionConfiguration", "s3:GetBucketPublicAccessBlock", "s3:GetBucketPolicy"}, s.bucket()),
		Allow("BaselineObjects", []string{"s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"}, s.objects()),
		Allow("Topic", []string{"sns:GetTopicAttributes", "sns:ListSubscriptionsByTopic", "sns:Publish"}, s.topic()),
		Allow("DescribeAlarms", []string{"cloudwatch:DescribeAlarms"}, s.alarms()),
		Allow("ReadTrust", []string{"iam:GetRole"}, s.allRoleArns()...),
		Allow("ReadOIDCProvider", []string{"iam:GetOpenIDConnectProvider"}, s.provider()),
	)
}

// BoundaryPolicy is the permissions boundary of every role the deploy role
// manages: at most what the preview, Oracle and drill roles need, so a role the
// deploy role creates or changes can never administer IAM, the key, the
// tables or the topic, whatever policy it is given.
func BoundaryPolicy(s Scope) PolicyDocument {
	var sts []Statement
	for _, p := range []struct {
		prefix string
		doc    PolicyDocument
	}{{"Preview", PreviewPolicy(s)}, {"Oracle", OraclePolicy(s)}, {"Drill", DrillPolicy(s)}} {
		for _, st := range p.doc.Statement {
			st.Sid = p.prefix + st.Sid
			sts = append(sts, st)
		}
	}
	return Policy(sts...)
}

// VerifyQueuePolicy accepts messages on the verification queue from the
// ops topic only (SPEC 2.11).
func VerifyQueuePolicy(a Account, queueArn, topicArn string) PolicyDocument {
	return Policy(Statement{
		Sid: SidQueueFromTopic, Effect: "Allow",
		Principal: map[string]any{"Service": SNSPrincipal},
		Action:    Strings{"sqs:SendMessage"},
		Resource:  Strings{queueArn},
		Condition: map[string]map[string]any{
			"ArnEquals":    {"aws:SourceArn": topicArn},
			"StringEquals": {"aws:SourceAccount": a.ID},
		},
	})
}

// VerifyQueueRetentionSeconds keeps a test alert for a day.
const VerifyQueueRetentionSeconds = 86400

// SidQueueFromTopic is the verification queue policy's one statement.
const SidQueueFromTopic = "AcceptOpsTopicOnly"
