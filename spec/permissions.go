package spec

import (
	"sort"
	"strings"
)

// Permissions from evidence (SPEC 2.6): the operations each role's job
// performs, as IAM authorises them. The tests in permissions_test.go hold
// DeployPolicy, PreviewPolicy and OraclePolicy to these tables both ways:
// every operation is allowed, and the policy allows no action no operation
// needs.

// Operation is one authorisation a job needs: an IAM action on a resource
// ARN with the condition keys the request carries.
type Operation struct {
	// API is the request as the emulator counts it ("service.Operation"
	// with the SigV4 signing name); empty for a provider call.
	API      string
	Action   string
	Resource string
	Context  map[string]string
	// Source says where the need is documented.
	Source string
}

// IsWrite reports whether the action changes anything (anything but
// Describe, Get and List).
func IsWrite(action string) bool {
	_, verb, _ := strings.Cut(action, ":")
	// kms:Decrypt returns data and changes nothing: a read-only role opens
	// a stack's state with it.
	if action == "kms:Decrypt" {
		return false
	}
	for _, p := range []string{"Describe", "Get", "List"} {
		if strings.HasPrefix(verb, p) {
			return false
		}
	}
	return true
}

// ProviderResource is what the Pulumi AWS provider (the Terraform AWS
// provider it bridges) calls to read, create, update and delete one
// resource type. Create, Update and Delete list only calls beyond Read
// (every create and update ends with a read).
type ProviderResource struct {
	Type                         string
	Source                       string
	Read, Create, Update, Delete []string
	// AdminOnly are the calls the provider makes for this type that no
	// CI role is granted: an administrator's run (the bootstrap) makes
	// them, and the deploy role is denied them on purpose.
	AdminOnly []string
}

// ProviderInvoke is what one data source the program calls makes.
type ProviderInvoke struct {
	Token  string
	Source string
	// Calls are the AWS calls it makes; Unauthorised are those IAM does
	// not authorise (no policy can grant or deny them).
	Calls, Unauthorised []string
}

// ProviderInvokes are the data sources of the program. The provider
// look-up's calls are in the roles' jobs through providerRefs.
var ProviderInvokes = []ProviderInvoke{
	// "No permissions are required to perform this operation" (STS API
	// reference, GetCallerIdentity).
	{Token: "aws:index/getCallerIdentity:getCallerIdentity", Source: providerSource + "internal/service/sts/caller_identity_data_source.go",
		Calls: []string{"sts:GetCallerIdentity"}, Unauthorised: []string{"sts:GetCallerIdentity"}},
	// The partition is read from the provider's configured region: no call.
	{Token: "aws:index/getPartition:getPartition", Source: providerSource + "internal/service/meta/partition_data_source.go"},
	// By URL: the provider lists the account's OIDC providers and reads
	// each until one has the URL.
	{Token: "aws:iam/getOpenIdConnectProvider:getOpenIdConnectProvider", Source: ProviderLookup,
		Calls: []string{"iam:ListOpenIDConnectProviders", "iam:GetOpenIDConnectProvider"}},
}

// providerSource is the repository the Source paths are in.
const providerSource = "hashicorp/terraform-provider-aws "

// ProviderResources are the resource types of the stack. Sources are files
// of github.com/hashicorp/terraform-provider-aws (bridged by pulumi-aws v6).
var ProviderResources = []ProviderResource{
	{Type: "aws:kms/key:Key", Source: providerSource + "internal/service/kms/key.go",
		// Read: findKeyByID, findKeyPolicyByTwoPartKey, key rotation status, listTags.
		Read: []string{"kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags"},
		// Tags are passed to CreateKey (authorised by CreateKey itself);
		// updateKeyRotationEnabled turns rotation on.
		Create: []string{"kms:CreateKey", "kms:EnableKeyRotation"},
		// Description and tags; a policy change calls PutKeyPolicy,
		// deliberately not granted (an admin run, see DeployPolicy): the
		// engine rehearsal's adoption makes it, Terraform's key policy
		// lacking the CloudWatch statement.
		Update:    []string{"kms:UpdateKeyDescription", "kms:TagResource", "kms:UntagResource"},
		AdminOnly: []string{"kms:PutKeyPolicy"},
		Delete:    []string{"kms:ScheduleKeyDeletion"}},
	{Type: "aws:kms/alias:Alias", Source: providerSource + "internal/service/kms/alias.go",
		Read: []string{"kms:ListAliases"}, Create: []string{"kms:CreateAlias"},
		Update: []string{"kms:UpdateAlias"}, Delete: []string{"kms:DeleteAlias"}},
	{Type: "aws:dynamodb/table:Table", Source: providerSource + "internal/service/dynamodb/table.go",
		Read: []string{"dynamodb:DescribeTable", "dynamodb:DescribeContinuousBackups", "dynamodb:DescribeTimeToLive", "dynamodb:ListTagsOfResource"},
		// CreateTable with Tags needs TagResource; TTL and PITR are set
		// after the table is active.
		Create: []string{"dynamodb:CreateTable", "dynamodb:TagResource", "dynamodb:UpdateTimeToLive", "dynamodb:UpdateContinuousBackups"},
		Update: []string{"dynamodb:UpdateTable", "dynamodb:UpdateTimeToLive", "dynamodb:UpdateContinuousBackups", "dynamodb:TagResource", "dynamodb:UntagResource"},
		Delete: []string{"dynamodb:DeleteTable"}},
	{Type: "aws:sns/topic:Topic", Source: providerSource + "internal/service/sns/topic.go",
		Read:   []string{"sns:GetTopicAttributes", "sns:ListTagsForResource"},
		Create: []string{"sns:CreateTopic", "sns:TagResource", "sns:SetTopicAttributes"},
		Update: []string{"sns:SetTopicAttributes", "sns:TagResource", "sns:UntagResource"},
		Delete: []string{"sns:DeleteTopic"}},
	{Type: "aws:sns/topicPolicy:TopicPolicy", Source: providerSource + "internal/service/sns/topic_policy.go",
		Read: []string{"sns:GetTopicAttributes"}, Create: []string{"sns:SetTopicAttributes"},
		Update: []string{"sns:SetTopicAttributes"}, Delete: []string{"sns:SetTopicAttributes"}},
	{Type: "aws:sns/topicSubscription:TopicSubscription", Source: providerSource + "internal/service/sns/topic_subscription.go",
		Read: []string{"sns:GetSubscriptionAttributes"}, Create: []string{"sns:Subscribe"},
		Update: []string{"sns:SetSubscriptionAttributes"}, Delete: []string{"sns:Unsubscribe"}},
	{Type: "aws:cloudwatch/metricAlarm:MetricAlarm", Source: providerSource + "internal/service/cloudwatch/metric_alarm.go",
		Read:   []string{"cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource"},
		Create: []string{"cloudwatch:PutMetricAlarm", "cloudwatch:TagResource"},
		Update: []string{"cloudwatch:PutMetricAlarm", "cloudwatch:TagResource", "cloudwatch:UntagResource"},
		Delete: []string{"cloudwatch:DeleteAlarms"}},
	{Type: "aws:cloudwatch/dashboard:Dashboard", Source: providerSource + "internal/service/cloudwatch/dashboard.go",
		Read: []string{"cloudwatch:GetDashboard"}, Create: []string{"cloudwatch:PutDashboard"},
		Update: []string{"cloudwatch:PutDashboard"}, Delete: []string{"cloudwatch:DeleteDashboards"}},
	{Type: "aws:iam/openIdConnectProvider:OpenIdConnectProvider", Source: providerSource + "internal/service/iam/openid_connect_provider.go",
		Read:   []string{"iam:GetOpenIDConnectProvider"},
		Create: []string{"iam:CreateOpenIDConnectProvider", "iam:TagOpenIDConnectProvider"},
		Update: []string{"iam:UpdateOpenIDConnectProviderThumbprint", "iam:AddClientIDToOpenIDConnectProvider",
			"iam:RemoveClientIDFromOpenIDConnectProvider", "iam:TagOpenIDConnectProvider", "iam:UntagOpenIDConnectProvider"},
		// Retained on delete (one provider per account): never deleted.
	},
	{Type: "aws:iam/role:Role", Source: providerSource + "internal/service/iam/role.go",
		// resourceRoleRead: GetRole, readRoleInlinePolicies
		// (ListRolePolicies, GetRolePolicy), readRolePolicyAttachments.
		Read:   []string{"iam:GetRole", "iam:ListRolePolicies", "iam:GetRolePolicy", "iam:ListAttachedRolePolicies"},
		Create: []string{"iam:CreateRole", "iam:TagRole"},
		Update: []string{"iam:UpdateAssumeRolePolicy", "iam:UpdateRoleDescription", "iam:UpdateRole",
			"iam:PutRolePermissionsBoundary", "iam:TagRole", "iam:UntagRole"},
		// DeleteRole: deleteRoleInstanceProfiles lists the role's instance
		// profiles first (none here, so no RemoveRoleFromInstanceProfile).
		Delete: []string{"iam:ListInstanceProfilesForRole", "iam:DeleteRole"}},
	{Type: "aws:iam/rolePolicy:RolePolicy", Source: providerSource + "internal/service/iam/role_policy.go",
		Read: []string{"iam:GetRolePolicy"}, Create: []string{"iam:PutRolePolicy"},
		Update: []string{"iam:PutRolePolicy"}, Delete: []string{"iam:DeleteRolePolicy"}},
	{Type: "aws:iam/policy:Policy", Source: providerSource + "internal/service/iam/policy.go",
		// Only read by the deploy role: creating or changing the boundary
		// is an admin run (the deploy role could otherwise widen it).
		Read: []string{"iam:GetPolicy", "iam:GetPolicyVersion"},
		// resourcePolicyCreate (tags in CreatePolicy), resourcePolicyUpdate
		// (a new default version, the oldest pruned past five, tags) and
		// resourcePolicyDelete (the non-default versions first).
		AdminOnly: []string{"iam:CreatePolicy", "iam:CreatePolicyVersion", "iam:ListPolicyVersions", "iam:DeletePolicyVersion",
			"iam:TagPolicy", "iam:UntagPolicy", "iam:DeletePolicy"}},
	{Type: "aws:s3/bucketV2:BucketV2", Source: providerSource + "internal/service/s3/bucket.go",
		Read:   BaselinesBucketReadActions,
		Create: []string{"s3:CreateBucket", "s3:PutBucketTagging"},
		Update: []string{"s3:PutBucketTagging"}, Delete: []string{"s3:DeleteBucket"}},
	{Type: "aws:s3/bucketVersioningV2:BucketVersioningV2", Source: providerSource + "internal/service/s3/bucket_versioning.go",
		Read: []string{"s3:GetBucketVersioning"}, Create: []string{"s3:PutBucketVersioning"},
		Update: []string{"s3:PutBucketVersioning"}, Delete: []string{"s3:PutBucketVersioning"}},
	{Type: "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
		Source: providerSource + "internal/service/s3/bucket_server_side_encryption_configuration.go",
		Read:   []string{"s3:GetEncryptionConfiguration"}, Create: []string{"s3:PutEncryptionConfiguration"},
		Update: []string{"s3:PutEncryptionConfiguration"}, Delete: []string{"s3:PutEncryptionConfiguration"}},
	{Type: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", Source: providerSource + "internal/service/s3/bucket_public_access_block.go",
		Read: []string{"s3:GetBucketPublicAccessBlock"}, Create: []string{"s3:PutBucketPublicAccessBlock"},
		Update: []string{"s3:PutBucketPublicAccessBlock"}, Delete: []string{"s3:PutBucketPublicAccessBlock"}},
	{Type: "aws:s3/bucketPolicy:BucketPolicy", Source: providerSource + "internal/service/s3/bucket_policy.go",
		Read: []string{"s3:GetBucketPolicy"}, Create: []string{"s3:PutBucketPolicy"},
		Update: []string{"s3:PutBucketPolicy"}, Delete: []string{"s3:DeleteBucketPolicy"}},
	{Type: "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2", Source: providerSource + "internal/service/s3/bucket_lifecycle_configuration.go",
		Read: []string{"s3:GetLifecycleConfiguration"}, Create: []string{"s3:PutLifecycleConfiguration"},
		Update: []string{"s3:PutLifecycleConfiguration"}, Delete: []string{"s3:PutLifecycleConfiguration"}},
	{Type: "aws:sqs/queue:Queue", Source: providerSource + "internal/service/sqs/queue.go",
		Read:   []string{"sqs:GetQueueAttributes", "sqs:ListQueueTags"},
		Create: []string{"sqs:CreateQueue", "sqs:TagQueue"},
		Update: []string{"sqs:SetQueueAttributes", "sqs:TagQueue", "sqs:UntagQueue"},
		Delete: []string{"sqs:DeleteQueue"}},
	{Type: "aws:sqs/queuePolicy:QueuePolicy", Source: providerSource + "internal/service/sqs/queue_policy.go",
		Read: []string{"sqs:GetQueueAttributes"}, Create: []string{"sqs:SetQueueAttributes"},
		Update: []string{"sqs:SetQueueAttributes"}, Delete: []string{"sqs:SetQueueAttributes"}},
}

// ProviderLookup is the invoke of a stack that looks the provider up by URL.
const ProviderLookup = providerSource + "internal/service/iam/openid_connect_provider_data_source.go"

// keyContext is the context of a request on one of the
// environment's keys (tagged at creation).
func (s Scope) keyContext(extra ...string) map[string]string {
	c := map[string]string{CondResourceTagEnv: s.Names.Env, CondResourceTagProject: TagValueProject}
	for i := 0; i+1 < len(extra); i += 2 {
		c[extra[i]] = extra[i+1]
	}
	return c
}

// replacementKey is a key ARN not known before CreateKey: key actions must
// not depend on the current key's ARN.
func (s Scope) replacementKey() string { return s.Account.KeyArn("2f0e3c4d-replacement") }

// resourceOps instantiates the provider actions of one type on this
// environment's ARNs.
func (s Scope) resourceOps(typ string, actions []string, source string) []Operation {
	n := s.Names
	var out []Operation
	add := func(action, resource string, ctx map[string]string) {
		out = append(out, Operation{Action: action, Resource: resource, Context: ctx, Source: source})
	}
	bounded := map[string]string{CondPermissionsBoundary: s.boundary()}
	for _, a := range actions {
		switch typ {
		case "aws:kms/key:Key":
			if a == "kms:CreateKey" {
				add(a, "*", map[string]string{CondRequestTagEnv: n.Env, CondRequestTagProject: TagValueProject})
				continue
			}
			add(a, s.replacementKey(), s.keyContext())
		case "aws:kms/alias:Alias":
			if a == "kms:ListAliases" {
				add(a, "*", nil)
				continue
			}
			add(a, s.alias(), nil)
			add(a, s.replacementKey(), s.keyContext())
		case "aws:dynamodb/table:Table":
			for _, t := range n.Tables() {
				add(a, s.Account.TableArn(t), nil)
			}
			if a == "dynamodb:CreateTable" {
				// A table encrypted with a customer-managed key: DynamoDB
				// describes the key and creates a grant for the caller.
				for _, k := range []string{"kms:DescribeKey", "kms:CreateGrant"} {
					add(k, s.replacementKey(), s.keyContext(CondViaService, s.Account.ServiceEndpoint("dynamodb")))
				}
			}
		case "aws:sns/topic:Topic", "aws:sns/topicPolicy:TopicPolicy":
			add(a, s.topic(), nil)
		case "aws:sns/topicSubscription:TopicSubscription":
			if a == "sns:Subscribe" {
				add(a, s.topic(), nil)
				continue
			}
			add(a, s.topic()+":6b0d31b6-3a51-4d3e-9d2c-2b1c3c1a2f5e", nil)
		case "aws:cloudwatch/metricAlarm:MetricAlarm":
			for _, al := range n.Alarms() {
				add(a, s.Account.AlarmArn(al), nil)
			}
		case "aws:cloudwatch/dashboard:Dashboard":
			add(a, s.dashboard(), nil)
		case "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
			add(a, s.provider(), nil)
		case "aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy":
			for _, r := range s.ManagedRoles() {
				ctx := map[string]string(nil)
				if boundaryConditioned[a] {
					ctx = bounded
				}
				add(a, s.role(r), ctx)
			}
		case "aws:iam/policy:Policy":
			add(a, s.boundary(), nil)
		case "aws:sqs/queue:Queue", "aws:sqs/queuePolicy:QueuePolicy":
			add(a, s.queue(), nil)
		default: // the bucket and its configuration resources
			add(a, s.bucket(), nil)
		}
	}
	return out
}

// boundaryConditioned are the role changes IAM authorises with the
// iam:PermissionsBoundary condition key: the deploy role may make them only
// when the role carries the stack's boundary.
var boundaryConditioned = map[string]bool{
	"iam:CreateRole": true, "iam:PutRolePermissionsBoundary": true, "iam:PutRolePolicy": true, "iam:DeleteRolePolicy": true,
}

// stackTypes are the resource types this scope's stack declares.
func (s Scope) stackTypes() map[string]bool {
	m := map[string]bool{}
	for _, r := range ProviderResources {
		switch {
		case strings.HasPrefix(r.Type, "aws:sqs/") && !s.VerifyQueue:
		case r.Type == "aws:iam/openIdConnectProvider:OpenIdConnectProvider" && !s.OwnsProvider:
		default:
			m[r.Type] = true
		}
	}
	return m
}

// PreviewJob is what `pulumi preview --refresh` needs: every resource
// read, the provider read and, when the stack looks it up, the lookup.
func PreviewJob(s Scope) []Operation {
	types := s.stackTypes()
	var out []Operation
	for _, r := range ProviderResources {
		if types[r.Type] {
			out = append(out, s.resourceOps(r.Type, r.Read, r.Source)...)
		}
	}
	out = append(out, s.providerRefs()...)
	return append(out, s.stateSecretsOps("kms:Decrypt")...)
}

// providerRefs are the provider reads of a stack that does not own it:
// the trust policies name its ARN, read by a lookup or given.
func (s Scope) providerRefs() []Operation {
	var out []Operation
	if !s.OwnsProvider {
		out = append(out, Operation{Action: "iam:GetOpenIDConnectProvider", Resource: s.provider(), Source: ProviderLookup})
	}
	if s.LooksUpProvider {
		out = append(out, Operation{Action: "iam:ListOpenIDConnectProviders", Resource: "*", Source: ProviderLookup})
	}
	// The deploy role's own role is read at every refresh.
	for _, a := range []string{"iam:GetRole", "iam:ListRolePolicies", "iam:GetRolePolicy", "iam:ListAttachedRolePolicies"} {
		out = append(out, Operation{Action: a, Resource: s.role(s.Names.DeployRole()), Source: providerSource + "internal/service/iam/role.go"})
	}
	return out
}

// DeployJob is what `up` and `destroy` need (every provider call on every
// resource type of the stack) plus the post-deploy stage the driver runs
// after `up` (DeployRuntime).
func DeployJob(s Scope) []Operation {
	types := s.stackTypes()
	var out []Operation
	for _, r := range ProviderResources {
		if !types[r.Type] {
			continue
		}
		for _, acts := range [][]string{r.Read, r.Create, r.Update, r.Delete} {
			out = append(out, s.resourceOps(r.Type, acts, r.Source)...)
		}
	}
	out = append(out, s.providerRefs()...)
	out = append(out, s.stateSecretsOps("kms:Decrypt", "kms:Encrypt")...)
	for _, ops := range DeployRuntime(s) {
		out = append(out, ops...)
	}
	return out
}

// OracleJob is the Oracle runtime role's job: OracleRuntime, flattened.
func OracleJob(s Scope) []Operation {
	var out []Operation
	for _, ops := range OracleRuntime(s) {
		out = append(out, ops...)
	}
	return out
}

// recorded is the Source of a runtime operation: the emulator's request
// counter while the tests run our code (permissions_test.go).
const recorded = "recorded: verify, verify/e2e and internal/postdeploy against a seeded emulator"

// runtime builds the API-keyed table of a runtime job.
type runtime struct {
	s   Scope
	ops map[string][]Operation
}

func (r *runtime) add(api, action string, resources []string, ctx map[string]string) {
	for _, res := range resources {
		r.ops[api] = append(r.ops[api], Operation{API: api, Action: action, Resource: res, Context: ctx, Source: recorded})
	}
}

// same adds APIs whose IAM action is the API's own name.
func (r *runtime) same(service string, resources []string, ctx map[string]string, verbs ...string) {
	for _, v := range verbs {
		r.add(service+"."+v, service+":"+v, resources, ctx)
	}
}

// readRuntime is what both runtime jobs share: the read-only verifier
// catalogue, the Oracle layer and the E2E cycle.
func readRuntime(s Scope) *runtime {
	r := &runtime{s: s, ops: map[string][]Operation{}}
	n, a := s.Names, s.Account
	var tables, withIndex []string
	for _, t := range n.Tables() {
		tables = append(tables, a.TableArn(t))
		withIndex = append(withIndex, a.TableArn(t))
	}
	withIndex = append(withIndex, a.TableArn(n.Table(TableFPEvents))+"/index/"+FindingIndex)
	r.same("dynamodb", tables, nil, "DescribeTable", "DescribeContinuousBackups", "DescribeTimeToLive", "Scan",
		"GetItem", "PutItem", "UpdateItem", "DeleteItem")
	r.same("dynamodb", withIndex, nil, "Query")
	key := []string{s.replacementKey()}
	r.same("kms", key, s.keyContext(), "DescribeKey", "GetKeyPolicy", "GetKeyRotationStatus")
	r.add("monitoring.DescribeAlarms", "cloudwatch:DescribeAlarms", []string{a.AlarmArn(n.Alarms()[0])}, nil)
	r.same("sns", []string{s.topic()}, nil, "GetTopicAttributes", "ListSubscriptionsByTopic")
	r.same("iam", []string{s.provider()}, nil, "GetOpenIDConnectProvider")
	r.same("iam", s.allRoleArns(), nil, "GetRole")
	r.same("ssm", []string{"*"}, nil, "DescribeParameters")
	nonce := []string{strings.TrimSuffix(s.params(), "*") + NonceBaseName + "1"}
	viaSSM := s.keyContext(CondViaService, a.ServiceEndpoint("ssm"))
	r.same("ssm", nonce, nil, "GetParameters")
	r.add("ssm.GetParameters", "kms:Decrypt", key, viaSSM)
	r.same("ssm", []string{s.paramPath()}, nil, "GetParametersByPath")
	r.add("ssm.GetParametersByPath", "kms:Decrypt", key, viaSSM)
	bucket, objects := []string{s.bucket()}, []string{s.bucket() + "/baselines/e2e.json"}
	r.add("s3.GetBucketVersioning", "s3:GetBucketVersioning", bucket, nil)
	r.add("s3.GetBucketEncryption", "s3:GetEncryptionConfiguration", bucket, nil)
	r.add("s3.GetPublicAccessBlock", "s3:GetBucketPublicAccessBlock", bucket, nil)
	r.add("s3.GetBucketPolicy", "s3:GetBucketPolicy", bucket, nil)
	r.add("s3.ListObjectVersions", "s3:ListBucketVersions", bucket, nil)
	r.add("s3.ListObjectsV2", "s3:ListBucket", bucket, nil)
	r.add("s3.GetObject", "s3:GetObject", objects, nil)
	r.add("s3.HeadObject", "s3:GetObject", objects, nil)
	r.add("s3.PutObject", "s3:PutObject", objects, nil)
	// The drift step removes every version of its baseline.
	r.add("s3.DeleteObject", "s3:DeleteObject", objects, nil)
	r.add("s3.DeleteObject", "s3:DeleteObjectVersion", objects, nil)
	viaS3 := s.keyContext(CondViaService, a.ServiceEndpoint("s3"))
	r.add("s3.PutObject", "kms:GenerateDataKey", key, viaS3)
	r.add("s3.GetObject", "kms:Decrypt", key, viaS3)
	// GetCallerIdentity needs no permission.
	r.ops["sts.GetCallerIdentity"] = []Operation{}
	return r
}

// OracleRuntime maps each API the Oracle role's job calls to the
// authorisations it needs.
func OracleRuntime(s Scope) map[string][]Operation {
	r := readRuntime(s)
	// The Oracle publishes its own alerts to the encrypted topic.
	r.add("sns.Publish", "sns:Publish", []string{s.topic()}, nil)
	viaSNS := s.keyContext(CondViaService, s.Account.ServiceEndpoint("sns"))
	r.add("sns.Publish", "kms:GenerateDataKey", []string{s.replacementKey()}, viaSNS)
	r.add("sns.Publish", "kms:Decrypt", []string{s.replacementKey()}, viaSNS)
	return r.ops
}

// DeployRuntime maps each API of the post-deploy stage (nonce bootstrap and
// rotation, the whole verifier catalogue with the alert check, the E2E
// cycle) to the authorisations it needs.
func DeployRuntime(s Scope) map[string][]Operation {
	r := readRuntime(s)
	key := []string{s.replacementKey()}
	nonce := []string{strings.TrimSuffix(s.params(), "*") + NonceBaseName + "2"}
	r.add("ssm.PutParameter", "ssm:PutParameter", nonce, nil)
	// The prune deletes superseded versions past their grace period.
	r.add("ssm.DeleteParameters", "ssm:DeleteParameters", []string{strings.TrimSuffix(s.params(), "*") + NonceBaseName + "1"}, nil)
	r.add("ssm.PutParameter", "kms:Encrypt", key, s.keyContext(CondViaService, s.Account.ServiceEndpoint("ssm")))
	r.add("sns.Publish", "sns:Publish", []string{s.topic()}, nil)
	viaSNS := s.keyContext(CondViaService, s.Account.ServiceEndpoint("sns"))
	r.add("sns.Publish", "kms:GenerateDataKey", key, viaSNS)
	r.add("sns.Publish", "kms:Decrypt", key, viaSNS)
	if s.VerifyQueue {
		q := []string{s.queue()}
		r.add("sqs.ReceiveMessage", "sqs:ReceiveMessage", q, nil)
		r.add("sqs.ReceiveMessage", "kms:Decrypt", key, s.keyContext(CondViaService, s.Account.ServiceEndpoint("sqs")))
		r.add("sqs.DeleteMessageBatch", "sqs:DeleteMessage", q, nil)
	}
	return r.ops
}

// Actions lists the distinct actions of operations, sorted.
func Actions(ops []Operation) []string {
	seen := map[string]bool{}
	for _, o := range ops {
		seen[o.Action] = true
	}
	out := make([]string, 0, len(seen))
	for a := range seen {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}
