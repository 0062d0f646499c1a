package rehearse

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/mirror-dissonance/mirror-infra/awsclient"
	"github.com/mirror-dissonance/mirror-infra/internal/gate"
	"github.com/mirror-dissonance/mirror-infra/spec"
)

// Provisioner creates each resource the program declares in an AWS
// endpoint (the emulator), with the inputs the program declared, and
// remembers every input it could not apply.
type Provisioner struct {
	Region    string
	AccountID string

	ddb *dynamodb.Client
	kms *kms.Client
	sns *sns.Client
	cw  *cloudwatch.Client
	iam *iam.Client
	s3  *s3.Client
	sqs *sqs.Client
	sts *sts.Client

	mu        sync.Mutex
	unapplied map[string][]string // "type name" -> input paths
	// unreadable are properties the endpoint cannot read back.
	unreadable []string
	created    []created
}

// created is one resource the provisioner made, for Teardown.
type created struct {
	typ, id string
	in      map[string]any
}

// NewProvisioner builds a provisioner on cfg.
func NewProvisioner(cfg aws.Config, account string) *Provisioner {
	return &Provisioner{
		Region: cfg.Region, AccountID: account,
		ddb: dynamodb.NewFromConfig(cfg), kms: kms.NewFromConfig(cfg), sns: sns.NewFromConfig(cfg),
		cw: cloudwatch.NewFromConfig(cfg), iam: iam.NewFromConfig(cfg), sqs: sqs.NewFromConfig(cfg), sts: sts.NewFromConfig(cfg),
		// A custom endpoint (the emulator) has no per-bucket host names.
		s3:        awsclient.NewS3(cfg),
		unapplied: map[string][]string{},
	}
}

func (p *Provisioner) account() spec.Account { return spec.Account{ID: p.AccountID, Region: p.Region} }

// Account implements mockrun.Provisioner.
func (p *Provisioner) Account() string { return p.AccountID }

// Unapplied lists, per resource, the declared inputs the emulator mapping
// did not apply, sorted.
func (p *Provisioner) Unapplied() map[string][]string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string][]string{}
	for k, v := range p.unapplied {
		out[k] = append([]string(nil), v...)
	}
	return out
}

// AccountOIDCProvider creates the account-wide GitHub OIDC provider that
// a stack with createOidcProvider=false expects another stack to own.
func (p *Provisioner) AccountOIDCProvider(ctx context.Context) error {
	_, err := p.iam.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{
		Url: aws.String(spec.GitHubOIDCURL), ClientIDList: []string{spec.GitHubOIDCAudience},
	})
	if err != nil {
		return fmt.Errorf("creating the account's GitHub OIDC provider in the emulator: %w", err)
	}
	p.mu.Lock()
	p.created = append(p.created, created{typ: gate.TypeOIDCProvider, id: p.account().OIDCProviderArn()})
	p.mu.Unlock()
	return nil
}

// Teardown deletes everything the provisioner created, newest first, so
// that the next rehearsal in the same process starts from an empty account
// (the emulator keeps its state per process). Every error is returned.
func (p *Provisioner) Teardown(ctx context.Context) error {
	p.mu.Lock()
	list := append([]created(nil), p.created...)
	p.created = nil
	p.mu.Unlock()
	var errs []error
	for i := len(list) - 1; i >= 0; i-- {
		c := list[i]
		var err error
		if c.typ == gate.TypeTable {
			// Deletion protection is on by design; lift it first.
			_, err = p.ddb.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String(c.id), DeletionProtectionEnabled: aws.Bool(false)})
		}
		if err == nil {
			err = p.deleteOne(ctx, c.typ, c.id, c.in)
		}
		if err != nil && !isNotFound(err) {
			errs = append(errs, fmt.Errorf("deleting %s %s: %w", c.typ, c.id, err))
		}
	}
	return errors.Join(errs...)
}

// deleteOne deletes one resource by type and id; state holds its
// properties (the key's deletion window).
func (p *Provisioner) deleteOne(ctx context.Context, typ, id string, state map[string]any) error {
	var err error
	switch typ {
	case gate.TypeTable:
		if _, err = p.ddb.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(id)}); err == nil {
			err = p.waitTableGone(ctx, id)
		}
	case gate.TypeKey:
		days := int32(7)
		if d := num(state["deletionWindowInDays"]); d > 0 {
			days = int32(d)
		}
		_, err = p.kms.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: aws.String(id), PendingWindowInDays: aws.Int32(days)})
	case gate.TypeAlias:
		_, err = p.kms.DeleteAlias(ctx, &kms.DeleteAliasInput{AliasName: aws.String(id)})
	case gate.TypeTopic:
		_, err = p.sns.DeleteTopic(ctx, &sns.DeleteTopicInput{TopicArn: aws.String(id)})
	case gate.TypeTopicPolicy:
		err = p.deleteTopicPolicy(ctx, id)
	case gate.TypeSubscription:
		_, err = p.sns.Unsubscribe(ctx, &sns.UnsubscribeInput{SubscriptionArn: aws.String(id)})
	case gate.TypeAlarm:
		_, err = p.cw.DeleteAlarms(ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{id}})
	case gate.TypeDashboard:
		_, err = p.cw.DeleteDashboards(ctx, &cloudwatch.DeleteDashboardsInput{DashboardNames: []string{id}})
	case gate.TypeOIDCProvider:
		_, err = p.iam.DeleteOpenIDConnectProvider(ctx, &iam.DeleteOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(id)})
	case gate.TypeRole:
		_, err = p.iam.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String(id)})
	case gate.TypePolicy:
		_, err = p.iam.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(id)})
	case gate.TypeQueue:
		_, err = p.sqs.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(id)})
	case gate.TypeQueuePolicy:
		_, err = p.sqs.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(id),
			Attributes: map[string]string{string(sqstypes.QueueAttributeNamePolicy): ""}})
	case gate.TypeRolePolicy:
		role, name, _ := strings.Cut(id, ":")
		_, err = p.iam.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String(name)})
	case gate.TypeBucket:
		err = p.deleteBucket(ctx, id)
	case gate.TypeBucketVersioning:
		// Versioning cannot be removed from a bucket, only suspended.
		_, err = p.s3.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(id),
			VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusSuspended}})
	case gate.TypeBucketEncryption:
		_, err = p.s3.DeleteBucketEncryption(ctx, &s3.DeleteBucketEncryptionInput{Bucket: aws.String(id)})
	case gate.TypeBucketPublicAccessBlock:
		_, err = p.s3.DeletePublicAccessBlock(ctx, &s3.DeletePublicAccessBlockInput{Bucket: aws.String(id)})
	case gate.TypeBucketPolicy:
		_, err = p.s3.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: aws.String(id)})
	case gate.TypeBucketLifecycle:
		_, err = p.s3.DeleteBucketLifecycle(ctx, &s3.DeleteBucketLifecycleInput{Bucket: aws.String(id)})
	}
	return err
}

// inputs wraps declared inputs and tracks which were read.
type inputs struct {
	m    map[string]any
	used map[string]bool
}

func (in *inputs) get(key string) any {
	in.used[key] = true
	return in.m[key]
}

func (in *inputs) str(key string) string { s, _ := in.get(key).(string); return s }

func (in *inputs) boolean(key string) bool { b, _ := in.get(key).(bool); return b }

func (in *inputs) num(key string) float64 { f, _ := in.get(key).(float64); return f }

func (in *inputs) obj(key string) map[string]any { m, _ := in.get(key).(map[string]any); return m }

func (in *inputs) list(key string) []any { l, _ := in.get(key).([]any); return l }

func (in *inputs) strs(key string) []string {
	var out []string
	for _, v := range in.list(key) {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// ignore marks inputs that have no effect in the emulator and need none
// (for example streamEnabled=false, which is the default).
func (in *inputs) ignore(keys ...string) {
	for _, k := range keys {
		in.used[k] = true
	}
}

func (in *inputs) leftovers() []string {
	var out []string
	for k := range in.m {
		if !in.used[k] {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// Create implements mockrun.Provisioner.
func (p *Provisioner) Create(ctx context.Context, typ, name string, raw map[string]any) (string, map[string]any, error) {
	return p.create(ctx, typ, name, raw, true)
}

// create provisions a resource; record false leaves it out of Teardown
// (an adopted resource whose settings are applied in place: its owner
// removes it).
func (p *Provisioner) create(ctx context.Context, typ, name string, raw map[string]any, record bool) (string, map[string]any, error) {
	id, out, left, err := p.apply(ctx, typ, name, raw)
	if err != nil {
		return "", nil, err
	}
	if len(left) > 0 {
		p.mu.Lock()
		p.unapplied[typ+" "+name] = left
		p.mu.Unlock()
	}
	if record {
		p.mu.Lock()
		p.created = append(p.created, created{typ: typ, id: id, in: raw})
		p.mu.Unlock()
	}
	return id, out, nil
}

// apply makes one resource from its declared inputs and returns the
// inputs it did not apply.
func (p *Provisioner) apply(ctx context.Context, typ, name string, raw map[string]any) (string, map[string]any, []string, error) {
	in := &inputs{m: raw, used: map[string]bool{}}
	var (
		id  string
		out map[string]any
		err error
	)
	switch typ {
	case gate.TypeKey:
		id, out, err = p.key(ctx, in)
	case gate.TypeAlias:
		id, out, err = p.alias(ctx, in)
	case gate.TypeTable:
		id, out, err = p.table(ctx, in)
	case gate.TypeTopic:
		id, out, err = p.topic(ctx, in)
	case gate.TypeTopicPolicy:
		_, err = p.sns.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{
			TopicArn: aws.String(in.str("arn")), AttributeName: aws.String("Policy"), AttributeValue: aws.String(in.str("policy")),
		})
		id, out = in.str("arn"), map[string]any{}
	case gate.TypeSubscription:
		var res *sns.SubscribeOutput
		res, err = p.sns.Subscribe(ctx, &sns.SubscribeInput{
			TopicArn: aws.String(in.str("topic")), Protocol: aws.String(in.str("protocol")), Endpoint: aws.String(in.str("endpoint")),
		})
		if err == nil {
			id = aws.ToString(res.SubscriptionArn)
			out = map[string]any{"arn": id}
			if _, ok := in.m["rawMessageDelivery"]; ok {
				_, err = p.sns.SetSubscriptionAttributes(ctx, &sns.SetSubscriptionAttributesInput{SubscriptionArn: res.SubscriptionArn,
					AttributeName: aws.String("RawMessageDelivery"), AttributeValue: aws.String(fmt.Sprint(in.boolean("rawMessageDelivery")))})
			}
		}
	case gate.TypeAlarm:
		id, out, err = p.alarm(ctx, in)
	case gate.TypeOIDCProvider:
		var res *iam.CreateOpenIDConnectProviderOutput
		res, err = p.iam.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{
			Url: aws.String(in.str("url")), ClientIDList: in.strs("clientIdLists"), ThumbprintList: in.strs("thumbprintLists"),
			Tags: iamTags(in.obj("tags")),
		})
		if err == nil {
			id = aws.ToString(res.OpenIDConnectProviderArn)
			out = map[string]any{"arn": id}
		}
	case gate.TypeRole:
		var res *iam.CreateRoleOutput
		input := &iam.CreateRoleInput{
			RoleName: aws.String(in.str("name")), AssumeRolePolicyDocument: aws.String(in.str("assumeRolePolicy")),
			Description: aws.String(in.str("description")), MaxSessionDuration: aws.Int32(int32(in.num("maxSessionDuration"))),
			Tags: iamTags(in.obj("tags")),
		}
		if b := in.str("permissionsBoundary"); b != "" {
			input.PermissionsBoundary = aws.String(b)
		}
		res, err = p.iam.CreateRole(ctx, input)
		if err == nil {
			id = aws.ToString(res.Role.RoleName)
			out = map[string]any{"arn": aws.ToString(res.Role.Arn), "uniqueId": aws.ToString(res.Role.RoleId)}
		}
	case gate.TypeRolePolicy:
		_, err = p.iam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{
			RoleName: aws.String(in.str("role")), PolicyName: aws.String(in.str("name")), PolicyDocument: aws.String(in.str("policy")),
		})
		id, out = in.str("role")+":"+in.str("name"), map[string]any{}
	case gate.TypePolicy:
		var res *iam.CreatePolicyOutput
		res, err = p.iam.CreatePolicy(ctx, &iam.CreatePolicyInput{
			PolicyName: aws.String(in.str("name")), PolicyDocument: aws.String(in.str("policy")),
			Description: aws.String(in.str("description")), Tags: iamTags(in.obj("tags")),
		})
		if err == nil {
			id = aws.ToString(res.Policy.Arn)
			out = map[string]any{"arn": id}
		}
	case gate.TypeQueue:
		id, out, err = p.queue(ctx, in)
	case gate.TypeQueuePolicy:
		id = in.str("queueUrl")
		_, err = p.sqs.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(id),
			Attributes: map[string]string{string(sqstypes.QueueAttributeNamePolicy): in.str("policy")}})
		out = map[string]any{}
	case gate.TypeBucket:
		id, out, err = p.bucket(ctx, in)
	case gate.TypeBucketVersioning, gate.TypeBucketEncryption, gate.TypeBucketPublicAccessBlock,
		gate.TypeBucketPolicy, gate.TypeBucketLifecycle:
		id, out, err = p.bucketConfig(ctx, typ, in)
	case gate.TypeDashboard:
		id = in.str("dashboardName")
		_, err = p.cw.PutDashboard(ctx, &cloudwatch.PutDashboardInput{DashboardName: aws.String(id), DashboardBody: aws.String(in.str("dashboardBody"))})
		out = map[string]any{"dashboardArn": p.account().DashboardArn(id)}
	default:
		// A type the mapping does not know: recorded, every input listed
		// as not applied.
		id, out = name+"-unprovisioned", map[string]any{}
	}
	if err != nil {
		return "", nil, nil, fmt.Errorf("provisioning %s %s in the emulator: %w", typ, name, err)
	}
	return id, out, in.leftovers(), nil
}

func (p *Provisioner) key(ctx context.Context, in *inputs) (string, map[string]any, error) {
	res, err := p.kms.CreateKey(ctx, &kms.CreateKeyInput{
		Description: aws.String(in.str("description")), Policy: aws.String(in.str("policy")), Tags: kmsTags(in.obj("tags")),
	})
	if err != nil {
		return "", nil, err
	}
	id := aws.ToString(res.KeyMetadata.KeyId)
	if in.boolean("enableKeyRotation") {
		if _, err := p.kms.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: aws.String(id)}); err != nil {
			return "", nil, fmt.Errorf("enabling rotation: %w", err)
		}
	}
	// Scheduled deletion only matters at destroy time; the window is
	// recorded as applied because the emulator has nothing to hold it.
	in.ignore("deletionWindowInDays")
	return id, map[string]any{"arn": aws.ToString(res.KeyMetadata.Arn), "keyId": id}, nil
}

// queue creates the verification queue with its key and retention.
func (p *Provisioner) queue(ctx context.Context, in *inputs) (string, map[string]any, error) {
	attrs := map[string]string{}
	if k := in.str("kmsMasterKeyId"); k != "" {
		attrs[string(sqstypes.QueueAttributeNameKmsMasterKeyId)] = k
	}
	if r := in.num("messageRetentionSeconds"); r > 0 {
		attrs[string(sqstypes.QueueAttributeNameMessageRetentionPeriod)] = fmt.Sprint(int(r))
	}
	res, err := p.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(in.str("name")), Attributes: attrs, Tags: stringTags(in.obj("tags"))})
	if err != nil {
		return "", nil, err
	}
	url := aws.ToString(res.QueueUrl)
	a, err := p.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: res.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		return "", nil, fmt.Errorf("reading the ARN of queue %s: %w", url, err)
	}
	return url, map[string]any{"url": url, "arn": a.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]}, nil
}

func stringTags(m map[string]any) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = fmt.Sprint(v)
	}
	return out
}

func (p *Provisioner) alias(ctx context.Context, in *inputs) (string, map[string]any, error) {
	name := in.str("name")
	if _, err := p.kms.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String(name), TargetKeyId: aws.String(in.str("targetKeyId"))}); err != nil {
		return "", nil, err
	}
	return name, map[string]any{"arn": p.account().KeyAliasArn(name)}, nil
}

func (p *Provisioner) table(ctx context.Context, in *inputs) (string, map[string]any, error) {
	name := in.str("name")
	input := &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: ddbtypes.BillingMode(in.str("billingMode")),
		KeySchema:   []ddbtypes.KeySchemaElement{{AttributeName: aws.String(in.str("hashKey")), KeyType: ddbtypes.KeyTypeHash}},
		Tags:        ddbTags(in.obj("tags")),
	}
	if rk := in.str("rangeKey"); rk != "" {
		input.KeySchema = append(input.KeySchema, ddbtypes.KeySchemaElement{AttributeName: aws.String(rk), KeyType: ddbtypes.KeyTypeRange})
	}
	for _, a := range in.list("attributes") {
		m, _ := a.(map[string]any)
		input.AttributeDefinitions = append(input.AttributeDefinitions, ddbtypes.AttributeDefinition{
			AttributeName: aws.String(fmt.Sprint(m["name"])), AttributeType: ddbtypes.ScalarAttributeType(fmt.Sprint(m["type"])),
		})
	}
	for _, g := range in.list("globalSecondaryIndexes") {
		m, _ := g.(map[string]any)
		ks := []ddbtypes.KeySchemaElement{{AttributeName: aws.String(fmt.Sprint(m["hashKey"])), KeyType: ddbtypes.KeyTypeHash}}
		if rk, _ := m["rangeKey"].(string); rk != "" {
			ks = append(ks, ddbtypes.KeySchemaElement{AttributeName: aws.String(rk), KeyType: ddbtypes.KeyTypeRange})
		}
		input.GlobalSecondaryIndexes = append(input.GlobalSecondaryIndexes, ddbtypes.GlobalSecondaryIndex{
			IndexName: aws.String(fmt.Sprint(m["name"])), KeySchema: ks,
			Projection: &ddbtypes.Projection{ProjectionType: ddbtypes.ProjectionType(fmt.Sprint(m["projectionType"]))},
		})
	}
	if sse := in.obj("serverSideEncryption"); sse != nil {
		enabled, _ := sse["enabled"].(bool)
		spec := &ddbtypes.SSESpecification{Enabled: aws.Bool(enabled)}
		if k, _ := sse["kmsKeyArn"].(string); enabled && k != "" {
			spec.SSEType, spec.KMSMasterKeyId = ddbtypes.SSETypeKms, aws.String(k)
		}
		input.SSESpecification = spec
	}
	if _, ok := in.m["deletionProtectionEnabled"]; ok {
		input.DeletionProtectionEnabled = aws.Bool(in.boolean("deletionProtectionEnabled"))
	}
	if in.boolean("streamEnabled") {
		input.StreamSpecification = &ddbtypes.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: ddbtypes.StreamViewType(in.str("streamViewType"))}
	}
	res, err := p.ddb.CreateTable(ctx, input)
	if err != nil {
		return "", nil, err
	}
	// TTL and PITR can be set once the table is ACTIVE.
	if err := p.waitTableActive(ctx, name); err != nil {
		return "", nil, err
	}
	if ttl := in.obj("ttl"); ttl != nil {
		if on, _ := ttl["enabled"].(bool); on {
			if _, err := p.ddb.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
				TableName:               aws.String(name),
				TimeToLiveSpecification: &ddbtypes.TimeToLiveSpecification{Enabled: aws.Bool(true), AttributeName: aws.String(fmt.Sprint(ttl["attributeName"]))},
			}); err != nil {
				return "", nil, fmt.Errorf("enabling TTL on %s: %w", name, err)
			}
		}
	}
	if pitr := in.obj("pointInTimeRecovery"); pitr != nil {
		if on, _ := pitr["enabled"].(bool); on {
			if _, err := p.ddb.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{
				TableName:                        aws.String(name),
				PointInTimeRecoverySpecification: &ddbtypes.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(true)},
			}); err != nil {
				return "", nil, fmt.Errorf("enabling PITR on %s: %w", name, err)
			}
		}
	}
	return name, map[string]any{"arn": aws.ToString(res.TableDescription.TableArn)}, nil
}

func (p *Provisioner) topic(ctx context.Context, in *inputs) (string, map[string]any, error) {
	attrs := map[string]string{}
	if k := in.str("kmsMasterKeyId"); k != "" {
		attrs["KmsMasterKeyId"] = k
	}
	res, err := p.sns.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(in.str("name")), Attributes: attrs, Tags: snsTags(in.obj("tags"))})
	if err != nil {
		return "", nil, err
	}
	arn := aws.ToString(res.TopicArn)
	return arn, map[string]any{"arn": arn}, nil
}

func (p *Provisioner) alarm(ctx context.Context, in *inputs) (string, map[string]any, error) {
	name := in.str("name")
	input := &cloudwatch.PutMetricAlarmInput{
		AlarmName:          aws.String(name),
		AlarmDescription:   aws.String(in.str("alarmDescription")),
		Namespace:          aws.String(in.str("namespace")),
		MetricName:         aws.String(in.str("metricName")),
		Statistic:          cwtypes.Statistic(in.str("statistic")),
		Period:             aws.Int32(int32(in.num("period"))),
		EvaluationPeriods:  aws.Int32(int32(in.num("evaluationPeriods"))),
		ComparisonOperator: cwtypes.ComparisonOperator(in.str("comparisonOperator")),
		Threshold:          aws.Float64(in.num("threshold")),
		ActionsEnabled:     aws.Bool(in.boolean("actionsEnabled")),
		AlarmActions:       in.strs("alarmActions"),
		OKActions:          in.strs("okActions"),
		Tags:               cwTags(in.obj("tags")),
	}
	// An absent treatment stays absent, as CloudWatch keeps it unset.
	if tmd := in.str("treatMissingData"); tmd != "" {
		input.TreatMissingData = aws.String(tmd)
	}
	dims := in.obj("dimensions")
	for _, k := range slices.Sorted(maps.Keys(dims)) {
		input.Dimensions = append(input.Dimensions, cwtypes.Dimension{Name: aws.String(k), Value: aws.String(fmt.Sprint(dims[k]))})
	}
	if _, err := p.cw.PutMetricAlarm(ctx, input); err != nil {
		return "", nil, err
	}
	return name, map[string]any{"arn": p.account().AlarmArn(name)}, nil
}

func (p *Provisioner) bucket(ctx context.Context, in *inputs) (string, map[string]any, error) {
	name := in.str("bucket")
	// us-east-1 takes no location constraint; any other region needs one.
	cb := &s3.CreateBucketInput{Bucket: aws.String(name)}
	if p.Region != "" && p.Region != "us-east-1" {
		cb.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(p.Region)}
	}
	if _, err := p.s3.CreateBucket(ctx, cb); err != nil {
		return "", nil, err
	}
	if t := in.obj("tags"); len(t) > 0 {
		if _, err := p.s3.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: aws.String(name), Tagging: &s3types.Tagging{TagSet: s3Tags(t)}}); err != nil {
			return "", nil, fmt.Errorf("tagging bucket %s: %w", name, err)
		}
	}
	// Only the absence of forceDestroy matters (a destroy fails on a
	// non-empty bucket); the emulator has nothing to hold it.
	in.ignore("forceDestroy")
	return name, map[string]any{"arn": "arn:aws:s3:::" + name, "bucket": name}, nil
}

// bucketConfig applies one of the bucket's configuration resources; its id
// is the bucket's name, as the AWS provider's is.
func (p *Provisioner) bucketConfig(ctx context.Context, typ string, in *inputs) (string, map[string]any, error) {
	b := aws.String(in.str("bucket"))
	var err error
	switch typ {
	case gate.TypeBucketVersioning:
		vc := in.obj("versioningConfiguration")
		_, err = p.s3.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: b,
			VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatus(fmt.Sprint(vc["status"]))}})
	case gate.TypeBucketEncryption:
		var rules []s3types.ServerSideEncryptionRule
		for _, x := range in.list("rules") {
			m, _ := x.(map[string]any)
			r := s3types.ServerSideEncryptionRule{}
			if on, ok := m["bucketKeyEnabled"].(bool); ok {
				r.BucketKeyEnabled = aws.Bool(on)
			}
			if d, _ := m["applyServerSideEncryptionByDefault"].(map[string]any); d != nil {
				r.ApplyServerSideEncryptionByDefault = &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryption(fmt.Sprint(d["sseAlgorithm"]))}
				if k, _ := d["kmsMasterKeyId"].(string); k != "" {
					r.ApplyServerSideEncryptionByDefault.KMSMasterKeyID = aws.String(k)
				}
			}
			rules = append(rules, r)
		}
		_, err = p.s3.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: b,
			ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{Rules: rules}})
	case gate.TypeBucketPublicAccessBlock:
		_, err = p.s3.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: b, PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{
			BlockPublicAcls: aws.Bool(in.boolean("blockPublicAcls")), BlockPublicPolicy: aws.Bool(in.boolean("blockPublicPolicy")),
			IgnorePublicAcls: aws.Bool(in.boolean("ignorePublicAcls")), RestrictPublicBuckets: aws.Bool(in.boolean("restrictPublicBuckets")),
		}})
	case gate.TypeBucketPolicy:
		_, err = p.s3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: b, Policy: aws.String(in.str("policy"))})
	case gate.TypeBucketLifecycle:
		var rules []s3types.LifecycleRule
		for _, x := range in.list("rules") {
			rules = append(rules, lifecycleRule(x))
		}
		_, err = p.s3.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{Bucket: b,
			LifecycleConfiguration: &s3types.BucketLifecycleConfiguration{Rules: rules}})
	}
	if err != nil {
		return "", nil, err
	}
	return aws.ToString(b), map[string]any{}, nil
}

// lifecycleRule maps one declared lifecycle rule; the program declares an
// id, a status, an (empty) filter and a noncurrent-version expiration.
func lifecycleRule(x any) s3types.LifecycleRule {
	m, _ := x.(map[string]any)
	r := s3types.LifecycleRule{ID: aws.String(fmt.Sprint(m["id"])), Status: s3types.ExpirationStatus(fmt.Sprint(m["status"]))}
	if f, ok := m["filter"].(map[string]any); ok {
		prefix, _ := f["prefix"].(string)
		r.Filter = &s3types.LifecycleRuleFilter{Prefix: aws.String(prefix)}
	}
	if nve, _ := m["noncurrentVersionExpiration"].(map[string]any); nve != nil {
		days, _ := nve["noncurrentDays"].(float64)
		r.NoncurrentVersionExpiration = &s3types.NoncurrentVersionExpiration{NoncurrentDays: aws.Int32(int32(days))}
	}
	return r
}

// deleteBucket removes every object version and delete marker (the E2E
// drift step writes baselines), then the bucket.
func (p *Provisioner) deleteBucket(ctx context.Context, name string) error {
	pages := s3.NewListObjectVersionsPaginator(p.s3, &s3.ListObjectVersionsInput{Bucket: aws.String(name)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("listing the versions in %s: %w", name, err)
		}
		var ids []s3types.ObjectIdentifier
		for _, v := range page.Versions {
			ids = append(ids, s3types.ObjectIdentifier{Key: v.Key, VersionId: v.VersionId})
		}
		for _, m := range page.DeleteMarkers {
			ids = append(ids, s3types.ObjectIdentifier{Key: m.Key, VersionId: m.VersionId})
		}
		for _, id := range ids {
			if _, err := p.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(name), Key: id.Key, VersionId: id.VersionId}); err != nil {
				return fmt.Errorf("deleting %s version %s from %s: %w", aws.ToString(id.Key), aws.ToString(id.VersionId), name, err)
			}
		}
	}
	if _, err := p.s3.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(name)}); err != nil {
		return fmt.Errorf("deleting bucket %s: %w", name, err)
	}
	return nil
}

// tags converts declared tags into one SDK's tag type, sorted by key.
func tags[T any](m map[string]any, mk func(k, v *string) T) []T {
	out := make([]T, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, mk(aws.String(k), aws.String(fmt.Sprint(m[k]))))
	}
	return out
}

func iamTags(m map[string]any) []iamtypes.Tag {
	return tags(m, func(k, v *string) iamtypes.Tag { return iamtypes.Tag{Key: k, Value: v} })
}

func kmsTags(m map[string]any) []kmstypes.Tag {
	return tags(m, func(k, v *string) kmstypes.Tag { return kmstypes.Tag{TagKey: k, TagValue: v} })
}

func ddbTags(m map[string]any) []ddbtypes.Tag {
	return tags(m, func(k, v *string) ddbtypes.Tag { return ddbtypes.Tag{Key: k, Value: v} })
}

func snsTags(m map[string]any) []snstypes.Tag {
	return tags(m, func(k, v *string) snstypes.Tag { return snstypes.Tag{Key: k, Value: v} })
}

func s3Tags(m map[string]any) []s3types.Tag {
	return tags(m, func(k, v *string) s3types.Tag { return s3types.Tag{Key: k, Value: v} })
}

func cwTags(m map[string]any) []cwtypes.Tag {
	return tags(m, func(k, v *string) cwtypes.Tag { return cwtypes.Tag{Key: k, Value: v} })
}

// describe renders unapplied inputs for a report.
func describeUnapplied(u map[string][]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(u)) {
		parts = append(parts, k+": "+strings.Join(u[k], ", "))
	}
	return strings.Join(parts, "; ")
}
