package emulator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"

	"github.com/mirror-dissonance/mirror-infra/spec"
)

func startT(t *testing.T) (*Emulator, aws.Config) {
	t.Helper()
	e := Start()
	t.Cleanup(e.Close)
	cfg, err := e.Config(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return e, cfg
}

// TestSeedCorrect checks every extension through the seeded environment:
// what Seed wrote must read back the way AWS would describe it.
func TestSeedCorrect(t *testing.T) {
	e, cfg := startT(t)
	ctx := context.Background()
	s, err := e.Seed(ctx, SeedOptions{VerifyQueue: true})
	if err != nil {
		t.Fatal(err)
	}
	ddb := dynamodb.NewFromConfig(cfg)
	for _, name := range s.Names.Tables() {
		d, err := ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		if err != nil {
			t.Fatalf("DescribeTable %s: %v", name, err)
		}
		sse := d.Table.SSEDescription
		if sse == nil || sse.Status != ddbtypes.SSEStatusEnabled || sse.SSEType != ddbtypes.SSETypeKms || aws.ToString(sse.KMSMasterKeyArn) != s.KeyArn {
			t.Errorf("%s: SSEDescription = %+v, want ENABLED/KMS/%s", name, sse, s.KeyArn)
		}
		if !aws.ToBool(d.Table.DeletionProtectionEnabled) {
			t.Errorf("%s: deletion protection off", name)
		}
		cb, err := ddb.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String(name)})
		if err != nil {
			t.Fatalf("DescribeContinuousBackups %s: %v", name, err)
		}
		p := cb.ContinuousBackupsDescription.PointInTimeRecoveryDescription
		if p.PointInTimeRecoveryStatus != ddbtypes.PointInTimeRecoveryStatusEnabled || p.LatestRestorableDateTime == nil {
			t.Errorf("%s: PITR = %+v, want ENABLED with a window", name, p)
		}
	}
	if _, err := ddb.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(s.Names.Tables()[0])}); err == nil {
		t.Errorf("DeleteTable of a protected table succeeded")
	}
	rot, err := kms.NewFromConfig(cfg).GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: aws.String(s.Names.KeyAlias())})
	if err != nil || !rot.KeyRotationEnabled {
		t.Errorf("rotation via alias = %v, %v; want enabled", rot, err)
	}
	alarms, err := cloudwatch.NewFromConfig(cfg).DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: s.Names.Alarms()})
	if err != nil {
		t.Fatal(err)
	}
	if len(alarms.MetricAlarms) != 6 {
		t.Fatalf("got %d alarms, want 6", len(alarms.MetricAlarms))
	}
	for _, a := range alarms.MetricAlarms {
		if aws.ToString(a.TreatMissingData) != "notBreaching" || a.StateValue != cwtypes.StateValueOk || a.StateUpdatedTimestamp == nil {
			t.Errorf("alarm %s: treat=%q state=%s ts=%v", aws.ToString(a.AlarmName), aws.ToString(a.TreatMissingData), a.StateValue, a.StateUpdatedTimestamp)
		}
	}
	params, err := ssm.NewFromConfig(cfg).DescribeParameters(ctx, &ssm.DescribeParametersInput{
		ParameterFilters: []ssmtypes.ParameterStringFilter{{Key: aws.String("Name"), Option: aws.String("BeginsWith"), Values: []string{s.Names.NoncePrefix()}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(params.Parameters) != 1 || aws.ToString(params.Parameters[0].KeyId) != s.KeyArn || params.Parameters[0].Type != ssmtypes.ParameterTypeSecureString {
		t.Errorf("nonce parameters = %+v, want one SecureString under %s", params.Parameters, s.KeyArn)
	}
	ta, err := sns.NewFromConfig(cfg).GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(s.TopicArn)})
	if err != nil || ta.Attributes["KmsMasterKeyId"] != s.KeyArn {
		t.Errorf("topic attributes = %v, %v; want KmsMasterKeyId", ta, err)
	}
	if s.QueueURL == "" || len(s.NonceValue) != 64 {
		t.Errorf("seeded queue %q, nonce length %d", s.QueueURL, len(s.NonceValue))
	}
}

func TestSeedDefectsReadBack(t *testing.T) {
	e, cfg := startT(t)
	ctx := context.Background()
	s, err := e.Seed(ctx, SeedOptions{Defects: []Defect{DefectPITROff, DefectRotationOff, DefectTableAWSOwnedKey, DefectAlarmMisconfigured}})
	if err != nil {
		t.Fatal(err)
	}
	ddb := dynamodb.NewFromConfig(cfg)
	consent := s.Names.Table("consent")
	cb, err := ddb.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String(consent)})
	if err != nil || cb.ContinuousBackupsDescription.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus != ddbtypes.PointInTimeRecoveryStatusDisabled {
		t.Errorf("PITR of %s = %+v, %v; want DISABLED", consent, cb, err)
	}
	d, err := ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(consent)})
	if err != nil || d.Table.SSEDescription != nil {
		t.Errorf("SSE of %s = %+v, %v; want none (AWS-owned)", consent, d, err)
	}
	rot, err := kms.NewFromConfig(cfg).GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: aws.String(s.KeyArn)})
	if err != nil || rot.KeyRotationEnabled {
		t.Errorf("rotation = %+v, %v; want disabled", rot, err)
	}
	a, err := cloudwatch.NewFromConfig(cfg).DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{s.Names.ReadThrottleAlarm("fp-events")}})
	if err != nil || len(a.MetricAlarms) != 1 || a.MetricAlarms[0].TreatMissingData != nil {
		t.Errorf("misconfigured alarm = %+v, %v; want no TreatMissingData", a, err)
	}
	if _, err := ddb.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{
		TableName:                        aws.String("no-such-table"),
		PointInTimeRecoverySpecification: &ddbtypes.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(true)},
	}); err == nil {
		t.Errorf("UpdateContinuousBackups on a missing table succeeded")
	}
}

func TestCountsAndFaults(t *testing.T) {
	tests := []struct {
		name   string
		faults Faults
		// code is the error code the SDK must decode when retries are off.
		code string
	}{
		{"throttle", Faults{ThrottleShare: 1, Seed: 1}, "ThrottlingException"},
		{"server error", Faults{ServerErrorShare: 1, Seed: 2}, ""},
		{"query protocol throttle", Faults{ThrottleShare: 1, Seed: 3, Services: []string{"sns"}}, "Throttling"},
		{"cbor throttle", Faults{ThrottleShare: 1, Seed: 4, Services: []string{"monitoring"}}, "ThrottlingException"},
		{"s3 throttle", Faults{ThrottleShare: 1, Seed: 5, Services: []string{"s3"}}, "SlowDown"},
		{"s3 server error", Faults{ServerErrorShare: 1, Seed: 6, Services: []string{"s3"}}, "ServiceUnavailable"},
	}
	e, cfg := startT(t)
	ctx := context.Background()
	noRetry := func(o *dynamodb.Options) { o.Retryer = aws.NopRetryer{} }
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.SetFaults(tc.faults)
			defer e.SetFaults(Faults{})
			e.ResetCounts()
			var err error
			switch {
			case len(tc.faults.Services) > 0 && tc.faults.Services[0] == "sns":
				_, err = sns.NewFromConfig(cfg, func(o *sns.Options) { o.Retryer = aws.NopRetryer{} }).ListTopics(ctx, &sns.ListTopicsInput{})
			case len(tc.faults.Services) > 0 && tc.faults.Services[0] == "s3":
				_, err = s3.NewFromConfig(cfg, func(o *s3.Options) { o.Retryer, o.UsePathStyle = aws.NopRetryer{}, true }).
					GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String("any")})
			case len(tc.faults.Services) > 0 && tc.faults.Services[0] == "monitoring":
				_, err = cloudwatch.NewFromConfig(cfg, func(o *cloudwatch.Options) { o.Retryer = aws.NopRetryer{} }).DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{})
			default:
				_, err = dynamodb.NewFromConfig(cfg, noRetry).ListTables(ctx, &dynamodb.ListTablesInput{})
			}
			if err == nil {
				t.Fatal("a faulted request succeeded")
			}
			if tc.code != "" {
				var ae smithy.APIError
				if !errors.As(err, &ae) || ae.ErrorCode() != tc.code {
					t.Fatalf("error = %v, want code %s", err, tc.code)
				}
			} else if !strings.Contains(err.Error(), "503") {
				t.Fatalf("error = %v, want status 503", err)
			}
			c := e.Counts()
			if c.Total != 1 || c.Faulted != 1 {
				t.Fatalf("counts = %+v, want 1 total, 1 faulted", c)
			}
		})
	}

	// With a share of faults and the SDK's retries, calls still succeed and
	// the counter sees the retries.
	e.SetFaults(Faults{ThrottleShare: 0.2, ServerErrorShare: 0.2, Seed: 7})
	defer e.SetFaults(Faults{})
	e.ResetCounts()
	db := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = 10
			so.MaxBackoff = 5 * time.Millisecond
		})
	})
	for i := 0; i < 20; i++ {
		if _, err := db.ListTables(ctx, &dynamodb.ListTablesInput{}); err != nil {
			t.Fatalf("call %d failed despite retries: %v", i, err)
		}
	}
	c := e.Counts()
	if c.Faulted == 0 || c.Total != 20+c.Faulted || c.ByOperation["dynamodb.ListTables"] != c.Total {
		t.Fatalf("counts = %+v; want 20 successes plus the faulted attempts", c)
	}
}

// TestDynamoDBAnswersCarryCRC32: DynamoDB clients verify X-Amz-Crc32;
// every answer (proxied, rewritten or our own) must carry the right one.
func TestDynamoDBAnswersCarryCRC32(t *testing.T) {
	e, _ := startT(t)
	s, err := e.Seed(context.Background(), SeedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	table := s.Names.Table("fp-events")
	for _, tc := range []struct{ op, body string }{
		{"ListTables", `{}`},
		{"DescribeTable", `{"TableName":"` + table + `"}`},
		{"DescribeContinuousBackups", `{"TableName":"` + table + `"}`},
		{"DescribeTable", `{"TableName":"no-such-table"}`},
	} {
		req, err := http.NewRequest(http.MethodPost, e.URL+"/", strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Amz-Target", "DynamoDB_20120810."+tc.op)
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if got, want := resp.Header.Get("X-Amz-Crc32"), strconv.FormatUint(uint64(crc32.ChecksumIEEE(b)), 10); got != want {
			t.Errorf("%s %s: X-Amz-Crc32 %q, want %q", tc.op, tc.body, got, want)
		}
	}
}

// TestAlarmEvaluation: with evaluation on, notBreaching alarms settle to OK
// (immediately or after the delay) and notify; alarms without a treatment
// stay INSUFFICIENT_DATA.
func TestAlarmEvaluation(t *testing.T) {
	tests := []struct {
		name    string
		after   time.Duration
		treat   *string
		initial cwtypes.StateValue
		final   cwtypes.StateValue
	}{
		{"immediate", 0, aws.String("notBreaching"), cwtypes.StateValueOk, cwtypes.StateValueOk},
		{"delayed", 150 * time.Millisecond, aws.String("notBreaching"), cwtypes.StateValueInsufficientData, cwtypes.StateValueOk},
		{"breaching", 0, aws.String("breaching"), cwtypes.StateValueAlarm, cwtypes.StateValueAlarm},
		{"no treatment", 0, nil, cwtypes.StateValueInsufficientData, cwtypes.StateValueInsufficientData},
		{"evaluation off", -1, aws.String("notBreaching"), cwtypes.StateValueInsufficientData, cwtypes.StateValueInsufficientData},
	}
	e, cfg := startT(t)
	ctx := context.Background()
	cw := cloudwatch.NewFromConfig(cfg)
	topic, err := sns.NewFromConfig(cfg).CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("eval-topic")})
	if err != nil {
		t.Fatal(err)
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.EvaluateAlarms(tc.after)
			defer e.EvaluateAlarms(-1)
			name := fmt.Sprintf("eval-%d", i)
			if _, err := cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
				AlarmName: aws.String(name), Namespace: aws.String("AWS/DynamoDB"), MetricName: aws.String("ReadThrottleEvents"),
				Statistic: cwtypes.StatisticSum, Period: aws.Int32(300), EvaluationPeriods: aws.Int32(2), Threshold: aws.Float64(10),
				ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold, TreatMissingData: tc.treat,
				AlarmActions: []string{aws.ToString(topic.TopicArn)}, OKActions: []string{aws.ToString(topic.TopicArn)},
			}); err != nil {
				t.Fatal(err)
			}
			state := func() cwtypes.StateValue {
				out, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{name}})
				if err != nil || len(out.MetricAlarms) != 1 {
					t.Fatalf("DescribeAlarms: %v, %v", out, err)
				}
				return out.MetricAlarms[0].StateValue
			}
			if got := state(); got != tc.initial {
				t.Errorf("right after creation: %s, want %s", got, tc.initial)
			}
			deadline := time.Now().Add(3 * time.Second)
			for state() != tc.final && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			if got := state(); got != tc.final {
				t.Errorf("after evaluation: %s, want %s", got, tc.final)
			}
		})
	}
}

// TestAlarmNotificationNeedsKeyPolicy: an alarm notifying a topic
// encrypted with a key CloudWatch may not use is dropped; the state still
// changes.
func TestAlarmNotificationNeedsKeyPolicy(t *testing.T) {
	e, cfg := startT(t)
	ctx := context.Background()
	s, err := e.Seed(ctx, SeedOptions{Defects: []Defect{DefectKeyPolicyNoCloudWatch}})
	if err != nil {
		t.Fatal(err)
	}
	good, err := e.Seed(ctx, SeedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cw := cloudwatch.NewFromConfig(cfg)
	for _, tc := range []struct {
		s       *Seeded
		dropped bool
	}{{good, false}, {s, true}} {
		before := len(e.DroppedNotifications())
		alarm := tc.s.Names.Alarms()[0]
		if _, err := cw.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String(alarm), StateValue: cwtypes.StateValueAlarm, StateReason: aws.String("test")}); err != nil {
			t.Fatal(err)
		}
		out, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{alarm}})
		if err != nil || len(out.MetricAlarms) != 1 || out.MetricAlarms[0].StateValue != cwtypes.StateValueAlarm || out.MetricAlarms[0].StateUpdatedTimestamp == nil {
			t.Fatalf("%s after SetAlarmState: %+v, %v; want ALARM with a timestamp", alarm, out, err)
		}
		dropped := e.DroppedNotifications()[before:]
		if (len(dropped) > 0) != tc.dropped {
			t.Errorf("%s: dropped %v, want dropped=%v", alarm, dropped, tc.dropped)
		}
	}
}

// TestCloudWatchJSONProtocol: clients speaking AWS JSON 1.0 to CloudWatch
// (botocore, the AWS CLI) get the same answers as CBOR clients, extensions
// included.
func TestCloudWatchJSONProtocol(t *testing.T) {
	e, _ := startT(t)
	s, err := e.Seed(context.Background(), SeedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	call := func(op, body string) (int, map[string]any) {
		req, err := http.NewRequest(http.MethodPost, e.URL+"/", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Amz-Target", "GraniteServiceVersion20100801."+op)
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/monitoring/aws4_request, SignedHeaders=host, Signature=0")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatalf("%s: answer is not JSON: %v", op, err)
		}
		return resp.StatusCode, out
	}
	name := s.Names.Alarms()[0]
	code, out := call("DescribeAlarms", `{"AlarmNames":["`+name+`"]}`)
	alarms, _ := out["MetricAlarms"].([]any)
	if code != http.StatusOK || len(alarms) != 1 {
		t.Fatalf("DescribeAlarms: %d %v", code, out)
	}
	a := alarms[0].(map[string]any)
	if a["TreatMissingData"] != "notBreaching" || a["StateValue"] != "OK" || a["Period"] != float64(300) {
		t.Errorf("alarm = %v", a)
	}
	if _, ok := a["StateUpdatedTimestamp"].(float64); !ok {
		t.Errorf("StateUpdatedTimestamp = %#v, want epoch seconds", a["StateUpdatedTimestamp"])
	}
	if code, out := call("SetAlarmState", `{"AlarmName":"no-such-alarm","StateValue":"OK","StateReason":"x"}`); code < 400 || out["__type"] == nil {
		t.Errorf("SetAlarmState on a missing alarm: %d %v, want an error with __type", code, out)
	}
}

// TestBaselinesBucketSeedAndDefects: Seed makes the bucket of SPEC 2.10,
// each bucket defect changes exactly what the catalogue says, and the
// counter names S3 requests by their API operation.
func TestBaselinesBucketSeedAndDefects(t *testing.T) {
	e, cfg := startT(t)
	ctx := context.Background()
	c := NewS3Client(cfg)
	type state struct {
		versioning, sseKey string
		bucketKey, blocked bool
		policy             string
	}
	read := func(t *testing.T, bucket string) state {
		t.Helper()
		b := aws.String(bucket)
		v, err := c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: b})
		if err != nil {
			t.Fatal(err)
		}
		enc, err := c.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: b})
		if err != nil {
			t.Fatal(err)
		}
		pab, err := c.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: b})
		if err != nil {
			t.Fatal(err)
		}
		pol, err := c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: b})
		if err != nil {
			t.Fatal(err)
		}
		r := enc.ServerSideEncryptionConfiguration.Rules[0]
		p := pab.PublicAccessBlockConfiguration
		doc, err := spec.ParsePolicy(aws.ToString(pol.Policy))
		if err != nil {
			t.Fatal(err)
		}
		return state{
			versioning: string(v.Status), sseKey: aws.ToString(r.ApplyServerSideEncryptionByDefault.KMSMasterKeyID),
			bucketKey: aws.ToBool(r.BucketKeyEnabled),
			blocked:   aws.ToBool(p.BlockPublicAcls) && aws.ToBool(p.BlockPublicPolicy) && aws.ToBool(p.IgnorePublicAcls) && aws.ToBool(p.RestrictPublicBuckets),
			policy:    spec.TLSOnlyProblem(doc, bucket),
		}
	}
	good, err := e.Seed(ctx, SeedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e.ResetCounts()
	want := state{versioning: "Enabled", sseKey: good.KeyArn, bucketKey: true, blocked: true}
	if got := read(t, good.Names.BaselinesBucket()); got != want {
		t.Errorf("seeded bucket %+v, want %+v", got, want)
	}
	lc, err := c.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String(good.Names.BaselinesBucket())})
	if err != nil || len(lc.Rules) != 1 || aws.ToInt32(lc.Rules[0].NoncurrentVersionExpiration.NoncurrentDays) != spec.BaselineNoncurrentDays {
		t.Errorf("lifecycle %+v, %v; want noncurrent versions expiring after %d days", lc, err, spec.BaselineNoncurrentDays)
	}
	counts := e.Counts()
	for _, op := range []string{"s3.GetBucketVersioning", "s3.GetBucketEncryption", "s3.GetPublicAccessBlock", "s3.GetBucketPolicy", "s3.GetBucketLifecycleConfiguration"} {
		if counts.ByOperation[op] != 1 {
			t.Errorf("%s counted %d times, want 1: %v", op, counts.ByOperation[op], counts.Operations())
		}
	}
	if counts.Total != 5 {
		t.Errorf("%d requests counted, want 5: %v", counts.Total, counts.Operations())
	}

	cases := []struct {
		defect Defect
		change func(*state)
	}{
		{DefectBaselinesUnversioned, func(s *state) { s.versioning = string(s3types.BucketVersioningStatusSuspended) }},
		{DefectBaselinesWrongKey, func(s *state) { s.sseKey = AWSManagedS3Key }},
		{DefectBaselinesPublic, func(s *state) { s.blocked = false }},
		{DefectBaselinesNoTLS, func(s *state) { s.policy = "the deny of non-TLS requests covers the objects but not the bucket " }},
	}
	for _, tc := range cases {
		t.Run(string(tc.defect), func(t *testing.T) {
			s, err := e.Seed(ctx, SeedOptions{Defects: []Defect{tc.defect}})
			if err != nil {
				t.Fatal(err)
			}
			bucket := s.Names.BaselinesBucket()
			want := state{versioning: "Enabled", sseKey: s.KeyArn, bucketKey: true, blocked: true}
			tc.change(&want)
			if want.policy != "" {
				want.policy += bucket
			}
			if got := read(t, bucket); got != want {
				t.Errorf("bucket %+v, want %+v", got, want)
			}
		})
	}
	t.Run(string(DefectBaselinesMissing), func(t *testing.T) {
		s, err := e.Seed(ctx, SeedOptions{Defects: []Defect{DefectBaselinesMissing}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(s.Names.BaselinesBucket())})
		if err == nil {
			t.Errorf("bucket %s exists", s.Names.BaselinesBucket())
		}
	})
}
