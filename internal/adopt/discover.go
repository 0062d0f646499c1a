package adopt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"reflect"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
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
	"github.com/aws/smithy-go"

	"github.com/mirror-dissonance/mirror-infra/awsclient"
	"github.com/mirror-dissonance/mirror-infra/internal/gate"
	"github.com/mirror-dissonance/mirror-infra/spec"
)

// finder makes the read-only calls of discovery.
type finder struct {
	account, region, stack, env string
	ddb                         *dynamodb.Client
	kms                         *kms.Client
	sns                         *sns.Client
	cw                          *cloudwatch.Client
	iam                         *iam.Client
	s3                          *s3.Client
	sqs                         *sqs.Client
	log                         *slog.Logger
}

func newFinder(ctx context.Context, cfg aws.Config, stack, env string, log *slog.Logger) (*finder, error) {
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return nil, fmt.Errorf("reading the AWS account (sts:GetCallerIdentity): %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &finder{
		account: aws.ToString(id.Account), region: cfg.Region, stack: stack, env: env,
		ddb: dynamodb.NewFromConfig(cfg), kms: kms.NewFromConfig(cfg), sns: sns.NewFromConfig(cfg),
		cw: cloudwatch.NewFromConfig(cfg), iam: iam.NewFromConfig(cfg),
		// A custom endpoint (an emulator) has no per-bucket host names.
		s3:  awsclient.NewS3(cfg),
		sqs: sqs.NewFromConfig(cfg),
		log: log,
	}, nil
}

// found is what a lookup read about an existing resource.
type found struct {
	id, where string
	// observed are properties read back, in the program's input names.
	observed map[string]any
	// outputs stand in for the provider's outputs under mocks (arn, ...).
	outputs map[string]any
	tags    map[string]string
}

// notFound reports whether err says the resource does not exist.
func notFound(err error) bool {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		c := ae.ErrorCode()
		return strings.Contains(c, "NotFound") || strings.HasPrefix(c, "NoSuch") || c == "404"
	}
	return false
}

// lookup finds one planned resource by its physical name; nil when it
// does not exist. byType holds what was found so far (the key is found
// through its alias, a topic's policy through the topic).
func (f *finder) lookup(ctx context.Context, p Planned, byType map[string]*found) (*found, error) {
	in := inputs(p.Inputs)
	switch p.Type {
	case gate.TypeTable:
		return f.table(ctx, in.str("name"))
	case gate.TypeAlias:
		return f.alias(ctx, in.str("name"))
	case gate.TypeKey:
		// A key has no name: the program's alias names it.
		return f.key(ctx, spec.For(f.env).KeyAlias())
	case gate.TypeTopic:
		return f.topic(ctx, in.str("name"))
	case gate.TypeTopicPolicy:
		t := byType[gate.TypeTopic]
		if t == nil {
			return nil, nil
		}
		return f.topicPolicy(ctx, t.id)
	case gate.TypeSubscription:
		t := byType[gate.TypeTopic]
		if t == nil {
			return nil, nil
		}
		return f.subscription(ctx, t.id, in.str("protocol"), in.str("endpoint"))
	case gate.TypeAlarm:
		return f.alarm(ctx, in.str("name"))
	case gate.TypeDashboard:
		return f.dashboard(ctx, in.str("dashboardName"))
	case gate.TypeOIDCProvider:
		return f.oidc(ctx, in.str("url"))
	case gate.TypeRole:
		return f.role(ctx, in.str("name"))
	case gate.TypeRolePolicy:
		return f.rolePolicy(ctx, in.str("role"), in.str("name"))
	case gate.TypePolicy:
		return f.managedPolicy(ctx, in.str("name"))
	case gate.TypeQueue:
		return f.queue(ctx, in.str("name"))
	case gate.TypeQueuePolicy:
		q := byType[gate.TypeQueue]
		if q == nil {
			return nil, nil
		}
		return f.queuePolicy(ctx, q.id)
	case gate.TypeBucket:
		return f.bucket(ctx, in.str("bucket"))
	case gate.TypeBucketVersioning, gate.TypeBucketEncryption, gate.TypeBucketPublicAccessBlock,
		gate.TypeBucketPolicy, gate.TypeBucketLifecycle:
		if byType[gate.TypeBucket] == nil {
			return nil, nil
		}
		return f.bucketConfig(ctx, p.Type, in.str("bucket"))
	}
	return nil, fmt.Errorf("adopt does not know how to find a %s (%s); extend internal/adopt before adopting it", p.Type, p.Name)
}

func (f *finder) table(ctx context.Context, name string) (*found, error) {
	out, err := f.ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	if notFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("dynamodb:DescribeTable %s: %w", name, err)
	}
	t := out.Table
	obs := map[string]any{"billingMode": "PROVISIONED", "deletionProtectionEnabled": aws.ToBool(t.DeletionProtectionEnabled)}
	if t.BillingModeSummary != nil {
		obs["billingMode"] = string(t.BillingModeSummary.BillingMode)
	}
	for _, k := range t.KeySchema {
		if k.KeyType == ddbtypes.KeyTypeHash {
			obs["hashKey"] = aws.ToString(k.AttributeName)
		} else {
			obs["rangeKey"] = aws.ToString(k.AttributeName)
		}
	}
	var gsis []any
	for _, g := range t.GlobalSecondaryIndexes {
		m := map[string]any{"name": aws.ToString(g.IndexName)}
		for _, k := range g.KeySchema {
			if k.KeyType == ddbtypes.KeyTypeHash {
				m["hashKey"] = aws.ToString(k.AttributeName)
			} else {
				m["rangeKey"] = aws.ToString(k.AttributeName)
			}
		}
		gsis = append(gsis, m)
	}
	obs["globalSecondaryIndexes"] = gsis
	if t.SSEDescription != nil && t.SSEDescription.KMSMasterKeyArn != nil {
		obs["serverSideEncryption"] = map[string]any{"enabled": true, "kmsKeyArn": aws.ToString(t.SSEDescription.KMSMasterKeyArn)}
	} else {
		obs["serverSideEncryption"] = map[string]any{"enabled": false}
	}
	if cb, err := f.ddb.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String(name)}); err == nil &&
		cb.ContinuousBackupsDescription != nil && cb.ContinuousBackupsDescription.PointInTimeRecoveryDescription != nil {
		obs["pointInTimeRecovery"] = map[string]any{"enabled": cb.ContinuousBackupsDescription.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus == ddbtypes.PointInTimeRecoveryStatusEnabled}
	}
	arn := aws.ToString(t.TableArn)
	fd := &found{id: name, where: fmt.Sprintf("dynamodb:DescribeTable in %s", f.region), observed: obs, outputs: map[string]any{"arn": arn}}
	if tg, err := f.ddb.ListTagsOfResource(ctx, &dynamodb.ListTagsOfResourceInput{ResourceArn: aws.String(arn)}); err == nil {
		fd.tags = tagMap(tg.Tags, func(x ddbtypes.Tag) (*string, *string) { return x.Key, x.Value })
	}
	return fd, nil
}

func (f *finder) alias(ctx context.Context, name string) (*found, error) {
	out, err := f.kms.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(name)})
	if notFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("kms:DescribeKey %s: %w", name, err)
	}
	keyID := aws.ToString(out.KeyMetadata.KeyId)
	return &found{id: name, where: "kms:DescribeKey " + name,
		observed: map[string]any{"targetKeyId": keyID},
		outputs:  map[string]any{"arn": fmt.Sprintf("arn:aws:kms:%s:%s:%s", f.region, f.account, name), "targetKeyArn": aws.ToString(out.KeyMetadata.Arn)}}, nil
}

func (f *finder) key(ctx context.Context, alias string) (*found, error) {
	out, err := f.kms.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(alias)})
	if notFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("kms:DescribeKey %s: %w", alias, err)
	}
	md := out.KeyMetadata
	id := aws.ToString(md.KeyId)
	obs := map[string]any{"description": aws.ToString(md.Description)}
	if rs, err := f.kms.GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: aws.String(id)}); err == nil {
		obs["enableKeyRotation"] = rs.KeyRotationEnabled
	}
	if pol, err := f.kms.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: aws.String(id), PolicyName: aws.String("default")}); err == nil {
		obs["policy"] = aws.ToString(pol.Policy)
	}
	fd := &found{id: id, where: "kms:DescribeKey " + alias + " (through its alias)", observed: obs,
		outputs: map[string]any{"arn": aws.ToString(md.Arn), "keyId": id}}
	if tg, err := f.kms.ListResourceTags(ctx, &kms.ListResourceTagsInput{KeyId: aws.String(id)}); err == nil {
		fd.tags = tagMap(tg.Tags, func(x kmstypes.Tag) (*string, *string) { return x.TagKey, x.TagValue })
	}
	return fd, nil
}

func (f *finder) topicArn(name string) string {
	return fmt.Sprintf("arn:aws:sns:%s:%s:%s", f.region, f.account, name)
}

func (f *finder) topic(ctx context.Context, name string) (*found, error) {
	arn := f.topicArn(name)
	out, err := f.sns.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(arn)})
	if notFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sns:GetTopicAttributes %s: %w", arn, err)
	}
	fd := &found{id: arn, where: "sns:GetTopicAttributes " + arn,
		observed: map[string]any{"kmsMasterKeyId": out.Attributes["KmsMasterKeyId"]},
		outputs:  map[string]any{"arn": arn}}
	if tg, err := f.sns.ListTagsForResource(ctx, &sns.ListTagsForResourceInput{ResourceArn: aws.String(arn)}); err == nil {
		fd.tags = tagMap(tg.Tags, func(x snstypes.Tag) (*string, *string) { return x.Key, x.Value })
	}
	return fd, nil
}

func (f *finder) topicPolicy(ctx context.Context, arn string) (*found, error) {
	out, err := f.sns.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(arn)})
	if err != nil {
		return nil, fmt.Errorf("sns:GetTopicAttributes %s: %w", arn, err)
	}
	// Every topic has a policy (AWS writes a default one).
	return &found{id: arn, where: "sns:GetTopicAttributes " + arn + " (Policy)",
		observed: map[string]any{"policy": out.Attributes["Policy"]}, outputs: map[string]any{}}, nil
}

func (f *finder) subscription(ctx context.Context, topic, protocol, endpoint string) (*found, error) {
	pages := sns.NewListSubscriptionsByTopicPaginator(f.sns, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(topic)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("sns:ListSubscriptionsByTopic %s: %w", topic, err)
		}
		for _, s := range page.Subscriptions {
			arn := aws.ToString(s.SubscriptionArn)
			// A pending confirmation has no ARN to import; the deploy
			// subscribes again, which re-sends the confirmation.
			if aws.ToString(s.Protocol) == protocol && aws.ToString(s.Endpoint) == endpoint && strings.HasPrefix(arn, "arn:") {
				return &found{id: arn, where: "sns:ListSubscriptionsByTopic " + topic, outputs: map[string]any{"arn": arn}}, nil
			}
		}
	}
	return nil, nil
}

func (f *finder) alarm(ctx context.Context, name string) (*found, error) {
	out, err := f.cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{name}})
	if err != nil {
		return nil, fmt.Errorf("cloudwatch:DescribeAlarms %s: %w", name, err)
	}
	if len(out.MetricAlarms) == 0 {
		return nil, nil
	}
	a := out.MetricAlarms[0]
	obs := map[string]any{
		"alarmDescription": aws.ToString(a.AlarmDescription),
		"treatMissingData": aws.ToString(a.TreatMissingData),
		"alarmActions":     strs(a.AlarmActions),
		"okActions":        strs(a.OKActions),
		"threshold":        aws.ToFloat64(a.Threshold),
	}
	if a.TreatMissingData == nil {
		// CloudWatch's default when unset is "missing"; the program
		// declares notBreaching.
		obs["treatMissingData"] = ""
	}
	return &found{id: name, where: "cloudwatch:DescribeAlarms " + name, observed: obs,
		outputs: map[string]any{"arn": aws.ToString(a.AlarmArn)}}, nil
}

// tagMap maps one SDK's tags, whose key and value kv reads, by key.
func tagMap[T any](tags []T, kv func(T) (*string, *string)) map[string]string {
	out := map[string]string{}
	for _, x := range tags {
		k, v := kv(x)
		out[aws.ToString(k)] = aws.ToString(v)
	}
	return out
}

func iamTag(x iamtypes.Tag) (*string, *string) { return x.Key, x.Value }

func strs(ss []string) []any {
	out := make([]any, 0, len(ss))
	for _, s := range ss {
		out = append(out, s)
	}
	return out
}

func (f *finder) dashboard(ctx context.Context, name string) (*found, error) {
	out, err := f.cw.GetDashboard(ctx, &cloudwatch.GetDashboardInput{DashboardName: aws.String(name)})
	if notFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cloudwatch:GetDashboard %s: %w", name, err)
	}
	return &found{id: name, where: "cloudwatch:GetDashboard " + name,
		observed: map[string]any{"dashboardBody": aws.ToString(out.DashboardBody)},
		outputs:  map[string]any{"dashboardArn": aws.ToString(out.DashboardArn)}}, nil
}

func (f *finder) oidc(ctx context.Context, url string) (*found, error) {
	out, err := f.iam.ListOpenIDConnectProviders(ctx, &iam.ListOpenIDConnectProvidersInput{})
	if err != nil {
		return nil, fmt.Errorf("iam:ListOpenIDConnectProviders: %w", err)
	}
	host := strings.TrimPrefix(url, "https://")
	for _, p := range out.OpenIDConnectProviderList {
		if arn := aws.ToString(p.Arn); strings.HasSuffix(arn, ":oidc-provider/"+host) {
			return &found{id: arn, where: "iam:ListOpenIDConnectProviders", outputs: map[string]any{"arn": arn}}, nil
		}
	}
	return nil, nil
}

func (f *finder) role(ctx context.Context, name string) (*found, error) {
	out, err := f.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
	if notFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("iam:GetRole %s: %w", name, err)
	}
	r := out.Role
	obs := map[string]any{"description": aws.ToString(r.Description), "assumeRolePolicy": decodeURL(aws.ToString(r.AssumeRolePolicyDocument))}
	if r.MaxSessionDuration != nil {
		obs["maxSessionDuration"] = float64(*r.MaxSessionDuration)
	}
	return &found{id: name, where: "iam:GetRole " + name, observed: obs, tags: tagMap(r.Tags, iamTag),
		outputs: map[string]any{"arn": aws.ToString(r.Arn), "uniqueId": aws.ToString(r.RoleId)}}, nil
}

func (f *finder) rolePolicy(ctx context.Context, role, name string) (*found, error) {
	out, err := f.iam.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String(name)})
	if notFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("iam:GetRolePolicy %s %s: %w", role, name, err)
	}
	return &found{id: role + ":" + name, where: "iam:GetRolePolicy " + role + " " + name,
		observed: map[string]any{"policy": decodeURL(aws.ToString(out.PolicyDocument))}, outputs: map[string]any{}}, nil
}

// managedPolicy finds a customer-managed policy (the permissions boundary)
// by name; its import id is its ARN.
func (f *finder) managedPolicy(ctx context.Context, name string) (*found, error) {
	arn := spec.Account{ID: f.account, Region: f.region}.PolicyArn(name)
	out, err := f.iam.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
	if notFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("iam:GetPolicy %s: %w", arn, err)
	}
	return &found{id: arn, where: "iam:GetPolicy " + arn, tags: tagMap(out.Policy.Tags, iamTag),
		outputs: map[string]any{"arn": arn, "policyId": aws.ToString(out.Policy.PolicyId)}}, nil
}

// queue finds the verification queue by name; its import id is its URL.
func (f *finder) queue(ctx context.Context, name string) (*found, error) {
	out, err := f.sqs.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name)})
	if notFound(err) || isQueueMissing(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sqs:GetQueueUrl %s: %w", name, err)
	}
	u := aws.ToString(out.QueueUrl)
	fd := &found{id: u, where: "sqs:GetQueueUrl " + name, outputs: map[string]any{"url": u, "id": u}}
	if a, err := f.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: out.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}}); err == nil {
		fd.outputs["arn"] = a.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]
	}
	return fd, nil
}

// queuePolicy is the queue's policy; it is imported by the queue's URL.
func (f *finder) queuePolicy(ctx context.Context, queueURL string) (*found, error) {
	out, err := f.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(queueURL),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNamePolicy}})
	if err != nil {
		return nil, fmt.Errorf("sqs:GetQueueAttributes %s: %w", queueURL, err)
	}
	doc := out.Attributes[string(sqstypes.QueueAttributeNamePolicy)]
	if doc == "" {
		return nil, nil
	}
	return &found{id: queueURL, where: "sqs:GetQueueAttributes " + queueURL,
		observed: map[string]any{"policy": doc}, outputs: map[string]any{}}, nil
}

// isQueueMissing reads SQS's own spelling of "no such queue".
func isQueueMissing(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && strings.Contains(ae.ErrorCode(), "NonExistentQueue")
}

func (f *finder) bucket(ctx context.Context, name string) (*found, error) {
	_, err := f.s3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(name)})
	if notFound(err) {
		return nil, nil
	}
	if err != nil {
		// 403: the name is taken by a bucket this account cannot read.
		return nil, fmt.Errorf("s3:HeadBucket %s: %w", name, err)
	}
	fd := &found{id: name, where: "s3:HeadBucket " + name, outputs: map[string]any{"arn": "arn:aws:s3:::" + name, "bucket": name}}
	if tg, err := f.s3.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String(name)}); err == nil {
		fd.tags = tagMap(tg.TagSet, func(x s3types.Tag) (*string, *string) { return x.Key, x.Value })
	}
	return fd, nil
}

func (f *finder) bucketConfig(ctx context.Context, typ, name string) (*found, error) {
	b := aws.String(name)
	fd := &found{id: name, outputs: map[string]any{}}
	var err error
	switch typ {
	case gate.TypeBucketVersioning:
		var out *s3.GetBucketVersioningOutput
		if out, err = f.s3.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: b}); err == nil {
			if out.Status == "" {
				return nil, nil // never configured
			}
			fd.where = "s3:GetBucketVersioning " + name
			fd.observed = map[string]any{"versioningConfiguration": map[string]any{"status": string(out.Status)}}
		}
	case gate.TypeBucketEncryption:
		if _, err = f.s3.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: b}); err == nil {
			fd.where = "s3:GetBucketEncryption " + name
		}
	case gate.TypeBucketPublicAccessBlock:
		var out *s3.GetPublicAccessBlockOutput
		if out, err = f.s3.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: b}); err == nil {
			fd.where = "s3:GetPublicAccessBlock " + name
			if c := out.PublicAccessBlockConfiguration; c != nil {
				fd.observed = map[string]any{"blockPublicAcls": aws.ToBool(c.BlockPublicAcls), "blockPublicPolicy": aws.ToBool(c.BlockPublicPolicy),
					"ignorePublicAcls": aws.ToBool(c.IgnorePublicAcls), "restrictPublicBuckets": aws.ToBool(c.RestrictPublicBuckets)}
			}
		}
	case gate.TypeBucketPolicy:
		var out *s3.GetBucketPolicyOutput
		if out, err = f.s3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: b}); err == nil {
			fd.where = "s3:GetBucketPolicy " + name
			fd.observed = map[string]any{"policy": aws.ToString(out.Policy)}
		}
	case gate.TypeBucketLifecycle:
		if _, err = f.s3.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: b}); err == nil {
			fd.where = "s3:GetBucketLifecycleConfiguration " + name
		}
	}
	if notFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s of bucket %s: %w", typ, name, err)
	}
	return fd, nil
}

// decodeURL undoes IAM's URL encoding of policy documents.
func decodeURL(s string) string {
	if strings.HasPrefix(s, "%7B") || strings.HasPrefix(s, "%7b") {
		if d, err := url.PathUnescape(s); err == nil {
			return d
		}
	}
	return s
}

// updates lists the declared properties whose observed value differs.
func updates(declared map[string]any, fd *found) []string {
	var out []string
	for k, obs := range fd.observed {
		want, ok := declared[k]
		if !ok {
			continue
		}
		if !sameValue(want, obs) {
			out = append(out, k)
		}
	}
	if fd.tags != nil {
		if want, ok := declared["tags"].(map[string]any); ok {
			have := map[string]any{}
			for k, v := range fd.tags {
				have[k] = v
			}
			if !reflect.DeepEqual(want, have) {
				out = append(out, "tags")
			}
		}
	}
	sort.Strings(out)
	return out
}

// sameValue compares a declared and an observed value; JSON documents
// compare by content, and only the keys a declared object has count.
func sameValue(want, have any) bool {
	if ws, ok := want.(string); ok {
		if hs, ok := have.(string); ok {
			if strings.HasPrefix(strings.TrimSpace(ws), "{") {
				var a, b any
				if json.Unmarshal([]byte(ws), &a) == nil && json.Unmarshal([]byte(hs), &b) == nil {
					return reflect.DeepEqual(a, b)
				}
			}
			return ws == hs
		}
	}
	if wm, ok := want.(map[string]any); ok {
		hm, ok := have.(map[string]any)
		if !ok {
			return false
		}
		for k, v := range wm {
			if hv, ok := hm[k]; ok && !sameValue(v, hv) {
				return false
			}
		}
		return true
	}
	if wl, ok := want.([]any); ok {
		hl, ok := have.([]any)
		if !ok || len(wl) != len(hl) {
			return false
		}
		for i := range wl {
			if !sameValue(wl[i], hl[i]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(want, have)
}

// inputs reads declared inputs.
type inputs map[string]any

func (in inputs) str(k string) string { s, _ := in[k].(string); return s }
