package emulator

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/mirror-dissonance/mirror-infra/spec"
)

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
	// OracleSubjects are the subjects the Oracle role trusts (a stack
	// config's oracleSubjects); empty means the org's "oracle" repository
	// from the environment of the environment's name.
	OracleSubjects []string
	// VerifyQueue creates an SQS queue subscribed to the ops topic, for the
	// alert check to confirm delivery.
	VerifyQueue bool
	// AlertEmail subscribes an address to the ops topic (SPEC 2.3); it
	// shows as pending confirmation until ConfirmEmailSubscriptions.
	AlertEmail string
	// SkipOIDCProvider creates no provider (another stack owns it), without
	// counting as a defect; used to seed two environments in one account.
	SkipOIDCProvider bool
	// SkipNonce writes no nonce version, without counting as a defect: for
	// tests of code that bootstraps the nonce itself.
	SkipNonce bool
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
// emulator's Config), built from the spec package's facts.
func Seed(ctx context.Context, cfg aws.Config, opts SeedOptions) (*Seeded, error) {
	if opts.Env == "" {
		var b [4]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, fmt.Errorf("picking an environment name: %w", err)
		}
		opts.Env = "t" + hex.EncodeToString(b[:])
	}
	if opts.ThrottleThreshold == 0 {
		opts.ThrottleThreshold = spec.DefaultThrottleThreshold
	}
	if opts.GitHubRepository == "" {
		opts.GitHubRepository = "mirror-dissonance/mirror-infra"
	}
	for _, d := range opts.Defects {
		if _, err := LookupDefect(string(d)); err != nil {
			return nil, fmt.Errorf("seeding %s: %w", opts.Env, err)
		}
	}
	s := &Seeded{Config: cfg, Env: opts.Env, Names: spec.For(opts.Env), Defects: opts.Defects}
	sd := seeder{
		s: s, o: opts, injector: newInjector(cfg),
		sns: sns.NewFromConfig(cfg), sqs: sqs.NewFromConfig(cfg), cw: cloudwatch.NewFromConfig(cfg), iam: iam.NewFromConfig(cfg),
	}
	// kumo keeps its state per process, so a second Seed of one name would
	// fail half-way on a resource that exists; say so up front.
	if _, err := sd.ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(s.Names.Table(spec.TableFPEvents))}); err == nil {
		return nil, fmt.Errorf("seeding %s: the environment already exists in this process (kumo keeps its state per process, across emulators): give each Seed its own Env, or none for a unique one", opts.Env)
	}
	if what, err := runSteps(ctx, []seedStep{
		{"the KMS key", sd.key},
		{"the tables", sd.tables},
		{"the baselines bucket", sd.bucket},
		{"the topic", sd.topic},
		{"the alarms", sd.alarms},
		{"the verification queue", sd.queue},
		{"the OIDC provider and roles", sd.oidc},
		{"the nonce", sd.nonce},
		{"the defects made outside Pulumi", sd.injectDefects},
	}); err != nil {
		return nil, fmt.Errorf("seeding %s of %s: %w", what, opts.Env, err)
	}
	return s, nil
}

// seedStep is one named step of a seeding.
type seedStep struct {
	what string
	fn   func(context.Context) error
}

// runSteps runs steps in order and stops at the first that fails,
// returning what it seeds and its error.
func runSteps(ctx context.Context, steps []seedStep) (string, error) {
	for _, step := range steps {
		if err := step.fn(ctx); err != nil {
			return step.what, err
		}
	}
	return "", nil
}

type seeder struct {
	s *Seeded
	o SeedOptions
	injector
	sns *sns.Client
	sqs *sqs.Client
	cw  *cloudwatch.Client
	iam *iam.Client
}

// hits reports whether defect d is seeded and hits the resource with the
// given suffix (see DefectInfo.Resource).
func (sd *seeder) hits(d Defect, resource string) bool {
	return sd.s.Has(d) && d.resource() == resource
}

func account() spec.Account { return spec.Account{ID: AccountID, Region: Region} }

func (sd *seeder) key(ctx context.Context) error {
	doc := spec.KeyPolicy(account())
	if sd.s.Has(DefectKeyPolicyNoCloudWatch) {
		doc = doc.Without(spec.SidKeyCloudWatchAlarms, spec.SidKeySNSDelivery) // the original plan's policy
	}
	policy, err := doc.JSON()
	if err != nil {
		return err
	}
	out, err := sd.kms.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("mirror-dissonance " + sd.s.Env), Policy: aws.String(policy)})
	if err != nil {
		return fmt.Errorf("creating the key: %w", err)
	}
	sd.s.KeyArn, sd.s.KeyID = aws.ToString(out.KeyMetadata.Arn), aws.ToString(out.KeyMetadata.KeyId)
	if _, err := sd.kms.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: out.KeyMetadata.KeyId}); err != nil {
		return fmt.Errorf("enabling rotation: %w", err)
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

// bucket creates the baselines bucket as SPEC 2.10 says; the defects that
// reconfigure it are made afterwards by injectDefects, through Inject's code.
func (sd *seeder) bucket(ctx context.Context) error {
	if sd.s.Has(DefectBaselinesMissing) {
		return nil
	}
	name := sd.s.Names.BaselinesBucket()
	b := aws.String(name)
	cb := &s3.CreateBucketInput{Bucket: b}
	if Region != "us-east-1" { // us-east-1 takes no location constraint
		cb.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(Region)}
	}
	if _, err := sd.s3.CreateBucket(ctx, cb); err != nil {
		return fmt.Errorf("creating bucket %s: %w", name, err)
	}
	if _, err := sd.s3.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: b,
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}); err != nil {
		return fmt.Errorf("enabling versioning on %s: %w", name, err)
	}
	if err := sd.putBucketEncryption(ctx, name, sd.s.KeyArn); err != nil {
		return err
	}
	if err := sd.putPublicAccessBlock(ctx, name, true); err != nil {
		return err
	}
	if err := sd.putBucketPolicy(ctx, name, spec.BaselinesBucketPolicy(account().BucketArn(name))); err != nil {
		return err
	}
	if _, err := sd.s3.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{Bucket: b,
		LifecycleConfiguration: &s3types.BucketLifecycleConfiguration{Rules: []s3types.LifecycleRule{{
			ID: aws.String(spec.BaselinesLifecycleRuleID), Status: s3types.ExpirationStatusEnabled,
			Filter:                      &s3types.LifecycleRuleFilter{Prefix: aws.String("")},
			NoncurrentVersionExpiration: &s3types.NoncurrentVersionExpiration{NoncurrentDays: aws.Int32(spec.BaselineNoncurrentDays)},
		}}}}); err != nil {
		return fmt.Errorf("setting the lifecycle of %s: %w", name, err)
	}
	return nil
}

// createTableInput is the CreateTable request of a table schema.
func createTableInput(name string, t spec.TableSchema) *dynamodb.CreateTableInput {
	key := func(attr string, kt ddbtypes.KeyType) []ddbtypes.KeySchemaElement {
		return []ddbtypes.KeySchemaElement{{AttributeName: aws.String(attr), KeyType: kt}}
	}
	keys := func(hash, rng string) []ddbtypes.KeySchemaElement {
		ks := key(hash, ddbtypes.KeyTypeHash)
		if rng != "" {
			ks = append(ks, key(rng, ddbtypes.KeyTypeRange)...)
		}
		return ks
	}
	in := &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: ddbtypes.BillingMode(spec.BillingMode),
		KeySchema:   keys(t.HashKey, t.RangeKey),
	}
	for _, a := range t.AttributeNames() {
		in.AttributeDefinitions = append(in.AttributeDefinitions,
			ddbtypes.AttributeDefinition{AttributeName: aws.String(a), AttributeType: ddbtypes.ScalarAttributeType(spec.AttributeTypeString)})
	}
	if ix := t.Index; ix != nil {
		in.GlobalSecondaryIndexes = []ddbtypes.GlobalSecondaryIndex{{
			IndexName: aws.String(ix.Name), KeySchema: keys(ix.HashKey, ix.RangeKey),
			Projection: &ddbtypes.Projection{ProjectionType: ddbtypes.ProjectionType(spec.ProjectionAll)},
		}}
	}
	return in
}

func (sd *seeder) tables(ctx context.Context) error {
	for _, t := range spec.TableSchemas {
		if sd.hits(DefectTableMissing, t.Suffix) {
			continue
		}
		if sd.hits(DefectTableWrongSchema, t.Suffix) {
			t.HashKey = "org_id" // t is a copy
		}
		name := sd.s.Names.Table(t.Suffix)
		in := createTableInput(name, t)
		in.DeletionProtectionEnabled = aws.Bool(true)
		keyArn := sd.s.KeyArn
		if sd.hits(DefectTableWrongKey, t.Suffix) {
			keyArn = sd.s.OtherKeyArn
		}
		if !sd.hits(DefectTableAWSOwnedKey, t.Suffix) {
			in.SSESpecification = &ddbtypes.SSESpecification{Enabled: aws.Bool(true), SSEType: ddbtypes.SSETypeKms, KMSMasterKeyId: aws.String(keyArn)}
		}
		if _, err := sd.ddb.CreateTable(ctx, in); err != nil {
			return fmt.Errorf("creating table %s: %w", name, err)
		}
		if err := sd.setPITR(ctx, name, true); err != nil {
			return err
		}
		if t.TTLAttribute != "" && !sd.hits(DefectTTLOff, t.Suffix) {
			if _, err := sd.ddb.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
				TableName:               aws.String(name),
				TimeToLiveSpecification: &ddbtypes.TimeToLiveSpecification{AttributeName: aws.String(t.TTLAttribute), Enabled: aws.Bool(true)},
			}); err != nil {
				return fmt.Errorf("enabling TTL on %s: %w", name, err)
			}
		}
	}
	return nil
}

func (sd *seeder) topic(ctx context.Context) error {
	policy, err := spec.TopicPolicy(account(), account().TopicArn(sd.s.Names.Topic()), sd.s.Names).JSON()
	if err != nil {
		return err
	}
	attrs := map[string]string{"KmsMasterKeyId": sd.s.KeyArn, "Policy": policy}
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
	for _, a := range n.ThrottleAlarms() {
		suffix := strings.TrimPrefix(a.Name, n.Prefix())
		if sd.hits(DefectAlarmMissing, suffix) {
			continue
		}
		in := &cloudwatch.PutMetricAlarmInput{
			AlarmName:          aws.String(a.Name),
			Namespace:          aws.String(spec.AlarmNamespace),
			MetricName:         aws.String(a.Metric),
			Dimensions:         []cwtypes.Dimension{{Name: aws.String(spec.AlarmDimension), Value: aws.String(a.TableName)}},
			Statistic:          cwtypes.Statistic(spec.AlarmStatistic),
			Period:             aws.Int32(spec.AlarmPeriod),
			EvaluationPeriods:  aws.Int32(spec.AlarmEvaluationPeriods),
			ComparisonOperator: cwtypes.ComparisonOperator(spec.AlarmComparison),
			Threshold:          aws.Float64(sd.o.ThrottleThreshold),
			TreatMissingData:   aws.String(spec.AlarmTreatMissingData),
			ActionsEnabled:     aws.Bool(true),
			AlarmActions:       []string{sd.s.TopicArn},
			OKActions:          []string{sd.s.TopicArn},
		}
		if sd.hits(DefectAlarmMisconfigured, suffix) {
			in.TreatMissingData, in.Threshold = nil, aws.Float64(50)
		}
		if sd.hits(DefectAlarmNoActions, suffix) {
			in.AlarmActions, in.OKActions = nil, nil
		}
		if _, err := sd.cw.PutMetricAlarm(ctx, in); err != nil {
			return fmt.Errorf("creating alarm %s: %w", a.Name, err)
		}
		if sd.s.Has(DefectAlarmsInsufficientData) {
			continue
		}
		// With notBreaching, idle tables evaluate to OK; the emulator
		// does not evaluate alarms, so set the state evaluation gives.
		if _, err := sd.cw.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{
			AlarmName: aws.String(a.Name), StateValue: cwtypes.StateValueOk,
			StateReason: aws.String("seeded: no throttle events on an idle table"),
		}); err != nil {
			return fmt.Errorf("setting alarm %s to OK: %w", a.Name, err)
		}
	}
	return nil
}

// trustPolicy is the deploy role's trust policy, with the trust defects.
func (sd *seeder) trustPolicy(subjects []string) (string, error) {
	repo := "repo:" + sd.o.GitHubRepository
	role := strings.TrimPrefix(sd.s.Names.DeployRole(), sd.s.Names.Prefix())
	if sd.hits(DefectOIDCPullRequest, role) {
		subjects = append(subjects, repo+":pull_request")
	}
	if !sd.hits(DefectOIDCWildcard, role) {
		return spec.TrustPolicy(sd.s.OIDCProviderArn, subjects).JSON()
	}
	// The original plan's wildcard: any workflow of the repository.
	doc := spec.TrustPolicy(sd.s.OIDCProviderArn, []string{repo + ":*"})
	cond := doc.Statement[0].Condition
	cond["StringLike"] = map[string]any{spec.OIDCSubjectKey: cond["StringEquals"][spec.OIDCSubjectKey]}
	delete(cond["StringEquals"], spec.OIDCSubjectKey)
	return doc.JSON()
}

func (sd *seeder) oidc(ctx context.Context) error {
	sd.s.OIDCProviderArn = account().OIDCProviderArn()
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
	deploy, err := sd.trustPolicy([]string{repo + ":ref:refs/heads/main", repo + ":environment:" + sd.s.Env})
	if err != nil {
		return err
	}
	preview, err := spec.TrustPolicy(sd.s.OIDCProviderArn, []string{repo + ":pull_request"}).JSON()
	if err != nil {
		return err
	}
	// The Oracle's own repository (the org's "oracle") deploys it from its
	// environment of this name, as the stack config's oracleSubjects say.
	org, _, _ := strings.Cut(sd.o.GitHubRepository, "/")
	sd.s.OracleSubjects = slices.Clone(sd.o.OracleSubjects)
	if len(sd.s.OracleSubjects) == 0 {
		sd.s.OracleSubjects = []string{"repo:" + org + "/oracle:environment:" + sd.s.Env}
	}
	oracleSubs := sd.s.OracleSubjects
	if sd.hits(DefectOIDCOraclePullRequest, strings.TrimPrefix(sd.s.Names.OracleRole(), sd.s.Names.Prefix())) {
		oracleSubs = append(slices.Clone(oracleSubs), "repo:"+org+"/oracle:pull_request")
	}
	oracle, err := spec.TrustPolicy(sd.s.OIDCProviderArn, oracleSubs).JSON()
	if err != nil {
		return err
	}
	for _, role := range []struct {
		name, policy string
		arn          *string
	}{
		{sd.s.Names.DeployRole(), deploy, &sd.s.DeployRoleArn},
		{sd.s.Names.PreviewRole(), preview, &sd.s.PreviewRoleArn},
		{sd.s.Names.OracleRole(), oracle, &sd.s.OracleRoleArn},
	} {
		out, err := sd.iam.CreateRole(ctx, &iam.CreateRoleInput{
			RoleName: aws.String(role.name), AssumeRolePolicyDocument: aws.String(role.policy), MaxSessionDuration: aws.Int32(spec.RoleSessionSeconds),
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

// nonce writes a correct v1 unless none is wanted or a nonce defect will
// write it (injectDefects).
func (sd *seeder) nonce(ctx context.Context) error {
	if sd.o.SkipNonce || sd.s.Has(DefectNonceMissing) {
		return nil
	}
	for _, d := range sd.s.Defects {
		if d.writesNonce() {
			return nil
		}
	}
	v, err := sd.putNonce(ctx, sd.s.Names.NonceParameter(1), sd.s.KeyArn, "")
	sd.s.NonceValue = v
	return err
}

// injectDefects makes the defects Inject can make, through the same code,
// in the otherwise finished environment.
func (sd *seeder) injectDefects(ctx context.Context) error {
	for _, d := range sd.s.Defects {
		if !d.Injectable() {
			continue
		}
		v, err := sd.inject(ctx, sd.s.Target(), d)
		if err != nil {
			return fmt.Errorf("injecting %s: %w", d, err)
		}
		if v != "" {
			sd.s.NonceValue = v
		}
	}
	return nil
}
