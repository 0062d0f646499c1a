package emulator

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/mirror-dissonance/mirror-infra/awsclient"
	"github.com/mirror-dissonance/mirror-infra/spec"
	"github.com/mirror-dissonance/mirror-infra/verify/target"
)

// Defect is one deliberate deviation from SPEC section 2, named the same
// wherever it is made: Seed builds an environment with it, Inject makes it
// in a deployed one, and the rehearsal's --break makes it through the
// program or, as "console-<name>", outside Pulumi. Catalogue says what each
// one means.
type Defect string

const (
	DefectPITROff                Defect = "pitr-off"
	DefectTableMissing           Defect = "table-missing"
	DefectTableWrongKey          Defect = "table-wrong-key"
	DefectTableAWSOwnedKey       Defect = "table-aws-owned-key"
	DefectTableWrongSchema       Defect = "table-wrong-schema"
	DefectTTLOff                 Defect = "ttl-off"
	DefectRotationOff            Defect = "rotation-off"
	DefectAliasMissing           Defect = "alias-missing"
	DefectAlarmMissing           Defect = "alarm-missing"
	DefectAlarmMisconfigured     Defect = "alarm-misconfigured"
	DefectAlarmNoActions         Defect = "alarm-no-actions"
	DefectAlarmsInsufficientData Defect = "alarms-insufficient-data"
	DefectKeyPolicyNoCloudWatch  Defect = "key-policy-no-cloudwatch"
	DefectTopicUnencrypted       Defect = "topic-unencrypted"
	DefectOIDCProviderMissing    Defect = "oidc-provider-missing"
	DefectOIDCPullRequest        Defect = "oidc-pull-request"
	DefectOIDCWildcard           Defect = "oidc-wildcard"
	DefectOIDCOraclePullRequest  Defect = "oidc-oracle-pull-request"
	DefectNonceMissing           Defect = "nonce-missing"
	DefectNonceMalformed         Defect = "nonce-malformed"
	DefectNonceString            Defect = "nonce-string"
	DefectNonceWrongKey          Defect = "nonce-wrong-key"
	DefectBaselinesMissing       Defect = "baselines-missing"
	DefectBaselinesUnversioned   Defect = "baselines-unversioned"
	DefectBaselinesWrongKey      Defect = "baselines-wrong-key"
	DefectBaselinesPublic        Defect = "baselines-public"
	DefectBaselinesNoTLS         Defect = "baselines-no-tls"
)

// Origin says who can make a defect.
type Origin int

const (
	// ByProgram defects can be declared by the Pulumi program (a defect in
	// the code, which the gate sees in a plan); they can also be made by
	// hand after a deploy, which only the verifier sees.
	ByProgram Origin = iota + 1
	// OutsidePulumi defects concern what the program does not declare (the
	// nonce, alarm states): only a change outside Pulumi makes them.
	OutsidePulumi
)

// DefectInfo is one entry of the catalogue.
type DefectInfo struct {
	Name Defect
	// Description says what is wrong, as a report would.
	Description string
	// Resource is the suffix (spec.Names.Resource) of the one resource the
	// defect hits, which is also the program's logical name of it
	// ("consent", "fp-events-read-throttle", "github-deploy"; "baselines"
	// is the bucket, whose configuration resources the program names
	// "baselines-<part>"); empty when it hits the key, the nonce or every
	// alarm.
	Resource string
	Origin   Origin
}

// Catalogue lists every defect, in the order reports and help list them.
func Catalogue() []DefectInfo {
	// Alarm, topic and role suffixes come from the naming rules; any
	// environment gives the same suffixes.
	n := spec.For("any")
	suffix := func(name string) string { return strings.TrimPrefix(name, n.Prefix()) }
	baselines := suffix(n.BaselinesBucket())
	return []DefectInfo{
		{DefectPITROff, "point-in-time recovery is off on the consent table", spec.TableConsent, ByProgram},
		{DefectTableMissing, "the block-counter table does not exist", spec.TableBlockCounter, ByProgram},
		{DefectTableWrongKey, "the fp-events table is encrypted with another customer key", spec.TableFPEvents, ByProgram},
		{DefectTableAWSOwnedKey, "the consent table is encrypted with the AWS-owned key instead of the CMK", spec.TableConsent, ByProgram},
		{DefectTableWrongSchema, "the consent table has a wrong hash key (org_id)", spec.TableConsent, ByProgram},
		{DefectTTLOff, "TTL is off on the block-counter table", spec.TableBlockCounter, ByProgram},
		{DefectRotationOff, "KMS key rotation is off", "", ByProgram},
		{DefectAliasMissing, "the KMS key has no alias", "", ByProgram},
		{DefectAlarmMissing, "the consent write-throttle alarm does not exist", suffix(n.WriteThrottleAlarm(spec.TableConsent)), ByProgram},
		{DefectAlarmMisconfigured, "the fp-events read-throttle alarm has no missing-data treatment and the threshold 50",
			suffix(n.ReadThrottleAlarm(spec.TableFPEvents)), ByProgram},
		{DefectAlarmNoActions, "the block-counter read-throttle alarm notifies nobody", suffix(n.ReadThrottleAlarm(spec.TableBlockCounter)), ByProgram},
		{DefectAlarmsInsufficientData, "every alarm is still in INSUFFICIENT_DATA, as right after a deploy", "", OutsidePulumi},
		{DefectKeyPolicyNoCloudWatch, "the key policy (the original plan's) lets no alarm notification reach the encrypted topic (SPEC 9)", "", ByProgram},
		{DefectTopicUnencrypted, "the ops topic has no KMS key", suffix(n.Topic()), ByProgram},
		{DefectOIDCProviderMissing, "the GitHub OIDC provider the roles trust does not exist", "", ByProgram},
		{DefectOIDCPullRequest, "the deploy role also trusts pull_request tokens", suffix(n.DeployRole()), ByProgram},
		{DefectOIDCWildcard, `the deploy role trusts "repo:<org>/<repo>:*"`, suffix(n.DeployRole()), ByProgram},
		{DefectOIDCOraclePullRequest, "the Oracle runtime role, which writes the tables, also trusts pull_request tokens", suffix(n.OracleRole()), ByProgram},
		{DefectNonceMissing, "no nonce version exists", "", OutsidePulumi},
		{DefectNonceMalformed, "nonce v1 is a UUID, not 64 hex characters", "", OutsidePulumi},
		{DefectNonceString, "nonce v1 is a plain String, not a SecureString", "", OutsidePulumi},
		{DefectNonceWrongKey, "nonce v1 is encrypted with the AWS managed SSM key, not the CMK", "", OutsidePulumi},
		{DefectBaselinesMissing, "the baselines bucket does not exist", baselines, ByProgram},
		{DefectBaselinesUnversioned, "versioning of the baselines bucket is suspended", baselines, ByProgram},
		{DefectBaselinesWrongKey, "the baselines bucket is encrypted with the AWS managed key " + AWSManagedS3Key + ", not the CMK", baselines, ByProgram},
		{DefectBaselinesPublic, "the baselines bucket's public access block is all off", baselines, ByProgram},
		{DefectBaselinesNoTLS, "the baselines bucket's policy denies plain HTTP for its objects only, not for the bucket", baselines, ByProgram},
	}
}

// AllDefects lists every Defect in Catalogue order, for table-driven tests.
var AllDefects = func() []Defect {
	var out []Defect
	for _, d := range Catalogue() {
		out = append(out, d.Name)
	}
	return out
}()

// Info returns the catalogue entry of d.
func (d Defect) Info() (DefectInfo, bool) {
	for _, i := range Catalogue() {
		if i.Name == d {
			return i, true
		}
	}
	return DefectInfo{}, false
}

// LookupDefect returns the defect called name, or an error listing the
// known names.
func LookupDefect(name string) (Defect, error) {
	if _, ok := Defect(name).Info(); ok {
		return Defect(name), nil
	}
	names := make([]string, len(AllDefects))
	for i, d := range AllDefects {
		names[i] = string(d)
	}
	return "", fmt.Errorf("unknown defect %q (known: %s)", name, strings.Join(names, ", "))
}

// resource is the suffix the catalogue says d hits.
func (d Defect) resource() string {
	i, _ := d.Info()
	return i.Resource
}

// Injectable reports whether Inject can make d in a deployed environment.
func (d Defect) Injectable() bool {
	return d == DefectPITROff || d == DefectRotationOff || d.writesNonce() || d.reconfiguresBucket()
}

// reconfiguresBucket reports whether injecting d changes the baselines
// bucket's configuration.
func (d Defect) reconfiguresBucket() bool {
	switch d {
	case DefectBaselinesUnversioned, DefectBaselinesWrongKey, DefectBaselinesPublic, DefectBaselinesNoTLS:
		return true
	}
	return false
}

// writesNonce reports whether injecting d writes nonce v1.
func (d Defect) writesNonce() bool {
	return d == DefectNonceMalformed || d == DefectNonceString || d == DefectNonceWrongKey
}

// Inject makes d in the deployed environment t, as someone working outside
// Pulumi would (the console, a hand-written parameter): only the verifier
// can see it. Seed makes the same defects through the same code. Nonce
// defects write v1, so inject them before anything bootstraps the nonce.
func Inject(ctx context.Context, cfg aws.Config, t target.Env, d Defect) error {
	_, err := newInjector(cfg).inject(ctx, t, d)
	return err
}

type injector struct {
	ddb *dynamodb.Client
	kms *kms.Client
	ssm *ssm.Client
	s3  *s3.Client
}

func newInjector(cfg aws.Config) injector {
	return injector{ddb: dynamodb.NewFromConfig(cfg), kms: kms.NewFromConfig(cfg), ssm: ssm.NewFromConfig(cfg), s3: NewS3Client(cfg)}
}

// NewS3Client is an S3 client on cfg; a custom endpoint (the emulator)
// has no per-bucket host names, so it addresses buckets by path.
func NewS3Client(cfg aws.Config) *s3.Client {
	return awsclient.NewS3(cfg)
}

// inject makes d and returns the nonce value it wrote, if any (a secret:
// tests scan outputs for it).
func (in injector) inject(ctx context.Context, t target.Env, d Defect) (string, error) {
	switch d {
	case DefectPITROff:
		return "", in.setPITR(ctx, tableOf(t, d.resource()), false)
	case DefectRotationOff:
		if _, err := in.kms.DisableKeyRotation(ctx, &kms.DisableKeyRotationInput{KeyId: aws.String(t.KMSKey)}); err != nil {
			return "", fmt.Errorf("turning rotation off on %s: %w", t.KMSKey, err)
		}
		return "", nil
	}
	if d.writesNonce() {
		return in.putNonce(ctx, t.NoncePrefix+"1", t.KMSKey, d)
	}
	if d.reconfiguresBucket() {
		return "", in.misconfigureBucket(ctx, t.BaselinesBucket, d)
	}
	return "", fmt.Errorf("defect %s cannot be injected into a deployed environment", d)
}

// tableOf is the deployed name of a table suffix.
func tableOf(t target.Env, suffix string) string {
	switch suffix {
	case spec.TableFPEvents:
		return t.FPEventsTable
	case spec.TableConsent:
		return t.ConsentTable
	}
	return t.BlockCounterTable
}

func (in injector) setPITR(ctx context.Context, table string, on bool) error {
	if _, err := in.ddb.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{
		TableName:                        aws.String(table),
		PointInTimeRecoverySpecification: &ddbtypes.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(on)},
	}); err != nil {
		return fmt.Errorf("setting PITR on %s to %t: %w", table, on, err)
	}
	return nil
}

// putNonce writes nonce version name as SPEC 4 says (a fresh 64-hex
// SecureString under key), or with the deviation of a nonce defect. It
// returns the value written.
func (in injector) putNonce(ctx context.Context, name, key string, d Defect) (string, error) {
	value, err := NewNonceValue()
	if err != nil {
		return "", err
	}
	p := &ssm.PutParameterInput{Name: aws.String(name), Type: ssmtypes.ParameterTypeSecureString, KeyId: aws.String(key)}
	switch d {
	case DefectNonceMalformed:
		value = "3f2b8c1e-9a4d-4e7f-b6c5-0d1e2f3a4b5c"
	case DefectNonceString:
		p.Type, p.KeyId = ssmtypes.ParameterTypeString, nil
	case DefectNonceWrongKey:
		p.KeyId = nil // SSM then uses alias/aws/ssm
	}
	p.Value = aws.String(value)
	if _, err := in.ssm.PutParameter(ctx, p); err != nil {
		return "", fmt.Errorf("writing %s: %w", name, err)
	}
	return value, nil
}

// AWSManagedS3Key is the AWS managed key S3 falls back to, the deviation of
// DefectBaselinesWrongKey.
const AWSManagedS3Key = "alias/aws/s3"

// ObjectsOnlyTLSPolicy is the deviation of DefectBaselinesNoTLS: the TLS
// deny of spec.BaselinesBucketPolicy narrowed to the objects, so bucket
// operations (listing, reading the configuration) still work over HTTP.
func ObjectsOnlyTLSPolicy(bucketArn string) spec.PolicyDocument {
	p := spec.BaselinesBucketPolicy(bucketArn)
	p.Statement[0].Resource = spec.Strings{bucketArn + "/*"}
	return p
}

// misconfigureBucket makes a bucket defect in an existing, correct bucket.
func (in injector) misconfigureBucket(ctx context.Context, bucket string, d Defect) error {
	b := aws.String(bucket)
	var err error
	switch d {
	case DefectBaselinesUnversioned:
		_, err = in.s3.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: b,
			VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusSuspended}})
	case DefectBaselinesWrongKey:
		err = in.putBucketEncryption(ctx, bucket, AWSManagedS3Key)
	case DefectBaselinesPublic:
		err = in.putPublicAccessBlock(ctx, bucket, false)
	case DefectBaselinesNoTLS:
		err = in.putBucketPolicy(ctx, bucket, ObjectsOnlyTLSPolicy(account().BucketArn(bucket)))
	}
	if err != nil {
		return fmt.Errorf("making %s on bucket %s: %w", d, bucket, err)
	}
	return nil
}

func (in injector) putBucketEncryption(ctx context.Context, bucket, key string) error {
	_, err := in.s3.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: aws.String(bucket),
		ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{Rules: []s3types.ServerSideEncryptionRule{{
			ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAwsKms, KMSMasterKeyID: aws.String(key)},
			BucketKeyEnabled:                   aws.Bool(true),
		}}}})
	if err != nil {
		return fmt.Errorf("setting the encryption of %s: %w", bucket, err)
	}
	return nil
}

func (in injector) putPublicAccessBlock(ctx context.Context, bucket string, on bool) error {
	_, err := in.s3.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: aws.String(bucket),
		PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{
			BlockPublicAcls: aws.Bool(on), BlockPublicPolicy: aws.Bool(on), IgnorePublicAcls: aws.Bool(on), RestrictPublicBuckets: aws.Bool(on),
		}})
	if err != nil {
		return fmt.Errorf("setting the public access block of %s: %w", bucket, err)
	}
	return nil
}

func (in injector) putBucketPolicy(ctx context.Context, bucket string, doc spec.PolicyDocument) error {
	policy, err := doc.JSON()
	if err != nil {
		return err
	}
	if _, err := in.s3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(bucket), Policy: aws.String(policy)}); err != nil {
		return fmt.Errorf("setting the policy of %s: %w", bucket, err)
	}
	return nil
}
