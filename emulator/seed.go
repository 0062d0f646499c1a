package emulator

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/mirror-dissonance/mirror-infra/spec"
	"github.com/mirror-dissonance/mirror-infra/verify/target"
)

// Defect is one deliberate deviation from SPEC section 2 that Seed can
// introduce, so a test can show that exactly the matching check fails.
type Defect string

const (
	// DefectPITROff leaves PITR off on the consent table.
	DefectPITROff Defect = "pitr-off"
	// DefectTableMissing does not create the block-counter table.
	DefectTableMissing Defect = "table-missing"
	// DefectTableWrongKey encrypts fp-events with another customer key.
	DefectTableWrongKey Defect = "table-wrong-key"
	// DefectTableAWSOwnedKey leaves consent on the AWS-owned key.
	DefectTableAWSOwnedKey Defect = "table-aws-owned-key"
	// DefectTableWrongSchema gives the consent table a wrong hash key.
	DefectTableWrongSchema Defect = "table-wrong-schema"
	// DefectTTLOff leaves TTL off on the block-counter table.
	DefectTTLOff Defect = "ttl-off"
	// DefectRotationOff leaves key rotation off.
	DefectRotationOff Defect = "rotation-off"
	// DefectAliasMissing creates no alias for the key.
	DefectAliasMissing Defect = "alias-missing"
	// DefectAlarmMissing does not create the consent write-throttle alarm.
	DefectAlarmMissing Defect = "alarm-missing"
	// DefectAlarmMisconfigured creates the fp-events read-throttle alarm
	// without missing-data treatment and with the threshold 50.
	DefectAlarmMisconfigured Defect = "alarm-misconfigured"
	// DefectAlarmNoActions creates the block-counter read-throttle alarm
	// without actions.
	DefectAlarmNoActions Defect = "alarm-no-actions"
	// DefectAlarmsInsufficientData leaves every alarm in INSUFFICIENT_DATA,
	// as right after a deploy.
	DefectAlarmsInsufficientData Defect = "alarms-insufficient-data"
	// DefectKeyPolicyNoCloudWatch gives the key the original plan's policy,
	// which lets no alarm notification reach the encrypted topic (SPEC 9).
	DefectKeyPolicyNoCloudWatch Defect = "key-policy-no-cloudwatch"
	// DefectTopicUnencrypted creates the topic without a KMS key.
	DefectTopicUnencrypted Defect = "topic-unencrypted"
	// DefectOIDCProviderMissing creates no OIDC provider.
	DefectOIDCProviderMissing Defect = "oidc-provider-missing"
	// DefectOIDCPullRequest lets the deploy role trust pull_request.
	DefectOIDCPullRequest Defect = "oidc-pull-request"
	// DefectOIDCWildcard lets the deploy role trust "repo:<org>/<repo>:*".
	DefectOIDCWildcard Defect = "oidc-wildcard"
	// DefectNonceMissing writes no nonce.
	DefectNonceMissing Defect = "nonce-missing"
	// DefectNonceMalformed writes a UUID instead of 64 hex characters.
	DefectNonceMalformed Defect = "nonce-malformed"
	// DefectNonceString writes the nonce as a plain String.
	DefectNonceString Defect = "nonce-string"
	// DefectNonceWrongKey encrypts the nonce with the AWS managed SSM key.
	DefectNonceWrongKey Defect = "nonce-wrong-key"
)

// AllDefects lists every Defect, for table-driven tests.
var AllDefects = []Defect{
	DefectPITROff, DefectTableMissing, DefectTableWrongKey, DefectTableAWSOwnedKey, DefectTableWrongSchema,
	DefectTTLOff, DefectRotationOff, DefectAliasMissing, DefectAlarmMissing, DefectAlarmMisconfigured,
	DefectAlarmNoActions, DefectAlarmsInsufficientData, DefectKeyPolicyNoCloudWatch, DefectTopicUnencrypted, DefectOIDCProviderMissing,
	DefectOIDCPullRequest, DefectOIDCWildcard, DefectNonceMissing, DefectNonceMalformed, DefectNonceString,
	DefectNonceWrongKey,
}

// SeedOptions says what Seed provisions.
type SeedOptions struct {
	// Env is the environment name; empty picks a random unique one ("t"
	// plus 8 hex digits), because kumo's state is shared per process.
	Env string
	// Defects to introduce; none gives a correct environment.
	Defects []Defect
	// ThrottleThreshold of the alarms; 0 means the default 10.
	ThrottleThreshold float64
	// GitHubRepository is "<org>/<repo>"; empty means
	// "mirror-dissonance/mirror-infra".
	GitHubRepository string
	// VerifyQueue creates an SQS queue subscribed to the ops topic, for the
	// alert check to confirm delivery.
	VerifyQueue bool
	// AlertEmail subscribes an address to the ops topic (SPEC 2.3); it
	// shows as pending confirmation until ConfirmEmailSubscriptions.
	AlertEmail string
	// SkipOIDCProvider creates no provider (another stack owns it), without
	// counting as a defect; used to seed two environments in one account.
	SkipOIDCProvider bool
}

// Seeded describes what Seed created.
type Seeded struct {
	Env             string
	Names           spec.Names
	KeyArn          string
	KeyID           string
	OtherKeyArn     string
	TopicArn        string
	QueueURL        string
	OIDCProviderArn string
	DeployRoleArn   string
	PreviewRoleArn  string
	// NonceValue is the secret written as v1 (empty for DefectNonceMissing).
	// It exists so tests can scan every output for it; never print it.
	NonceValue string
	Defects    []Defect
}

// Has reports whether d was seeded.
func (s *Seeded) Has(d Defect) bool {
	for _, x := range s.Defects {
		if x == d {
			return true
		}
	}
	return false
}

// Target is the verifier target of the seeded environment, as stack outputs
// would give it.
func (s *Seeded) Target() target.Env {
	t := target.Env{
		Environment:       s.Env,
		Region:            Region,
		FPEventsTable:     s.Names.Table(spec.TableFPEvents),
		ConsentTable:      s.Names.Table(spec.TableConsent),
		BlockCounterTable: s.Names.Table(spec.TableBlockCounter),
		KMSKey:            s.KeyArn,
		KMSAlias:          s.Names.KeyAlias(),
		TopicArn:          s.TopicArn,
		OIDCProviderArn:   s.OIDCProviderArn,
		DeployRole:        s.DeployRoleArn,
		PreviewRole:       s.PreviewRoleArn,
		NoncePrefix:       s.Names.NoncePrefix(),
		VerifyQueueURL:    s.QueueURL,
	}
	t.Defaults()
	return t
}

// EnvOverrides returns the MD_* variables (target.FromEnv) that point a
// --from-env run of any known environment name at this seeded environment,
// e.g. "verify local --from-env" at a randomly named one.
func (s *Seeded) EnvOverrides() []string {
	t := s.Target()
	p := target.EnvPrefix
	return []string{
		p + "FP_EVENTS_TABLE=" + t.FPEventsTable,
		p + "CONSENT_TABLE=" + t.ConsentTable,
		p + "BLOCK_COUNTER_TABLE=" + t.BlockCounterTable,
		p + "KMS_KEY=" + t.KMSKey,
		p + "KMS_ALIAS=" + t.KMSAlias,
		p + "OPS_TOPIC_ARN=" + t.TopicArn,
		p + "OPS_TOPIC_NAME=" + t.TopicName,
		p + "ALARM_NAMES=" + strings.Join(t.AlarmNames, ","),
		p + "DASHBOARD_NAME=" + t.Dashboard,
		p + "OIDC_PROVIDER_ARN=" + t.OIDCProviderArn,
		p + "DEPLOY_ROLE=" + t.DeployRole,
		p + "PREVIEW_ROLE=" + t.PreviewRole,
		p + "NONCE_PREFIX=" + t.NoncePrefix,
		p + "VERIFY_QUEUE_URL=" + t.VerifyQueueURL,
	}
}

// Env returns the environment variables that point the CLI (target.FromEnv,
// the SDK) at this emulator and environment.
func (e *Emulator) Env(s *Seeded) []string {
	vars := []string{
		"AWS_ENDPOINT_URL=" + e.URL,
		"AWS_REGION=" + Region,
		"AWS_ACCESS_KEY_ID=test",
		"AWS_SECRET_ACCESS_KEY=test",
	}
	if s != nil && s.QueueURL != "" {
		vars = append(vars, target.EnvPrefix+"VERIFY_QUEUE_URL="+s.QueueURL)
	}
	return vars
}

// Seed provisions one environment as SPEC section 2 describes (plus a
// nonce v1), with the given defects.
func (e *Emulator) Seed(ctx context.Context, opts SeedOptions) (*Seeded, error) {
	cfg, err := e.Config(ctx)
	if err != nil {
		return nil, fmt.Errorf("loading the emulator config: %w", err)
	}
	return Seed(ctx, cfg, opts)
}

// Seed provisions one environment through cfg (any endpoint, normally an
// emulator's Config).
func Seed(ctx context.Context, cfg aws.Config, opts SeedOptions) (*Seeded, error) {
	if opts.Env == "" {
		var b [4]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, fmt.Errorf("picking an environment name: %w", err)
		}
		opts.Env = "t" + hex.EncodeToString(b[:])
	}
	if opts.ThrottleThreshold == 0 {
		opts.ThrottleThreshold = 10
	}
	if opts.GitHubRepository == "" {
		opts.GitHubRepository = "mirror-dissonance/mirror-infra"
	}
	s := &Seeded{Env: opts.Env, Names: spec.For(opts.Env), Defects: opts.Defects}
	sd := seeder{
		s: s, o: opts,
		kms: kms.NewFromConfig(cfg), ddb: dynamodb.NewFromConfig(cfg), sns: sns.NewFromConfig(cfg),
		sqs: sqs.NewFromConfig(cfg), cw: cloudwatch.NewFromConfig(cfg), iam: iam.NewFromConfig(cfg),
		ssm: ssm.NewFromConfig(cfg),
	}
	for _, step := range []struct {
		what string
		fn   func(context.Context) error
	}{
		{"the KMS key", sd.key},
		{"the tables", sd.tables},
		{"the topic", sd.topic},
		{"the alarms", sd.alarms},
		{"the verification queue", sd.queue},
		{"the OIDC provider and roles", sd.oidc},
		{"the nonce", sd.nonce},
	} {
		if err := step.fn(ctx); err != nil {
			return nil, fmt.Errorf("seeding %s of %s: %w", step.what, opts.Env, err)
		}
	}
	return s, nil
}

type seeder struct {
	s   *Seeded
	o   SeedOptions
	kms *kms.Client
	ddb *dynamodb.Client
	sns *sns.Client
	sqs *sqs.Client
	cw  *cloudwatch.Client
	iam *iam.Client
	ssm *ssm.Client
}

// KeyPolicy is SPEC 2.1's key policy: the account administers the key;
// DynamoDB and SSM use it on behalf of the account; CloudWatch and SNS may
// decrypt and generate data keys so alarm notifications reach the
// encrypted topic. Without the last statement it is the original plan's
// policy (SPEC 9).
func KeyPolicy(account, region string, withAlarmDelivery bool) string {
	root := "arn:aws:iam::" + account + ":root"
	st := []any{
		map[string]any{"Sid": "AccountAdmin", "Effect": "Allow", "Principal": map[string]any{"AWS": root}, "Action": "kms:*", "Resource": "*"},
		map[string]any{"Sid": "ViaDynamoDBAndSSM", "Effect": "Allow", "Principal": map[string]any{"AWS": "*"},
			"Action": []string{"kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey", "kms:CreateGrant"}, "Resource": "*",
			"Condition": map[string]any{
				"StringEquals": map[string]any{"kms:CallerAccount": account,
					"kms:ViaService": []string{"dynamodb." + region + ".amazonaws.com", "ssm." + region + ".amazonaws.com"}},
			}},
	}
	if withAlarmDelivery {
		st = append(st, map[string]any{"Sid": "AlarmDelivery", "Effect": "Allow",
			"Principal": map[string]any{"Service": []string{"cloudwatch.amazonaws.com", "sns.amazonaws.com"}},
			"Action":    []string{"kms:Decrypt", "kms:GenerateDataKey*"}, "Resource": "*",
			"Condition": map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": account}}})
	}
	b, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": st})
	return string(b)
}

func (sd *seeder) key(ctx context.Context) error {
	out, err := sd.kms.CreateKey(ctx, &kms.CreateKeyInput{
		Description: aws.String("mirror-dissonance " + sd.s.Env),
		Policy:      aws.String(KeyPolicy(AccountID, Region, !sd.s.Has(DefectKeyPolicyNoCloudWatch))),
	})
	if err != nil {
		return fmt.Errorf("creating the key: %w", err)
	}
	sd.s.KeyArn, sd.s.KeyID = aws.ToString(out.KeyMetadata.Arn), aws.ToString(out.KeyMetadata.KeyId)
	if !sd.s.Has(DefectRotationOff) {
		if _, err := sd.kms.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: out.KeyMetadata.KeyId}); err != nil {
			return fmt.Errorf("enabling rotation: %w", err)
		}
	}
	if !sd.s.Has(DefectAliasMissing) {
		if _, err := sd.kms.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String(sd.s.Names.KeyAlias()), TargetKeyId: out.KeyMetadata.KeyId}); err != nil {
			return fmt.Errorf("creating the alias: %w", err)
		}
	}
	if sd.s.Has(DefectTableWrongKey) {
		other, err := sd.kms.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("another key")})
		if err != nil {
			return fmt.Errorf("creating another key: %w", err)
		}
		sd.s.OtherKeyArn = aws.ToString(other.KeyMetadata.Arn)
	}
	return nil
}

func attr(name string) ddbtypes.AttributeDefinition {
	return ddbtypes.AttributeDefinition{AttributeName: aws.String(name), AttributeType: ddbtypes.ScalarAttributeTypeS}
}

func keyElem(name string, t ddbtypes.KeyType) ddbtypes.KeySchemaElement {
	return ddbtypes.KeySchemaElement{AttributeName: aws.String(name), KeyType: t}
}

func (sd *seeder) tables(ctx context.Context) error {
	n := sd.s.Names
	for _, suffix := range spec.TableSuffixes {
		if suffix == spec.TableBlockCounter && sd.s.Has(DefectTableMissing) {
			continue
		}
		in := &dynamodb.CreateTableInput{
			TableName:                 aws.String(n.Table(suffix)),
			BillingMode:               ddbtypes.BillingModePayPerRequest,
			DeletionProtectionEnabled: aws.Bool(true),
			SSESpecification: &ddbtypes.SSESpecification{
				Enabled: aws.Bool(true), SSEType: ddbtypes.SSETypeKms, KMSMasterKeyId: aws.String(sd.s.KeyArn),
			},
		}
		switch suffix {
		case spec.TableFPEvents:
			in.AttributeDefinitions = []ddbtypes.AttributeDefinition{attr("pk"), attr("sk"), attr("gsi1pk"), attr("gsi1sk")}
			in.KeySchema = []ddbtypes.KeySchemaElement{keyElem("pk", ddbtypes.KeyTypeHash), keyElem("sk", ddbtypes.KeyTypeRange)}
			in.GlobalSecondaryIndexes = []ddbtypes.GlobalSecondaryIndex{{
				IndexName:  aws.String("FindingIndex"),
				KeySchema:  []ddbtypes.KeySchemaElement{keyElem("gsi1pk", ddbtypes.KeyTypeHash), keyElem("gsi1sk", ddbtypes.KeyTypeRange)},
				Projection: &ddbtypes.Projection{ProjectionType: ddbtypes.ProjectionTypeAll},
			}}
			if sd.s.Has(DefectTableWrongKey) {
				in.SSESpecification.KMSMasterKeyId = aws.String(sd.s.OtherKeyArn)
			}
		case spec.TableConsent:
			hash := "orgId"
			if sd.s.Has(DefectTableWrongSchema) {
				hash = "org_id"
			}
			in.AttributeDefinitions = []ddbtypes.AttributeDefinition{attr(hash)}
			in.KeySchema = []ddbtypes.KeySchemaElement{keyElem(hash, ddbtypes.KeyTypeHash)}
			if sd.s.Has(DefectTableAWSOwnedKey) {
				in.SSESpecification = nil
			}
		case spec.TableBlockCounter:
			in.AttributeDefinitions = []ddbtypes.AttributeDefinition{attr("bucketKey")}
			in.KeySchema = []ddbtypes.KeySchemaElement{keyElem("bucketKey", ddbtypes.KeyTypeHash)}
		}
		if _, err := sd.ddb.CreateTable(ctx, in); err != nil {
			return fmt.Errorf("creating table %s: %w", n.Table(suffix), err)
		}
		if !(suffix == spec.TableConsent && sd.s.Has(DefectPITROff)) {
			if _, err := sd.ddb.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{
				TableName:                        aws.String(n.Table(suffix)),
				PointInTimeRecoverySpecification: &ddbtypes.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(true)},
			}); err != nil {
				return fmt.Errorf("enabling PITR on %s: %w", n.Table(suffix), err)
			}
		}
		ttl := suffix == spec.TableFPEvents || (suffix == spec.TableBlockCounter && !sd.s.Has(DefectTTLOff))
		if ttl {
			if _, err := sd.ddb.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
				TableName:               aws.String(n.Table(suffix)),
				TimeToLiveSpecification: &ddbtypes.TimeToLiveSpecification{AttributeName: aws.String("expiresAt"), Enabled: aws.Bool(true)},
			}); err != nil {
				return fmt.Errorf("enabling TTL on %s: %w", n.Table(suffix), err)
			}
		}
	}
	return nil
}

func (sd *seeder) topic(ctx context.Context) error {
	topicArn := fmt.Sprintf("arn:aws:sns:%s:%s:%s", Region, AccountID, sd.s.Names.Topic())
	// SPEC 2.3: CloudWatch may publish, for this account's alarms only.
	policy, _ := json.Marshal(map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{map[string]any{
			"Sid": "CloudWatchAlarms", "Effect": "Allow",
			"Principal": map[string]any{"Service": "cloudwatch.amazonaws.com"},
			"Action":    "sns:Publish", "Resource": topicArn,
			"Condition": map[string]any{
				"StringEquals": map[string]any{"aws:SourceAccount": AccountID},
				"ArnLike":      map[string]any{"aws:SourceArn": fmt.Sprintf("arn:aws:cloudwatch:%s:%s:alarm:%s*", Region, AccountID, sd.s.Names.Prefix())},
			},
		}},
	})
	attrs := map[string]string{"KmsMasterKeyId": sd.s.KeyArn, "Policy": string(policy)}
	if sd.s.Has(DefectTopicUnencrypted) {
		delete(attrs, "KmsMasterKeyId")
	}
	out, err := sd.sns.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(sd.s.Names.Topic()), Attributes: attrs})
	if err != nil {
		return fmt.Errorf("creating the topic: %w", err)
	}
	sd.s.TopicArn = aws.ToString(out.TopicArn)
	if sd.o.AlertEmail != "" {
		if _, err := sd.sns.Subscribe(ctx, &sns.SubscribeInput{
			TopicArn: out.TopicArn, Protocol: aws.String("email"), Endpoint: aws.String(sd.o.AlertEmail),
		}); err != nil {
			return fmt.Errorf("subscribing %s: %w", sd.o.AlertEmail, err)
		}
	}
	return nil
}

// queue subscribes a verification queue; it runs after the alarms are set
// to OK so their notifications do not sit in the queue.
func (sd *seeder) queue(ctx context.Context) error {
	if !sd.o.VerifyQueue {
		return nil
	}
	q, err := sd.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(sd.s.Names.Resource("verify"))})
	if err != nil {
		return fmt.Errorf("creating the verification queue: %w", err)
	}
	sd.s.QueueURL = aws.ToString(q.QueueUrl)
	qa, err := sd.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		return fmt.Errorf("reading the queue ARN: %w", err)
	}
	if _, err := sd.sns.Subscribe(ctx, &sns.SubscribeInput{
		TopicArn: aws.String(sd.s.TopicArn), Protocol: aws.String("sqs"), Endpoint: aws.String(qa.Attributes["QueueArn"]),
		Attributes: map[string]string{"RawMessageDelivery": "false"},
	}); err != nil {
		return fmt.Errorf("subscribing the queue: %w", err)
	}
	return nil
}

func (sd *seeder) alarms(ctx context.Context) error {
	n := sd.s.Names
	for _, suffix := range spec.TableSuffixes {
		for _, kind := range []struct{ name, metric string }{
			{n.ReadThrottleAlarm(suffix), "ReadThrottleEvents"},
			{n.WriteThrottleAlarm(suffix), "WriteThrottleEvents"},
		} {
			if kind.name == n.WriteThrottleAlarm(spec.TableConsent) && sd.s.Has(DefectAlarmMissing) {
				continue
			}
			in := &cloudwatch.PutMetricAlarmInput{
				AlarmName:          aws.String(kind.name),
				Namespace:          aws.String("AWS/DynamoDB"),
				MetricName:         aws.String(kind.metric),
				Dimensions:         []cwtypes.Dimension{{Name: aws.String("TableName"), Value: aws.String(n.Table(suffix))}},
				Statistic:          cwtypes.StatisticSum,
				Period:             aws.Int32(300),
				EvaluationPeriods:  aws.Int32(2),
				ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold,
				Threshold:          aws.Float64(sd.o.ThrottleThreshold),
				TreatMissingData:   aws.String("notBreaching"),
				ActionsEnabled:     aws.Bool(true),
				AlarmActions:       []string{sd.s.TopicArn},
				OKActions:          []string{sd.s.TopicArn},
			}
			if kind.name == n.ReadThrottleAlarm(spec.TableFPEvents) && sd.s.Has(DefectAlarmMisconfigured) {
				in.TreatMissingData = nil
				in.Threshold = aws.Float64(50)
			}
			if kind.name == n.ReadThrottleAlarm(spec.TableBlockCounter) && sd.s.Has(DefectAlarmNoActions) {
				in.AlarmActions, in.OKActions = nil, nil
			}
			if _, err := sd.cw.PutMetricAlarm(ctx, in); err != nil {
				return fmt.Errorf("creating alarm %s: %w", kind.name, err)
			}
			if sd.s.Has(DefectAlarmsInsufficientData) {
				continue
			}
			// With notBreaching, idle tables evaluate to OK; the emulator
			// does not evaluate alarms, so set the state evaluation gives.
			if _, err := sd.cw.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{
				AlarmName: aws.String(kind.name), StateValue: cwtypes.StateValueOk,
				StateReason: aws.String("seeded: no throttle events on an idle table"),
			}); err != nil {
				return fmt.Errorf("setting alarm %s to OK: %w", kind.name, err)
			}
		}
	}
	return nil
}

func trustPolicy(providerArn, condOp string, subs []string) string {
	cond := map[string]map[string]any{
		"StringEquals": {"token.actions.githubusercontent.com:aud": spec.GitHubOIDCAudience},
	}
	if cond[condOp] == nil {
		cond[condOp] = map[string]any{}
	}
	cond[condOp]["token.actions.githubusercontent.com:sub"] = subs
	doc := map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{map[string]any{
			"Effect":    "Allow",
			"Principal": map[string]any{"Federated": providerArn},
			"Action":    "sts:AssumeRoleWithWebIdentity",
			"Condition": cond,
		}},
	}
	b, _ := json.Marshal(doc)
	return string(b)
}

func (sd *seeder) oidc(ctx context.Context) error {
	host := strings.TrimPrefix(spec.GitHubOIDCURL, "https://")
	sd.s.OIDCProviderArn = fmt.Sprintf("arn:aws:iam::%s:oidc-provider/%s", AccountID, host)
	if sd.s.Has(DefectOIDCProviderMissing) {
		// The real provider is one per account and other environments in
		// this process may have created it, so the defect is a provider
		// ARN (in the target and the roles' trust) that does not exist.
		sd.s.OIDCProviderArn += "/missing-" + sd.s.Env
	}
	if !sd.s.Has(DefectOIDCProviderMissing) && !sd.o.SkipOIDCProvider {
		out, err := sd.iam.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{
			Url:            aws.String(spec.GitHubOIDCURL),
			ClientIDList:   []string{spec.GitHubOIDCAudience},
			ThumbprintList: []string{"6938fd4d98bab03faadb97b34396831e3780aea1"},
		})
		// The provider is one per account: another seeded environment in
		// this process may have created it already.
		if err != nil && !strings.Contains(err.Error(), "EntityAlreadyExists") {
			return fmt.Errorf("creating the provider: %w", err)
		}
		if err == nil && aws.ToString(out.OpenIDConnectProviderArn) != sd.s.OIDCProviderArn {
			return fmt.Errorf("the provider was created as %s, want %s", aws.ToString(out.OpenIDConnectProviderArn), sd.s.OIDCProviderArn)
		}
	}
	repo := "repo:" + sd.o.GitHubRepository
	deploySubs := []string{repo + ":ref:refs/heads/main", repo + ":environment:" + sd.s.Env}
	condOp := "StringEquals"
	if sd.s.Has(DefectOIDCPullRequest) {
		deploySubs = append(deploySubs, repo+":pull_request")
	}
	if sd.s.Has(DefectOIDCWildcard) {
		deploySubs, condOp = []string{repo + ":*"}, "StringLike"
	}
	for _, role := range []struct {
		name, policy string
		arn          *string
	}{
		{sd.s.Names.DeployRole(), trustPolicy(sd.s.OIDCProviderArn, condOp, deploySubs), &sd.s.DeployRoleArn},
		{sd.s.Names.PreviewRole(), trustPolicy(sd.s.OIDCProviderArn, "StringEquals", []string{repo + ":pull_request"}), &sd.s.PreviewRoleArn},
	} {
		out, err := sd.iam.CreateRole(ctx, &iam.CreateRoleInput{
			RoleName: aws.String(role.name), AssumeRolePolicyDocument: aws.String(role.policy), MaxSessionDuration: aws.Int32(3600),
		})
		if err != nil {
			return fmt.Errorf("creating role %s: %w", role.name, err)
		}
		*role.arn = aws.ToString(out.Role.Arn)
	}
	return nil
}

// NewNonceValue returns 64 lowercase hex characters from crypto/rand, the
// format of SPEC section 4.
func NewNonceValue() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("reading random bytes: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

func (sd *seeder) nonce(ctx context.Context) error {
	if sd.s.Has(DefectNonceMissing) {
		return nil
	}
	value, err := NewNonceValue()
	if err != nil {
		return err
	}
	in := &ssm.PutParameterInput{
		Name: aws.String(sd.s.Names.NonceParameter(1)), Type: ssmtypes.ParameterTypeSecureString, KeyId: aws.String(sd.s.KeyArn),
	}
	switch {
	case sd.s.Has(DefectNonceMalformed):
		value = "3f2b8c1e-9a4d-4e7f-b6c5-0d1e2f3a4b5c"
	case sd.s.Has(DefectNonceString):
		in.Type, in.KeyId = ssmtypes.ParameterTypeString, nil
	case sd.s.Has(DefectNonceWrongKey):
		in.KeyId = nil
	}
	in.Value = aws.String(value)
	if _, err := sd.ssm.PutParameter(ctx, in); err != nil {
		return fmt.Errorf("writing %s: %w", sd.s.Names.NonceParameter(1), err)
	}
	sd.s.NonceValue = value
	return nil
}
