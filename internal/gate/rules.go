package gate

import (
	"fmt"
	"sort"
	"strings"

	"github.com/mirror-dissonance/mirror-infra/spec"
)

// Resource type tokens the rules know.
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

// The resource-count band of SPEC 2 when Options leave it zero: the
// program declares 28 AWS resources (the baselines bucket with its five
// configuration resources, three roles with their policies and the
// permissions boundary among them); the band leaves room for the optional
// e-mail subscription, OIDC provider and verification subscriber (queue,
// policy, subscription) and catches a dropped or duplicated component.
const (
	DefaultMinResources = 24
	DefaultMaxResources = 34
)

// UnknownValue is how the engine shows an input not known until apply.
const UnknownValue = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

// Rule ids, stable for reports and tests.
const (
	RuleTablePITR          = "table-pitr"
	RuleTableSSE           = "table-sse-cmk"
	RuleTableBilling       = "table-billing"
	RuleTableDeletion      = "table-deletion-protection"
	RuleTableProtect       = "table-protect"
	RuleTableCount         = "table-count"
	RuleKeyRotation        = "kms-rotation"
	RuleTopicEncrypted     = "topic-encrypted"
	RuleAlarmCount         = "alarm-count"
	RuleAlarmActions       = "alarm-actions"
	RuleAlarmMissingData   = "alarm-missing-data"
	RuleOIDCAudience       = "oidc-audience"
	RuleOIDCSubject        = "oidc-subject"
	RuleWriteRolePR        = "write-role-pull-request"
	RulePreviewReadOnly    = "preview-read-only"
	RuleNoStarPolicy       = "iam-no-star"
	RuleStatefulChange     = "stateful-delete-replace"
	RuleResourceCount      = "resource-count"
	RuleUnverifiableInputs = "unverifiable-input"

	RuleBucketPresent      = "baselines-bucket"
	RuleBucketVersioned    = "baselines-versioned"
	RuleBucketSSE          = "baselines-sse-kms"
	RuleBucketPublicAccess = "baselines-public-access"
	RuleBucketTLS          = "baselines-tls-only"
	RuleBucketProtect      = "baselines-protect"
)

// Rules lists every rule id with what it protects, for --help and docs.
var Rules = map[string]string{
	RuleTablePITR:        "every table has point-in-time recovery on",
	RuleTableSSE:         "every table is encrypted with a customer-managed KMS key",
	RuleTableBilling:     "every table is PAY_PER_REQUEST",
	RuleTableDeletion:    "table deletion protection is as configured (always on in production)",
	RuleTableProtect:     "every table has Pulumi protect on",
	RuleTableCount:       "exactly three tables",
	RuleKeyRotation:      "the KMS key rotates",
	RuleTopicEncrypted:   "the ops topic is KMS-encrypted",
	RuleAlarmCount:       "exactly six alarms",
	RuleAlarmActions:     "every alarm's alarm and OK actions go to the ops topic",
	RuleAlarmMissingData: "alarms treat missing data as notBreaching",
	RuleOIDCAudience:     "role trust requires aud = sts.amazonaws.com exactly",
	RuleOIDCSubject:      "role trust lists exact subjects, no wildcards",
	RuleWriteRolePR:      "a write role never trusts pull_request",
	RulePreviewReadOnly:  "the preview role's policy only describes, gets and lists",
	RuleNoStarPolicy:     "no policy allows action * on resource *",
	RuleStatefulChange:   "no delete or replace of a table, the key or the baselines bucket unless named by the operator",
	RuleResourceCount:    "the AWS resource count is within the expected band",
	RuleAdoption:         "after an import (adopt), no create of an imported table, key or bucket, and no replace or delete of one",
	RuleEphemeral:        "only acc-<run> acceptance stacks may be ephemeral (no protect, no deletion protection)",
	RuleRoleBoundary:     "every role the deploy role manages carries the stack's permissions boundary",
	RuleRoleSelfChange:   "no role may change its own policies, trust or boundary, and roles are changed only with the boundary attached",
	RuleVerifyQueue:      "the verification queue is KMS-encrypted and accepts messages from the ops topic only",

	RuleBucketPresent:      "the plan keeps the baselines bucket",
	RuleBucketVersioned:    "the baselines bucket is versioned",
	RuleBucketSSE:          "the baselines bucket is encrypted with SSE-KMS, the environment key and a bucket key",
	RuleBucketPublicAccess: "the baselines bucket blocks all public access",
	RuleBucketTLS:          "the baselines bucket's policy denies every request without TLS",
	RuleBucketProtect:      "the baselines bucket has Pulumi protect on",
}

// Failed reports whether any finding fails the gate (unverifiable inputs
// are reported but do not fail it).
func Failed(fs []Finding) bool {
	for _, f := range fs {
		if !f.Unverified {
			return true
		}
	}
	return false
}

// Evaluate applies every rule to the planned resources.
func Evaluate(res []Resource, opts Options) []Finding {
	e := &evaluator{opts: opts}
	if e.opts.MinResources == 0 {
		e.opts.MinResources = DefaultMinResources
	}
	if e.opts.MaxResources == 0 {
		e.opts.MaxResources = DefaultMaxResources
	}
	names := spec.For(opts.Environment)
	e.ephemeral()
	var tables, alarms, aws int
	var kept []Resource // what the plan keeps: neither deleted nor read
	for _, r := range res {
		if r.Op == OpDelete || r.Op == OpReplace {
			e.stateful(r)
		}
		if r.Op == OpDelete || r.Op == OpRead {
			continue
		}
		kept = append(kept, r)
		if strings.HasPrefix(r.Type, "aws:") {
			aws++
		}
		switch r.Type {
		case TypeTable:
			tables++
			e.table(r)
		case TypeKey:
			if b, known := e.boolean(r, "enableKeyRotation"); known && !b {
				e.fail(RuleKeyRotation, r, "key rotation is off (enableKeyRotation must be true)")
			}
		case TypeTopic:
			if v, known := e.str(r, "kmsMasterKeyId"); known && v == "" {
				e.fail(RuleTopicEncrypted, r, "topic has no kmsMasterKeyId: alerts would be stored unencrypted")
			}
		case TypeAlarm:
			alarms++
			e.alarm(r, names)
		case TypeRole:
			e.role(r, names)
		case TypeRolePolicy:
			e.policyDoc(r, "policy", names)
		case TypeTopicPolicy:
			e.policyDoc(r, "policy", names)
		}
	}
	if tables != len(spec.TableSchemas) {
		e.fail(RuleTableCount, Resource{}, fmt.Sprintf("the plan keeps %d tables; SPEC 2.2 has exactly three", tables))
	}
	if alarms != len(names.ThrottleAlarms()) {
		e.fail(RuleAlarmCount, Resource{}, fmt.Sprintf("the plan keeps %d alarms; SPEC 2.4 has exactly six", alarms))
	}
	e.baselines(kept, names)
	e.access(kept, names)
	if aws < e.opts.MinResources || aws > e.opts.MaxResources {
		e.fail(RuleResourceCount, Resource{}, fmt.Sprintf("the plan keeps %d AWS resources; expected %d to %d", aws, e.opts.MinResources, e.opts.MaxResources))
	}
	sort.SliceStable(e.out, func(i, j int) bool { return e.out[i].Rule < e.out[j].Rule })
	return e.out
}

type evaluator struct {
	opts Options
	out  []Finding
}

func label(r Resource) string {
	if r.Name == "" {
		return ""
	}
	return r.Name + " (" + r.Type + ")"
}

func (e *evaluator) fail(rule string, r Resource, msg string) {
	e.out = append(e.out, Finding{Rule: rule, Resource: label(r), Message: msg})
}

func (e *evaluator) unknown(r Resource, path string) {
	e.out = append(e.out, Finding{Rule: RuleUnverifiableInputs, Resource: label(r), Unverified: true,
		Message: fmt.Sprintf("%s is not known until apply; the verifier checks it after up", path)})
}

// lookup walks a dotted path through nested maps.
// Input returns the planned input at a dotted path
// ("pointInTimeRecovery.enabled"), nil when any part is missing.
func Input(inputs map[string]any, path string) any {
	v, _ := lookup(inputs, path)
	return v
}

func lookup(m map[string]any, path string) (any, bool) {
	var cur any = m
	for _, p := range strings.Split(path, ".") {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		cur, ok = mm[p]
		if !ok {
			return nil, false
		}
	}
	return cur, true
}

// boolean returns the value at path; missing is false; known is false for
// an unknown value (then a finding of it is recorded).
func (e *evaluator) boolean(r Resource, path string) (bool, bool) {
	v, ok := lookup(r.Inputs, path)
	if !ok || v == nil {
		return false, true
	}
	switch t := v.(type) {
	case bool:
		return t, true
	case string:
		if t == UnknownValue {
			e.unknown(r, path)
			return false, false
		}
		return t == "true", true
	}
	return false, true
}

func (e *evaluator) str(r Resource, path string) (string, bool) {
	v, ok := lookup(r.Inputs, path)
	if !ok || v == nil {
		return "", true
	}
	s, _ := v.(string)
	if s == UnknownValue {
		e.unknown(r, path)
		return "", false
	}
	return s, true
}

func (e *evaluator) table(r Resource) {
	if b, known := e.boolean(r, "pointInTimeRecovery.enabled"); known && !b {
		e.fail(RuleTablePITR, r, "point-in-time recovery is off")
	}
	enabled, known := e.boolean(r, "serverSideEncryption.enabled")
	if known {
		keyArn, kk := e.str(r, "serverSideEncryption.kmsKeyArn")
		switch {
		case !enabled:
			e.fail(RuleTableSSE, r, "server-side encryption with a customer-managed key is off (the AWS-owned key is used)")
		case kk && keyArn == "":
			e.fail(RuleTableSSE, r, "server-side encryption names no KMS key, so the AWS-managed key would be used")
		case kk && strings.Contains(keyArn, "alias/aws/"):
			e.fail(RuleTableSSE, r, fmt.Sprintf("encrypted with the AWS-managed key %s, not the environment CMK", keyArn))
		}
	}
	if v, known := e.str(r, "billingMode"); known && v != spec.BillingMode {
		e.fail(RuleTableBilling, r, fmt.Sprintf("billing mode is %q, want %s", v, spec.BillingMode))
	}
	want := e.opts.DeletionProtection || e.opts.Environment == "production"
	if b, known := e.boolean(r, "deletionProtectionEnabled"); known && b != want {
		e.fail(RuleTableDeletion, r, fmt.Sprintf("deletion protection is %t, configured %t", b, want))
	}
	e.protect(RuleTableProtect, r, "the table")
}

func (e *evaluator) alarm(r Resource, names spec.Names) {
	if v, known := e.str(r, "treatMissingData"); known && v != spec.AlarmTreatMissingData {
		e.fail(RuleAlarmMissingData, r, fmt.Sprintf("treatMissingData is %q, want %s (idle tables must sit in OK)", v, spec.AlarmTreatMissingData))
	}
	for _, key := range []string{"alarmActions", "okActions"} {
		v, _ := lookup(r.Inputs, key)
		list, _ := v.([]any)
		if len(list) == 0 {
			e.fail(RuleAlarmActions, r, key+" is empty: the alarm notifies nobody")
			continue
		}
		for _, a := range list {
			s, _ := a.(string)
			switch {
			case s == UnknownValue:
				e.unknown(r, key)
			case !strings.HasSuffix(s, ":"+names.Topic()):
				e.fail(RuleAlarmActions, r, fmt.Sprintf("%s contains %q, not the ops topic %s", key, s, names.Topic()))
			}
		}
	}
}

func (e *evaluator) parsePolicy(r Resource, key string) ([]spec.Statement, bool) {
	v, ok := lookup(r.Inputs, key)
	if !ok || v == nil {
		return nil, false
	}
	if t, _ := v.(string); t == UnknownValue {
		e.unknown(r, key)
		return nil, false
	}
	doc, err := spec.ParsePolicy(v)
	if err != nil {
		e.fail(RuleNoStarPolicy, r, fmt.Sprintf("%s is not a readable policy document: %v", key, err))
		return nil, false
	}
	return doc.Statement, true
}

func (e *evaluator) policyDoc(r Resource, key string, names spec.Names) {
	sts, ok := e.parsePolicy(r, key)
	if !ok {
		return
	}
	readOnly := r.Type == TypeRolePolicy && (r.Name == "github-preview-policy" || inputIs(r, "name", names.PreviewRole()) || inputIs(r, "role", names.PreviewRole()))
	for _, s := range sts {
		if s.Effect != "Allow" {
			continue
		}
		starAction := len(s.NotAction) > 0
		for _, a := range s.Action {
			if a == "*" || a == "*:*" {
				starAction = true
			}
		}
		starResource := len(s.Resource) == 0
		for _, res := range s.Resource {
			if res == "*" {
				starResource = true
			}
		}
		if starAction && starResource && s.Principal == nil {
			e.fail(RuleNoStarPolicy, r, fmt.Sprintf("statement %q allows every action on every resource", s.Sid))
		}
		if readOnly {
			for _, a := range s.Action {
				if spec.IsWrite(a) {
					e.fail(RulePreviewReadOnly, r, fmt.Sprintf("the preview role may %s; it must only describe, get, list (and decrypt the state)", a))
				}
			}
		}
	}
}

func inputIs(r Resource, key, want string) bool {
	v, _ := lookup(r.Inputs, key)
	s, _ := v.(string)
	return s == want
}

func (e *evaluator) role(r Resource, names spec.Names) {
	sts, ok := e.parsePolicy(r, "assumeRolePolicy")
	if !ok {
		return
	}
	roleName, _ := e.str(r, "name")
	isPreview := roleName == names.PreviewRole()
	for _, s := range sts {
		if s.Effect != "Allow" || len(s.Principals("Federated")) == 0 {
			continue
		}
		aud := s.ConditionValues("StringEquals", spec.OIDCAudienceKey)
		if len(aud) != 1 || aud[0] != spec.GitHubOIDCAudience {
			e.fail(RuleOIDCAudience, r, fmt.Sprintf("trust must require %s = %s exactly (got %v)", spec.OIDCAudienceKey, spec.GitHubOIDCAudience, aud))
		}
		for _, op := range s.HasCondition(spec.OIDCSubjectKey) {
			if op != "StringEquals" {
				e.fail(RuleOIDCSubject, r, fmt.Sprintf("subjects are matched with %s; only exact StringEquals is allowed", op))
			}
		}
		subs := s.ConditionValues("StringEquals", spec.OIDCSubjectKey)
		if len(subs) == 0 {
			e.fail(RuleOIDCSubject, r, "trust lists no exact subject: any workflow of any repository with a token could assume it")
		}
		for _, sub := range subs {
			if strings.ContainsAny(sub, "*?") {
				e.fail(RuleOIDCSubject, r, fmt.Sprintf("subject %q has a wildcard", sub))
			}
			if spec.IsPullRequestSubject(sub) && !isPreview {
				e.fail(RuleWriteRolePR, r, fmt.Sprintf("role %s trusts %q: pull requests must never reach a write role", roleName, sub))
			}
		}
	}
}

func (e *evaluator) stateful(r Resource) {
	if r.Type != TypeTable && r.Type != TypeKey && r.Type != TypeBucket {
		return
	}
	for _, a := range e.opts.AllowStateful {
		if a == r.Name || a == r.URN {
			return
		}
	}
	e.fail(RuleStatefulChange, r, fmt.Sprintf("the plan would %s %s, a stateful resource; name it with --allow-replace %s to proceed", r.Op, r.Name, r.Name))
}
