package emulator

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

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
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/mirror-dissonance/mirror-infra/spec"
)

// The resources of the Terraform world, one step per module of the
// original configuration.

// keys makes module.kms: the main key (its policy has no CloudWatch
// statement: no alarm notification reaches the encrypted topic), the
// CloudWatch Logs and SNS keys, and their aliases.
func (t *tfSeeder) keys(ctx context.Context) error {
	root := map[string]any{"Sid": "Enable IAM User Permissions", "Effect": "Allow", "Principal": map[string]any{"AWS": "arn:aws:iam::" + AccountID + ":root"}, "Action": "kms:*", "Resource": "*"}
	svc := func(sid, service string, actions ...string) map[string]any {
		return map[string]any{"Sid": sid, "Effect": "Allow", "Principal": map[string]any{"Service": service}, "Action": actions, "Resource": "*"}
	}
	p := spec.Project + "-" + t.o.Env
	for _, k := range []struct {
		alias, desc, name string
		policy            string
		main              bool
	}{
		{"alias/" + p, spec.Project + " " + t.o.Env + " encryption key", p + "-key", policyJSON(root,
			svc("Allow DynamoDB to use the key", "dynamodb.amazonaws.com", "kms:Decrypt", "kms:DescribeKey", "kms:CreateGrant"),
			svc("Allow SSM to use the key", "ssm.amazonaws.com", "kms:Decrypt", "kms:DescribeKey", "kms:CreateGrant"),
			svc("Allow CloudWatch Logs", "logs."+Region+".amazonaws.com", "kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:CreateGrant", "kms:DescribeKey")), true},
		{"alias/" + p + "-cloudwatch", spec.Project + " " + t.o.Env + " CloudWatch Logs encryption", p + "-cloudwatch-key", policyJSON(root,
			svc("Allow CloudWatch Logs", "logs."+Region+".amazonaws.com", "kms:Encrypt", "kms:Decrypt")), false},
		{"alias/" + p + "-sns", spec.Project + " " + t.o.Env + " SNS encryption", p + "-sns-key", policyJSON(root,
			svc("Allow SNS", "sns.amazonaws.com", "kms:Decrypt", "kms:GenerateDataKey"),
			svc("Allow CloudWatch Alarms", "cloudwatch.amazonaws.com", "kms:Decrypt", "kms:GenerateDataKey")), false},
	} {
		var tags []kmstypes.Tag
		for key, v := range t.tags("Name", k.name) {
			tags = append(tags, kmstypes.Tag{TagKey: aws.String(key), TagValue: aws.String(v)})
		}
		out, err := t.kms.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String(k.desc), Policy: aws.String(k.policy), Tags: tags})
		if err != nil {
			return fmt.Errorf("creating the key %s: %w", k.alias, err)
		}
		id := aws.ToString(out.KeyMetadata.KeyId)
		t.onUndo(func(ctx context.Context) error {
			_, err := t.kms.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: aws.String(id), PendingWindowInDays: aws.Int32(7)})
			return err
		})
		if _, err := t.kms.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: aws.String(id)}); err != nil {
			return fmt.Errorf("enabling rotation of %s: %w", k.alias, err)
		}
		if _, err := t.kms.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String(k.alias), TargetKeyId: aws.String(id)}); err != nil {
			return fmt.Errorf("creating the alias %s: %w", k.alias, err)
		}
		alias := k.alias
		t.onUndo(func(ctx context.Context) error {
			_, err := t.kms.DeleteAlias(ctx, &kms.DeleteAliasInput{AliasName: aws.String(alias)})
			return err
		})
		if k.main {
			t.s.KeyID, t.s.KeyArn = id, aws.ToString(out.KeyMetadata.Arn)
		}
	}
	return nil
}

// tfTables are module.dynamodb's tables: the three of SPEC 2.2 and the
// governance cache, with the purposes the original tagged.
func (t *tfSeeder) tfTables() []struct {
	schema  spec.TableSchema
	purpose string
} {
	var out []struct {
		schema  spec.TableSchema
		purpose string
	}
	purposes := map[string]string{spec.TableFPEvents: "FalsePositiveTracking", spec.TableConsent: "ConsentManagement", spec.TableBlockCounter: "CircuitBreakerTracking"}
	for _, s := range spec.TableSchemas {
		if s.Suffix == spec.TableBlockCounter && t.o.Has(TFMissing) {
			continue
		}
		if s.Suffix == spec.TableConsent && t.o.Has(TFKeySchema) {
			s.HashKey, s.RangeKey = "pk", "sk"
		}
		out = append(out, struct {
			schema  spec.TableSchema
			purpose string
		}{s, purposes[s.Suffix]})
	}
	out = append(out, struct {
		schema  spec.TableSchema
		purpose string
	}{spec.TableSchema{Suffix: "governance-cache", HashKey: "org", RangeKey: "repo", TTLAttribute: spec.TTLAttribute}, "GovernanceCache"})
	return out
}

func (t *tfSeeder) tables(ctx context.Context) error {
	for _, tt := range t.tfTables() {
		name := t.names().Table(tt.schema.Suffix)
		in := createTableInput(name, tt.schema)
		// PITR and SSE with the main key as the module sets them; no
		// deletion protection (the module never set it).
		in.SSESpecification = &ddbtypes.SSESpecification{Enabled: aws.Bool(true), SSEType: ddbtypes.SSETypeKms, KMSMasterKeyId: aws.String(t.s.KeyArn)}
		for k, v := range t.tags("Name", name, "Purpose", tt.purpose) {
			in.Tags = append(in.Tags, ddbtypes.Tag{Key: aws.String(k), Value: aws.String(v)})
		}
		if _, err := t.ddb.CreateTable(ctx, in); err != nil {
			return fmt.Errorf("creating table %s: %w", name, err)
		}
		t.s.Tables = append(t.s.Tables, name)
		t.onUndo(func(ctx context.Context) error {
			_, _ = t.ddb.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String(name), DeletionProtectionEnabled: aws.Bool(false)})
			_, err := t.ddb.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)})
			return err
		})
		if _, err := t.ddb.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{TableName: aws.String(name),
			PointInTimeRecoverySpecification: &ddbtypes.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(true)}}); err != nil {
			return fmt.Errorf("enabling PITR on %s: %w", name, err)
		}
		if a := tt.schema.TTLAttribute; a != "" {
			if _, err := t.ddb.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String(name),
				TimeToLiveSpecification: &ddbtypes.TimeToLiveSpecification{Enabled: aws.Bool(true), AttributeName: aws.String(a)}}); err != nil {
				return fmt.Errorf("enabling TTL on %s: %w", name, err)
			}
		}
	}
	return nil
}

func (t *tfSeeder) nonce(ctx context.Context) error {
	v, err := NewNonceValue()
	if err != nil {
		return err
	}
	name := t.names().NonceParameter(1)
	if _, err := t.ssm.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(name), Type: ssmtypes.ParameterTypeSecureString,
		Value: aws.String(v), KeyId: aws.String(t.s.KeyID), Description: aws.String("Redaction nonce version 1 for " + t.o.Env)}); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	t.onUndo(func(ctx context.Context) error {
		_, err := t.ssm.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String(name)})
		return err
	})
	return nil
}

// monitoring makes module.cloudwatch: the topic (encrypted by key id, no
// policy, no subscription: alert_email is empty in the tfvars), the six
// throttle alarms without missing-data treatment or OK actions, the SSM
// and circuit-breaker alarms, both dashboards.
func (t *tfSeeder) monitoring(ctx context.Context) error {
	n := t.names()
	topicAttrs, topicTags := map[string]string{"KmsMasterKeyId": t.s.KeyID}, t.tags("Name", n.Topic())
	if t.o.Has(TFForeign) {
		// Another team's topic of the same name: theirs, unencrypted.
		topicAttrs, topicTags = nil, map[string]string{"Project": "BillingPlatform", "ManagedBy": "CloudFormation", "Owner": "billing-team"}
	}
	var st []snstypes.Tag
	for k, v := range topicTags {
		st = append(st, snstypes.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	out, err := t.sns.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(n.Topic()), Attributes: topicAttrs, Tags: st})
	if err != nil {
		return fmt.Errorf("creating topic %s: %w", n.Topic(), err)
	}
	topic := aws.ToString(out.TopicArn)
	t.onUndo(func(ctx context.Context) error {
		_, err := t.sns.DeleteTopic(ctx, &sns.DeleteTopicInput{TopicArn: aws.String(topic)})
		return err
	})
	var cwTags []cwtypes.Tag
	for k, v := range t.tags() {
		cwTags = append(cwTags, cwtypes.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	labels := map[string]string{spec.TableFPEvents: "FP Events", spec.TableConsent: "Consent", spec.TableBlockCounter: "Block Counter"}
	var alarms []string
	for _, a := range n.ThrottleAlarms() {
		alarms = append(alarms, a.Name)
		if _, err := t.cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
			AlarmName: aws.String(a.Name), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold,
			EvaluationPeriods: aws.Int32(2), MetricName: aws.String(a.Metric), Namespace: aws.String(spec.AlarmNamespace),
			Period: aws.Int32(300), Statistic: cwtypes.StatisticSum, Threshold: aws.Float64(10),
			AlarmDescription: aws.String(fmt.Sprintf("%s table experiencing %s throttling", labels[a.Table], a.Op)),
			AlarmActions:     []string{topic},
			Dimensions:       []cwtypes.Dimension{{Name: aws.String(spec.AlarmDimension), Value: aws.String(a.TableName)}},
			Tags:             cwTags,
		}); err != nil {
			return fmt.Errorf("creating alarm %s: %w", a.Name, err)
		}
	}
	ns := spec.Project + "/" + t.o.Env
	for _, a := range []struct{ name, metric string }{
		{n.Resource("ssm-parameter-failures"), "SSMParameterFailures"},
		{n.Resource("circuit-breaker-triggered"), "CircuitBreakerTriggers"},
	} {
		alarms = append(alarms, a.name)
		if _, err := t.cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
			AlarmName: aws.String(a.name), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold,
			EvaluationPeriods: aws.Int32(1), MetricName: aws.String(a.metric), Namespace: aws.String(ns),
			Period: aws.Int32(300), Statistic: cwtypes.StatisticSum, Threshold: aws.Float64(5),
			AlarmActions: []string{topic}, TreatMissingData: aws.String(spec.AlarmTreatMissingData), Tags: cwTags,
		}); err != nil {
			return fmt.Errorf("creating alarm %s: %w", a.name, err)
		}
	}
	t.onUndo(func(ctx context.Context) error {
		_, err := t.cw.DeleteAlarms(ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: alarms})
		return err
	})
	body, _ := json.Marshal(map[string]any{"widgets": []any{
		map[string]any{"type": "metric", "properties": map[string]any{"metrics": []any{[]any{spec.AlarmNamespace, "ConsumedReadCapacityUnits"}}, "period": 300, "stat": "Sum", "region": Region, "title": "DynamoDB Capacity Usage"}},
		map[string]any{"type": "metric", "properties": map[string]any{"metrics": []any{[]any{spec.AlarmNamespace, spec.MetricReadThrottle}}, "period": 300, "stat": "Sum", "region": Region, "title": "DynamoDB Throttling"}},
	}})
	main := string(body)
	for _, d := range []string{n.Dashboard(), "MirrorDissonance-Infrastructure-" + t.o.Env} {
		if _, err := t.cw.PutDashboard(ctx, &cloudwatch.PutDashboardInput{DashboardName: aws.String(d), DashboardBody: aws.String(main)}); err != nil {
			return fmt.Errorf("creating dashboard %s: %w", d, err)
		}
	}
	t.onUndo(func(ctx context.Context) error {
		_, err := t.cw.DeleteDashboards(ctx, &cloudwatch.DeleteDashboardsInput{DashboardNames: []string{n.Dashboard(), "MirrorDissonance-Infrastructure-" + t.o.Env}})
		return err
	})
	return nil
}

// bucket makes the baselines bucket of main.tf: versioned, SSE-KMS with
// the main key and a bucket key, public access blocked; no TLS-only policy
// and no lifecycle (the original had neither).
func (t *tfSeeder) bucket(ctx context.Context) error {
	name := t.names().BaselinesBucket()
	b := aws.String(name)
	if _, err := t.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: b}); err != nil {
		return fmt.Errorf("creating bucket %s: %w", name, err)
	}
	t.onUndo(func(ctx context.Context) error { return emptyAndDeleteBucket(ctx, t.s3, name) })
	var tags []s3types.Tag
	for k, v := range t.tags("Name", name, "Purpose", "DriftBaselines") {
		tags = append(tags, s3types.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	steps := []func() error{
		func() error {
			_, err := t.s3.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: b, Tagging: &s3types.Tagging{TagSet: tags}})
			return err
		},
		func() error {
			_, err := t.s3.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: b, VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}})
			return err
		},
		func() error {
			_, err := t.s3.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: b, ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{
				Rules: []s3types.ServerSideEncryptionRule{{BucketKeyEnabled: aws.Bool(true), ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{
					SSEAlgorithm: s3types.ServerSideEncryptionAwsKms, KMSMasterKeyID: aws.String(t.s.KeyArn)}}}}})
			return err
		},
		func() error {
			_, err := t.s3.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: b, PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{
				BlockPublicAcls: aws.Bool(true), BlockPublicPolicy: aws.Bool(true), IgnorePublicAcls: aws.Bool(true), RestrictPublicBuckets: aws.Bool(true)}})
			return err
		},
	}
	for _, s := range steps {
		if err := s(); err != nil {
			return fmt.Errorf("configuring bucket %s: %w", name, err)
		}
	}
	// A baseline the Oracle wrote before the adoption.
	if _, err := t.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: aws.String("baselines/terraform-era.json"), Body: strings.NewReader(`{"written":"before adoption"}`)}); err != nil {
		return fmt.Errorf("writing a baseline into %s: %w", name, err)
	}
	return nil
}

func emptyAndDeleteBucket(ctx context.Context, c *s3.Client, name string) error {
	pages := s3.NewListObjectVersionsPaginator(c, &s3.ListObjectVersionsInput{Bucket: aws.String(name)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("listing the versions in %s: %w", name, err)
		}
		for _, v := range page.Versions {
			if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(name), Key: v.Key, VersionId: v.VersionId}); err != nil {
				return fmt.Errorf("deleting %s from %s: %w", aws.ToString(v.Key), name, err)
			}
		}
		for _, m := range page.DeleteMarkers {
			if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(name), Key: m.Key, VersionId: m.VersionId}); err != nil {
				return fmt.Errorf("deleting a marker of %s from %s: %w", aws.ToString(m.Key), name, err)
			}
		}
	}
	_, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(name)})
	return err
}

// iamRoles makes the account's OIDC provider (when no environment made it
// yet: the original declared it in every workspace) and module.iam's
// Terraform and deploy roles, both trusting pull_request and develop.
func (t *tfSeeder) iamRoles(ctx context.Context) error {
	provider := account().OIDCProviderArn()
	_, err := t.iam.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{
		Url: aws.String(spec.GitHubOIDCURL), ClientIDList: []string{spec.GitHubOIDCAudience},
		ThumbprintList: []string{"6938fd4d98bab03faadb97b34396831e3780aea1"},
	})
	switch {
	case err == nil:
		t.onUndo(func(ctx context.Context) error {
			_, err := t.iam.DeleteOpenIDConnectProvider(ctx, &iam.DeleteOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(provider)})
			return err
		})
	case !strings.Contains(err.Error(), "EntityAlreadyExists"):
		return fmt.Errorf("creating the OIDC provider: %w", err)
	}
	repo := "repo:" + t.o.GitHubOrg + "/" + t.o.GitHubRepo
	trust := policyJSON(map[string]any{"Effect": "Allow", "Principal": map[string]any{"Federated": provider}, "Action": "sts:AssumeRoleWithWebIdentity",
		"Condition": map[string]any{"StringEquals": map[string]any{spec.OIDCAudienceKey: spec.GitHubOIDCAudience},
			"StringLike": map[string]any{spec.OIDCSubjectKey: []string{repo + ":ref:refs/heads/main", repo + ":ref:refs/heads/develop", repo + ":pull_request"}}}})
	n := t.names()
	for _, r := range []struct{ name, desc, purpose, policyName, policy string }{
		{n.Resource("github-terraform"), "Role for GitHub Actions to run Terraform", "GitHubActionsTerraform", "TerraformOperations",
			policyJSON(map[string]any{"Sid": "DynamoDBManagement", "Effect": "Allow", "Action": []string{"dynamodb:CreateTable", "dynamodb:DescribeTable"},
				"Resource": "arn:aws:dynamodb:*:" + AccountID + ":table/" + n.Prefix() + "*"})},
		{n.DeployRole(), "Role for GitHub Actions to deploy and test", "GitHubActionsDeploy", "DeployOperations",
			policyJSON(map[string]any{"Sid": "DynamoDBAccess", "Effect": "Allow", "Action": []string{"dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:Query"},
				"Resource": "arn:aws:dynamodb:*:" + AccountID + ":table/" + n.Prefix() + "*"})},
	} {
		var tags []iamtypes.Tag
		for k, v := range t.tags("Name", r.name, "Purpose", r.purpose) {
			tags = append(tags, iamtypes.Tag{Key: aws.String(k), Value: aws.String(v)})
		}
		if _, err := t.iam.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(r.name), Description: aws.String(r.desc),
			AssumeRolePolicyDocument: aws.String(trust), MaxSessionDuration: aws.Int32(3600), Tags: tags}); err != nil {
			return fmt.Errorf("creating role %s: %w", r.name, err)
		}
		role, pol := r.name, r.policyName
		t.onUndo(func(ctx context.Context) error {
			// Inline policies (ours, after an adoption, too) go first.
			if l, err := t.iam.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String(role)}); err == nil {
				for _, p := range l.PolicyNames {
					_, _ = t.iam.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String(p)})
				}
			}
			_, err := t.iam.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String(role)})
			return err
		})
		if _, err := t.iam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String(pol), PolicyDocument: aws.String(r.policy)}); err != nil {
			return fmt.Errorf("writing policy %s of %s: %w", pol, role, err)
		}
	}
	return nil
}
