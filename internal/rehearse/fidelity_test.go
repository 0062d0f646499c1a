package rehearse

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/mirror-dissonance/mirror-infra/emulator"
	"github.com/mirror-dissonance/mirror-infra/internal/gate"
	"github.com/mirror-dissonance/mirror-infra/internal/mockrun"
	"github.com/mirror-dissonance/mirror-infra/spec"
	"github.com/mirror-dissonance/mirror-infra/stacks/stackconfig"
)

// TestFidelity provisions each stack into the emulator and compares, for
// every resource type the program declares, the inputs the gate or the
// verifier depend on with what the emulator then describes.
func TestFidelity(t *testing.T) {
	for _, stack := range []string{"staging", "production"} {
		t.Run(stack, func(t *testing.T) {
			ctx := context.Background()
			e := emulator.Start()
			defer e.Close()
			awsCfg, err := e.Config(ctx)
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := stackconfig.Load("../..", stack)
			if err != nil {
				t.Fatal(err)
			}
			p := NewProvisioner(awsCfg, emulator.AccountID)
			defer func() {
				if err := p.Teardown(ctx); err != nil {
					t.Errorf("teardown: %v", err)
				}
			}()
			if !cfg.CreateOIDCProvider {
				if err := p.AccountOIDCProvider(ctx); err != nil {
					t.Fatal(err)
				}
			}
			res, err := mockrun.Run(ctx, cfg, p)
			if err != nil {
				t.Fatal(err)
			}
			checked := map[string]int{}
			ddb, km, sn, cw, im := dynamodb.NewFromConfig(awsCfg), kms.NewFromConfig(awsCfg), sns.NewFromConfig(awsCfg), cloudwatch.NewFromConfig(awsCfg), iam.NewFromConfig(awsCfg)
			s3c := s3.NewFromConfig(awsCfg, func(o *s3.Options) { o.UsePathStyle = true })
			sq := sqs.NewFromConfig(awsCfg)
			keyArn, _ := res.Outputs["kmsKeyArn"].(string)
			for _, r := range res.AWSResources() {
				in := r.Inputs
				str := func(path string) string { return fmt.Sprint(gate.Input(in, path)) }
				switch r.Type {
				case gate.TypeTable:
					name := str("name")
					d, err := ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
					if err != nil {
						t.Fatalf("describe %s: %v", name, err)
					}
					tb := d.Table
					eq(t, name+" billing", string(tb.BillingModeSummary.BillingMode), str("billingMode"))
					keys := map[string]string{}
					for _, k := range tb.KeySchema {
						keys[string(k.KeyType)] = aws.ToString(k.AttributeName)
					}
					eq(t, name+" hash key", keys["HASH"], str("hashKey"))
					if rk := gate.Input(in, "rangeKey"); rk != nil {
						eq(t, name+" range key", keys["RANGE"], fmt.Sprint(rk))
					}
					gsis, _ := in["globalSecondaryIndexes"].([]any)
					eq(t, name+" index count", len(tb.GlobalSecondaryIndexes), len(gsis))
					for i, g := range gsis {
						gm := g.(map[string]any)
						got := tb.GlobalSecondaryIndexes[i]
						eq(t, name+" index", aws.ToString(got.IndexName), gm["name"])
						eq(t, name+" index projection", string(got.Projection.ProjectionType), gm["projectionType"])
					}
					eq(t, name+" SSE key", aws.ToString(tb.SSEDescription.KMSMasterKeyArn), keyArn)
					eq(t, name+" SSE type", string(tb.SSEDescription.SSEType), "KMS")
					eq(t, name+" deletion protection", aws.ToBool(tb.DeletionProtectionEnabled), gate.Input(in, "deletionProtectionEnabled"))
					cb, err := ddb.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String(name)})
					if err != nil {
						t.Fatal(err)
					}
					eq(t, name+" PITR", string(cb.ContinuousBackupsDescription.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus) == "ENABLED", gate.Input(in, "pointInTimeRecovery.enabled"))
					ttl, err := ddb.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)})
					if err != nil {
						t.Fatal(err)
					}
					if want := gate.Input(in, "ttl.attributeName"); want != nil {
						eq(t, name+" TTL attribute", aws.ToString(ttl.TimeToLiveDescription.AttributeName), want)
						eq(t, name+" TTL status", string(ttl.TimeToLiveDescription.TimeToLiveStatus), "ENABLED")
					}
				case gate.TypeKey:
					rot, err := km.GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: aws.String(keyArn)})
					if err != nil {
						t.Fatal(err)
					}
					eq(t, "key rotation", rot.KeyRotationEnabled, in["enableKeyRotation"])
					pol, err := km.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: aws.String(keyArn), PolicyName: aws.String("default")})
					if err != nil {
						t.Fatal(err)
					}
					sameJSON(t, "key policy", aws.ToString(pol.Policy), str("policy"))
				case gate.TypeAlias:
					out, err := km.ListAliases(ctx, &kms.ListAliasesInput{})
					if err != nil {
						t.Fatal(err)
					}
					found := false
					for _, a := range out.Aliases {
						if aws.ToString(a.AliasName) == str("name") {
							found = true
							eq(t, "alias target", aws.ToString(a.TargetKeyId), str("targetKeyId"))
						}
					}
					eq(t, "alias present", found, true)
				case gate.TypeTopic, gate.TypeTopicPolicy:
					arn, _ := res.Outputs["opsTopicArn"].(string)
					attrs, err := sn.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(arn)})
					if err != nil {
						t.Fatal(err)
					}
					if r.Type == gate.TypeTopic {
						eq(t, "topic key", attrs.Attributes["KmsMasterKeyId"], str("kmsMasterKeyId"))
					} else {
						sameJSON(t, "topic policy", attrs.Attributes["Policy"], str("policy"))
					}
				case gate.TypeSubscription:
					subs, err := sn.ListSubscriptionsByTopic(ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(str("topic"))})
					if err != nil {
						t.Fatal(err)
					}
					found := false
					for _, s := range subs.Subscriptions {
						if aws.ToString(s.Endpoint) == str("endpoint") && aws.ToString(s.Protocol) == str("protocol") {
							found = true
						}
					}
					eq(t, "e-mail subscription present", found, true)
				case gate.TypeAlarm:
					name := str("name")
					out, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{name}})
					if err != nil || len(out.MetricAlarms) != 1 {
						t.Fatalf("describe alarm %s: %v (%d)", name, err, len(out.MetricAlarms))
					}
					a := out.MetricAlarms[0]
					eq(t, name+" metric", aws.ToString(a.MetricName), str("metricName"))
					eq(t, name+" namespace", aws.ToString(a.Namespace), str("namespace"))
					eq(t, name+" statistic", string(a.Statistic), str("statistic"))
					eq(t, name+" period", float64(aws.ToInt32(a.Period)), gate.Input(in, "period"))
					eq(t, name+" evaluation periods", float64(aws.ToInt32(a.EvaluationPeriods)), gate.Input(in, "evaluationPeriods"))
					eq(t, name+" threshold", aws.ToFloat64(a.Threshold), gate.Input(in, "threshold"))
					eq(t, name+" comparison", string(a.ComparisonOperator), str("comparisonOperator"))
					eq(t, name+" missing data", aws.ToString(a.TreatMissingData), str("treatMissingData"))
					eq(t, name+" alarm actions", fmt.Sprint(a.AlarmActions), fmt.Sprint(gate.Input(in, "alarmActions")))
					eq(t, name+" OK actions", fmt.Sprint(a.OKActions), fmt.Sprint(gate.Input(in, "okActions")))
					dims := map[string]string{}
					for _, d := range a.Dimensions {
						dims[aws.ToString(d.Name)] = aws.ToString(d.Value)
					}
					eq(t, name+" TableName dimension", dims["TableName"], str("dimensions.TableName"))
				case gate.TypeOIDCProvider:
					arn, _ := res.Outputs["oidcProviderArn"].(string)
					out, err := im.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn)})
					if err != nil {
						t.Fatal(err)
					}
					eq(t, "provider audience", fmt.Sprint(out.ClientIDList), fmt.Sprint(gate.Input(in, "clientIdLists")))
					eq(t, "provider url", strings.TrimPrefix(aws.ToString(out.Url), "https://"), strings.TrimPrefix(str("url"), "https://"))
				case gate.TypeRole:
					out, err := im.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(str("name"))})
					if err != nil {
						t.Fatal(err)
					}
					doc, _ := url.QueryUnescape(aws.ToString(out.Role.AssumeRolePolicyDocument))
					sameJSON(t, str("name")+" trust", doc, str("assumeRolePolicy"))
					eq(t, str("name")+" session", float64(aws.ToInt32(out.Role.MaxSessionDuration)), gate.Input(in, "maxSessionDuration"))
				case gate.TypeRolePolicy:
					out, err := im.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(str("role")), PolicyName: aws.String(str("name"))})
					if err != nil {
						t.Fatal(err)
					}
					doc, _ := url.QueryUnescape(aws.ToString(out.PolicyDocument))
					sameJSON(t, str("name")+" policy", doc, str("policy"))
				case gate.TypePolicy:
					arn := spec.Account{ID: emulator.AccountID}.PolicyArn(str("name"))
					pol, err := im.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
					if err != nil {
						t.Fatalf("boundary %s: %v", arn, err)
					}
					// kumo has no GetPolicyVersion: the document is compared
					// by the spec tests (BoundaryPolicy), the name here.
					eq(t, "boundary name", aws.ToString(pol.Policy.PolicyName), str("name"))
				case gate.TypeQueue:
					q, _ := res.Outputs[spec.OutVerifyQueueURL].(string)
					out, err := sq.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(q), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll}})
					if err != nil {
						t.Fatalf("queue %s: %v", q, err)
					}
					// kumo does not keep a queue's KmsMasterKeyId; the gate
					// (verify-queue) checks the declared key instead.
					if k := out.Attributes[string(sqstypes.QueueAttributeNameKmsMasterKeyId)]; k != "" {
						eq(t, "queue key", k, keyArn)
					}
					eq(t, "queue retention", out.Attributes[string(sqstypes.QueueAttributeNameMessageRetentionPeriod)], fmt.Sprint(gate.Input(in, "messageRetentionSeconds")))
				case gate.TypeQueuePolicy:
					out, err := sq.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(str("queueUrl")), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNamePolicy}})
					if err != nil {
						t.Fatal(err)
					}
					sameJSON(t, "queue policy", out.Attributes[string(sqstypes.QueueAttributeNamePolicy)], str("policy"))
				case gate.TypeDashboard:
					out, err := cw.GetDashboard(ctx, &cloudwatch.GetDashboardInput{DashboardName: aws.String(str("dashboardName"))})
					if err != nil {
						t.Fatal(err)
					}
					sameJSON(t, "dashboard body", aws.ToString(out.DashboardBody), str("dashboardBody"))
				case gate.TypeBucket:
					b := aws.String(str("bucket"))
					if _, err := s3c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: b}); err != nil {
						t.Fatalf("bucket %s: %v", *b, err)
					}
					tags, err := s3c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: b})
					if err != nil {
						t.Fatal(err)
					}
					got := map[string]string{}
					for _, tg := range tags.TagSet {
						got[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
					}
					eq(t, *b+" tags", got, gate.Input(in, "tags"))
				case gate.TypeBucketVersioning:
					out, err := s3c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(str("bucket"))})
					if err != nil {
						t.Fatal(err)
					}
					eq(t, "bucket versioning", out.Status, str("versioningConfiguration.status"))
				case gate.TypeBucketEncryption:
					out, err := s3c.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String(str("bucket"))})
					if err != nil {
						t.Fatal(err)
					}
					rules, _ := in["rules"].([]any)
					eq(t, "bucket encryption rules", len(out.ServerSideEncryptionConfiguration.Rules), len(rules))
					for i, x := range rules {
						want := x.(map[string]any)
						got := out.ServerSideEncryptionConfiguration.Rules[i]
						eq(t, "bucket SSE algorithm", got.ApplyServerSideEncryptionByDefault.SSEAlgorithm, gate.Input(want, "applyServerSideEncryptionByDefault.sseAlgorithm"))
						eq(t, "bucket SSE key", aws.ToString(got.ApplyServerSideEncryptionByDefault.KMSMasterKeyID), keyArn)
						eq(t, "bucket key", aws.ToBool(got.BucketKeyEnabled), want["bucketKeyEnabled"])
					}
				case gate.TypeBucketPublicAccessBlock:
					out, err := s3c.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: aws.String(str("bucket"))})
					if err != nil {
						t.Fatal(err)
					}
					c := out.PublicAccessBlockConfiguration
					eq(t, "block public ACLs", aws.ToBool(c.BlockPublicAcls), in["blockPublicAcls"])
					eq(t, "block public policy", aws.ToBool(c.BlockPublicPolicy), in["blockPublicPolicy"])
					eq(t, "ignore public ACLs", aws.ToBool(c.IgnorePublicAcls), in["ignorePublicAcls"])
					eq(t, "restrict public buckets", aws.ToBool(c.RestrictPublicBuckets), in["restrictPublicBuckets"])
				case gate.TypeBucketPolicy:
					out, err := s3c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(str("bucket"))})
					if err != nil {
						t.Fatal(err)
					}
					sameJSON(t, "bucket policy", aws.ToString(out.Policy), str("policy"))
				case gate.TypeBucketLifecycle:
					out, err := s3c.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String(str("bucket"))})
					if err != nil {
						t.Fatal(err)
					}
					rules, _ := in["rules"].([]any)
					eq(t, "lifecycle rules", len(out.Rules), len(rules))
					for i, x := range rules {
						want, got := x.(map[string]any), out.Rules[i]
						eq(t, "lifecycle rule id", aws.ToString(got.ID), want["id"])
						eq(t, "lifecycle rule status", got.Status, want["status"])
						eq(t, "lifecycle noncurrent days", float64(aws.ToInt32(got.NoncurrentVersionExpiration.NoncurrentDays)), gate.Input(want, "noncurrentVersionExpiration.noncurrentDays"))
						eq(t, "lifecycle rule expires current versions", got.Expiration != nil, want["expiration"] != nil)
					}
				default:
					// Not held by the emulator: it must be listed as unapplied.
					if _, ok := p.Unapplied()[r.Type+" "+r.Name]; !ok {
						t.Errorf("%s %s was neither checked nor listed as unapplied", r.Type, r.Name)
					}
				}
				checked[r.Type]++
			}
			var types []string
			for k := range checked {
				types = append(types, k)
			}
			sort.Strings(types)
			t.Logf("compared %v", checked)
			if len(types) < 10 {
				t.Errorf("only %d resource types compared", len(types))
			}
			for k, v := range p.Unapplied() {
				t.Errorf("inputs of %s not applied: %v", k, v)
			}
		})
	}
}

func eq(t *testing.T, what string, got, want any) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s: emulator has %v, program declared %v", what, got, want)
	}
}

func sameJSON(t *testing.T, what, got, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Errorf("%s: emulator holds unreadable JSON %q: %v", what, got, err)
		return
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Errorf("%s: declared unreadable JSON: %v", what, err)
		return
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s differs:\nemulator %s\nprogram  %s", what, got, want)
	}
}
