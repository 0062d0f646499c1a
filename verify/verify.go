// Package verify proves that a deployed environment keeps the guarantees of
// SPEC section 6: tables, encryption, TTL, PITR, the KMS key, alarms, the
// alert topic and its delivery, OIDC trust and the redaction nonce. Every
// check returns a report.Check with a reason naming the resource and a fix;
// Run executes the catalogue concurrently, within one deadline, so a failing,
// erroring or panicking check never hides the others. The Assert* and
// RequireAllPass functions give tests in other repositories a terratest-like
// API. Nonce values are read only to validate their format and never appear
// in any result, error or log.
package verify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/sethvargo/go-envconfig"

	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/spec"
	"github.com/mirror-dissonance/mirror-infra/verify/target"
)

// Check ids of SPEC section 6 that this package implements (rotation and
// e2e belong to the oracle layer).
const (
	IDTables = "tables"
	IDSSE    = "sse"
	IDTTL    = "ttl"
	IDPITR   = "pitr"
	IDKMS    = "kms"
	IDAlarms = "alarms"
	IDSNS    = "sns"
	IDAlert  = "alert"
	IDOIDC   = "oidc"
	IDNonce  = "nonce"
	IDData   = "data"
)

// check is one entry of the catalogue: its id, whether it changes the
// environment (the alert check publishes and may fire an alarm) and its
// function. The id list, the dispatcher and the Check*/Assert* wrappers
// derive from the catalogue, so a new check is one entry and its function.
type check struct {
	id     string
	writes bool
	run    func(*session, context.Context) report.Check
}

// catalogue is SPEC 6's verifier catalogue in report order.
var catalogue = []check{
	{id: IDTables, run: (*session).checkTables},
	{id: IDSSE, run: (*session).checkSSE},
	{id: IDTTL, run: (*session).checkTTL},
	{id: IDPITR, run: (*session).checkPITR},
	{id: IDKMS, run: (*session).checkKMS},
	{id: IDAlarms, run: (*session).checkAlarms},
	{id: IDSNS, run: (*session).checkSNS},
	{id: IDAlert, writes: true, run: (*session).checkAlert},
	{id: IDOIDC, run: (*session).checkOIDC},
	{id: IDNonce, run: (*session).checkNonce},
	{id: IDData, run: (*session).checkData},
	{id: IDBaselines, run: (*session).checkBaselines},
}

// IDs lists the catalogue in report order.
var IDs = catalogueIDs(func(check) bool { return true })

// ReadOnlyIDs lists the checks that only read, in report order: every
// check but alert, which publishes a test alert.
func ReadOnlyIDs() []string { return catalogueIDs(func(c check) bool { return !c.writes }) }

func catalogueIDs(keep func(check) bool) []string {
	var out []string
	for _, c := range catalogue {
		if keep(c) {
			out = append(out, c.id)
		}
	}
	return out
}

// lookup returns the catalogue entry of id.
func lookup(id string) (check, bool) {
	for _, c := range catalogue {
		if c.id == id {
			return c, true
		}
	}
	return check{}, false
}

// DynamoDBAPI is the part of the DynamoDB client the checks use.
type DynamoDBAPI interface {
	DescribeTable(context.Context, *dynamodb.DescribeTableInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	DescribeTimeToLive(context.Context, *dynamodb.DescribeTimeToLiveInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTimeToLiveOutput, error)
	DescribeContinuousBackups(context.Context, *dynamodb.DescribeContinuousBackupsInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeContinuousBackupsOutput, error)
	// Scan samples items for the data check (one bounded page per table).
	Scan(context.Context, *dynamodb.ScanInput, ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

// KMSAPI is the part of the KMS client the checks use.
type KMSAPI interface {
	DescribeKey(context.Context, *kms.DescribeKeyInput, ...func(*kms.Options)) (*kms.DescribeKeyOutput, error)
	GetKeyRotationStatus(context.Context, *kms.GetKeyRotationStatusInput, ...func(*kms.Options)) (*kms.GetKeyRotationStatusOutput, error)
	GetKeyPolicy(context.Context, *kms.GetKeyPolicyInput, ...func(*kms.Options)) (*kms.GetKeyPolicyOutput, error)
}

// CloudWatchAPI is the part of the CloudWatch client the checks use.
type CloudWatchAPI interface {
	DescribeAlarms(context.Context, *cloudwatch.DescribeAlarmsInput, ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error)
	SetAlarmState(context.Context, *cloudwatch.SetAlarmStateInput, ...func(*cloudwatch.Options)) (*cloudwatch.SetAlarmStateOutput, error)
}

// SNSAPI is the part of the SNS client the checks use.
type SNSAPI interface {
	GetTopicAttributes(context.Context, *sns.GetTopicAttributesInput, ...func(*sns.Options)) (*sns.GetTopicAttributesOutput, error)
	ListSubscriptionsByTopic(context.Context, *sns.ListSubscriptionsByTopicInput, ...func(*sns.Options)) (*sns.ListSubscriptionsByTopicOutput, error)
	Publish(context.Context, *sns.PublishInput, ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// SQSAPI is the part of the SQS client the alert check uses to read the
// verification subscriber.
type SQSAPI interface {
	ReceiveMessage(context.Context, *sqs.ReceiveMessageInput, ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessageBatch(context.Context, *sqs.DeleteMessageBatchInput, ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
}

// IAMAPI is the part of the IAM client the checks use.
type IAMAPI interface {
	GetOpenIDConnectProvider(context.Context, *iam.GetOpenIDConnectProviderInput, ...func(*iam.Options)) (*iam.GetOpenIDConnectProviderOutput, error)
	GetRole(context.Context, *iam.GetRoleInput, ...func(*iam.Options)) (*iam.GetRoleOutput, error)
}

// SSMAPI is the part of the SSM client the checks use.
type SSMAPI interface {
	DescribeParameters(context.Context, *ssm.DescribeParametersInput, ...func(*ssm.Options)) (*ssm.DescribeParametersOutput, error)
	GetParameters(context.Context, *ssm.GetParametersInput, ...func(*ssm.Options)) (*ssm.GetParametersOutput, error)
}

// STSAPI finds the account (for ARNs not given as stack outputs) and is the
// first, cheap probe of whether the endpoint is reachable at all.
type STSAPI interface {
	GetCallerIdentity(context.Context, *sts.GetCallerIdentityInput, ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

// Clients are the AWS clients a run uses; substitute any of them in tests.
type Clients struct {
	DynamoDB   DynamoDBAPI
	KMS        KMSAPI
	CloudWatch CloudWatchAPI
	SNS        SNSAPI
	SQS        SQSAPI
	IAM        IAMAPI
	SSM        SSMAPI
	STS        STSAPI
	S3         S3API
}

// ClientOptions tune the SDK's own retryer for NewClients.
type ClientOptions struct {
	// MaxAttempts per request (first try included); 0 means 8, unless the
	// config already sets one (AWS_MAX_ATTEMPTS, a profile).
	MaxAttempts int
	// MaxBackoff between attempts; 0 means 2 s.
	MaxBackoff time.Duration
}

// NewClients builds the clients from an SDK config (normally from
// config.LoadDefaultConfig, so AWS_ENDPOINT_URL, profiles and web identity
// apply). Unless cfg has its own retryer, the SDK's standard retryer gets
// more attempts and a shorter backoff than its defaults, so throttling
// under load does not turn into a false FAIL while the run stays bounded.
func NewClients(cfg aws.Config, opts ...ClientOptions) Clients {
	var o ClientOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	if cfg.Retryer == nil {
		attempts := o.MaxAttempts
		if attempts == 0 {
			attempts = cfg.RetryMaxAttempts
		}
		if attempts == 0 {
			attempts = 8
		}
		backoff := o.MaxBackoff
		if backoff == 0 {
			backoff = 2 * time.Second
		}
		cfg.Retryer = func() aws.Retryer {
			return retry.NewStandard(func(so *retry.StandardOptions) {
				so.MaxAttempts = attempts
				so.MaxBackoff = backoff
			})
		}
	}
	return Clients{
		DynamoDB:   dynamodb.NewFromConfig(cfg),
		KMS:        kms.NewFromConfig(cfg),
		CloudWatch: cloudwatch.NewFromConfig(cfg),
		SNS:        sns.NewFromConfig(cfg),
		SQS:        sqs.NewFromConfig(cfg),
		IAM:        iam.NewFromConfig(cfg),
		SSM:        ssm.NewFromConfig(cfg),
		STS:        sts.NewFromConfig(cfg),
		S3:         newS3Client(cfg),
	}
}

// Options of a run: how to check, where target.Env says what.
type Options struct {
	// Checks to run; empty means IDs (the whole catalogue).
	Checks []string
	// Timeout bounds the whole run; 0 means 2 minutes. A check still
	// running at the deadline is reported as FAIL (infrastructure).
	Timeout time.Duration
	// AlarmWait is how long the alarms check waits for alarms to leave
	// INSUFFICIENT_DATA after a deploy (MD_ALARM_WAIT).
	AlarmWait time.Duration
	// AlarmPoll is the pause between DescribeAlarms calls while waiting;
	// 0 means 10 s.
	AlarmPoll time.Duration
	// FireAlarm lets the alert check set one alarm to ALARM and back to OK
	// (MD_FIRE_ALARM).
	FireAlarm bool
	// NonceGrace is the rotation grace period (MD_NONCE_GRACE); 0 or less
	// means spec.DefaultNonceGrace.
	NonceGrace time.Duration
	// ExpectedThreshold, when positive, is the alarm threshold the stack
	// config sets (throttleThreshold); 0 accepts any positive threshold.
	ExpectedThreshold float64
	// DeletionProtection, when set, is the stack config's
	// deletionProtection: true makes a table without it a FAIL, false
	// accepts either. Unset, a table without it is a WARN.
	DeletionProtection *bool
	// AlertWait bounds how long the alert check waits for delivery to the
	// verification queue; 0 means 20 s.
	AlertWait time.Duration
	// Logger receives debug logs; nil means slog.Default().
	Logger *slog.Logger
	// Now is the clock (tests); nil means time.Now.
	Now func() time.Time
}

// EnvSettings are the run options the MD_* environment variables set (see
// OptionsFromEnv); resource names are target.Env's.
type EnvSettings struct {
	AlarmWait  time.Duration `env:"ALARM_WAIT"`
	FireAlarm  bool          `env:"FIRE_ALARM"`
	NonceGrace time.Duration `env:"NONCE_GRACE"`
}

// OptionsFromEnv returns Options with AlarmWait, FireAlarm and NonceGrace
// from MD_ALARM_WAIT, MD_FIRE_ALARM and MD_NONCE_GRACE (target.EnvPrefix).
// lookuper may be nil for the process environment.
func OptionsFromEnv(ctx context.Context, lookuper envconfig.Lookuper) (Options, error) {
	if lookuper == nil {
		lookuper = envconfig.OsLookuper()
	}
	var es EnvSettings
	if err := envconfig.ProcessWith(ctx, &envconfig.Config{
		Target: &es, Lookuper: envconfig.PrefixLookuper(target.EnvPrefix, lookuper),
	}); err != nil {
		return Options{}, fmt.Errorf("reading %s* settings: %w", target.EnvPrefix, err)
	}
	return Options{AlarmWait: es.AlarmWait, FireAlarm: es.FireAlarm, NonceGrace: es.NonceGrace}, nil
}

func (o Options) withDefaults() Options {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	if len(o.Checks) == 0 {
		o.Checks = IDs
	}
	def(&o.Timeout, 2*time.Minute)
	def(&o.AlarmPoll, 10*time.Second)
	def(&o.AlertWait, 20*time.Second)
	if o.NonceGrace <= 0 {
		o.NonceGrace = spec.DefaultNonceGrace
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Run executes the checks concurrently against target t and returns every
// result in catalogue order. The error is only for unusable input (an
// unknown check id, an empty target); cloud failures are FAIL results with
// Infra set, so report.ExitCode gives 3 for them.
func Run(ctx context.Context, c Clients, t target.Env, opts Options) (*report.Report, error) {
	if t.Environment == "" {
		return nil, errors.New("verify: the target has no environment")
	}
	t.Defaults()
	opts = opts.withDefaults()
	for _, id := range opts.Checks {
		if _, ok := lookup(id); !ok {
			return nil, fmt.Errorf("verify: unknown check %q (known: %s)", id, strings.Join(IDs, ", "))
		}
	}
	r := &report.Report{Command: "verify", Started: opts.Now()}
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	s := newSession(ctx, c, t, opts)

	// One cheap call first: if the endpoint cannot be reached at all, say so
	// at once instead of letting every check retry into the deadline.
	if err := s.probe(ctx); err != nil {
		for _, id := range opts.Checks {
			r.Add(report.Check{ID: id, Status: report.Fail, Infra: true,
				Reason: "AWS unreachable: " + err.Error(),
				Fix:    "check AWS_ENDPOINT_URL, the network and the credentials, then run again"})
		}
	} else {
		r.Add(s.runAll(ctx)...)
	}
	r.Elapsed = time.Since(r.Started).Round(time.Millisecond).String()
	return r, nil
}

// runAll runs the session's checks concurrently and returns their results
// in the order asked; a check still running at the deadline is a FAIL.
func (s *session) runAll(ctx context.Context) []report.Check {
	ids := s.opts.Checks
	type result struct {
		i int
		c report.Check
	}
	results := make(chan result, len(ids))
	for i, id := range ids {
		go func() {
			start := time.Now()
			c := s.runOne(ctx, id)
			c.ID, c.Duration = id, time.Since(start)
			results <- result{i, c}
		}()
	}
	got := make([]*report.Check, len(ids))
	for n := 0; n < len(ids); n++ {
		select {
		case res := <-results:
			got[res.i] = &res.c
		case <-ctx.Done():
			n = len(ids) // stop waiting; the rest are reported as unfinished
		}
	}
	out := make([]report.Check, len(ids))
	for i, id := range ids {
		out[i] = report.Check{ID: id, Status: report.Fail, Infra: true,
			Reason: fmt.Sprintf("did not finish within the run's deadline (%s)", s.opts.Timeout),
			Fix:    "check the endpoint's latency and throttling; raise --timeout if the environment is slow"}
		if got[i] != nil {
			out[i] = *got[i]
		}
	}
	return out
}

// runOne runs one check, turning a panic into a FAIL so the others still
// report.
func (s *session) runOne(ctx context.Context, id string) (c report.Check) {
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("check panicked", "check", id, "panic", fmt.Sprint(p))
			c = report.Check{ID: id, Status: report.Fail, Infra: true,
				Reason: fmt.Sprintf("the check panicked: %v", p),
				Fix:    "this is a bug in the verifier; report it with this output"}
		}
	}()
	def, _ := lookup(id) // Run accepts known ids only
	return def.run(s, ctx)
}

// session is one run: the clients, the target and lookups several checks
// share (a table's description, the CMK, the account), each made once.
type session struct {
	// ctx is the run's context: memoised lookups outlive the interest of
	// the check that happened to call them first.
	ctx  context.Context
	c    Clients
	t    target.Env
	opts Options
	log  *slog.Logger

	tables   map[string]func() (*dynamodb.DescribeTableOutput, error)
	cmk      func() (keyInfo, error)
	account  func() (string, error)
	keysMu   sync.Mutex
	keyCache map[string]func() (keyInfo, error)

	// alarmsRead is closed when the alarms check has read the alarm
	// states; the alert check waits for it before firing an alarm, so the
	// alarms check never sees the test's own ALARM state.
	alarmsRead     chan struct{}
	closeAlarmRead func()
}

type keyInfo struct {
	Arn, ID string
	meta    *kms.DescribeKeyOutput
}

func newSession(ctx context.Context, c Clients, t target.Env, opts Options) *session {
	s := &session{ctx: ctx, c: c, t: t, opts: opts, log: opts.Logger, keyCache: map[string]func() (keyInfo, error){}}
	s.alarmsRead = make(chan struct{})
	s.closeAlarmRead = sync.OnceFunc(func() { close(s.alarmsRead) })
	if !slices.Contains(opts.Checks, IDAlarms) {
		s.closeAlarmRead()
	}
	s.tables = map[string]func() (*dynamodb.DescribeTableOutput, error){}
	for _, name := range t.Tables() {
		s.tables[name] = sync.OnceValues(func() (*dynamodb.DescribeTableOutput, error) {
			return c.DynamoDB.DescribeTable(s.ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		})
	}
	s.cmk = sync.OnceValues(func() (keyInfo, error) {
		// The alias usually names the same key: one DescribeKey of the
		// alias then serves both the key and the alias check.
		if t.KMSAlias != "" && t.KMSAlias != t.KMSKey {
			if k, err := s.key(t.KMSAlias); err == nil && (k.Arn == t.KMSKey || k.ID == t.KMSKey) {
				return k, nil
			}
		}
		return s.key(t.KMSKey)
	})
	s.account = sync.OnceValues(func() (string, error) {
		out, err := c.STS.GetCallerIdentity(s.ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			return "", fmt.Errorf("finding the account with sts:GetCallerIdentity: %w", err)
		}
		return aws.ToString(out.Account), nil
	})
	return s
}

// key describes a KMS key by id, ARN or alias, once per run.
func (s *session) key(id string) (keyInfo, error) {
	s.keysMu.Lock()
	f, ok := s.keyCache[id]
	if !ok {
		f = sync.OnceValues(func() (keyInfo, error) {
			out, err := s.c.KMS.DescribeKey(s.ctx, &kms.DescribeKeyInput{KeyId: aws.String(id)})
			if err != nil {
				return keyInfo{}, fmt.Errorf("describing KMS key %s: %w", id, err)
			}
			return keyInfo{Arn: aws.ToString(out.KeyMetadata.Arn), ID: aws.ToString(out.KeyMetadata.KeyId), meta: out}, nil
		})
		s.keyCache[id] = f
	}
	s.keysMu.Unlock()
	return f()
}

// probeTimeout bounds the first call: an endpoint that does not answer it
// in this time is treated as unreachable.
const probeTimeout = 10 * time.Second

// probe makes the account lookup with a single attempt. Only an error that
// says nothing answered (connection refused, no such host, no answer within
// probeTimeout) or that the credentials are unusable stops the run; any
// other error is left to the checks, which retry.
func (s *session) probe(ctx context.Context) error {
	pctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	out, err := s.c.STS.GetCallerIdentity(pctx, &sts.GetCallerIdentityInput{}, func(o *sts.Options) { o.RetryMaxAttempts = 1 })
	if err == nil {
		acct := aws.ToString(out.Account)
		s.account = func() (string, error) { return acct, nil }
		return nil
	}
	switch {
	case isUnreachable(err):
		return err
	case ctx.Err() == nil && pctx.Err() != nil:
		return fmt.Errorf("no answer to sts:GetCallerIdentity within %s: %w", probeTimeout, err)
	case isCredentialError(err):
		return fmt.Errorf("the credentials were rejected or could not be loaded: %w", err)
	}
	s.log.Debug("probe failed; the checks will retry", "error", err)
	return nil
}

func isUnreachable(err error) bool {
	var op *net.OpError
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return true
	}
	return errors.As(err, &op) && op.Op == "dial"
}

// credentialCodes are STS answers that no retry can fix.
var credentialCodes = map[string]bool{
	"InvalidClientTokenId": true, "ExpiredToken": true, "ExpiredTokenException": true,
	"UnrecognizedClientException": true, "SignatureDoesNotMatch": true, "InvalidAccessKeyId": true,
}

func isCredentialError(err error) bool {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return credentialCodes[ae.ErrorCode()]
	}
	// The SDK reports a missing or failing credential provider before any
	// request is sent; it has no exported type.
	return strings.Contains(err.Error(), "credentials")
}

// notFoundCodes are AWS error codes that mean the resource does not exist.
var notFoundCodes = map[string]bool{
	"ResourceNotFoundException": true, "TableNotFoundException": true, "NotFoundException": true,
	"NoSuchEntity": true, "NotFound": true, "ParameterNotFound": true, "ResourceNotFound": true,
	"AWS.SimpleQueueService.NonExistentQueue": true, "QueueDoesNotExist": true,
}

func isNotFound(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && notFoundCodes[ae.ErrorCode()]
}

func isAccessDenied(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	c := ae.ErrorCode()
	return strings.Contains(c, "AccessDenied") || c == "UnauthorizedOperation" || c == "AuthorizationError"
}

// callFailed turns an error that is not a finding about the resource into a
// result: access denied is a FAIL with a fix (wrong role); anything else is
// an infrastructure failure (exit 3).
func callFailed(id, what string, err error) report.Check {
	if isAccessDenied(err) {
		return report.Check{ID: id, Status: report.Fail, Reason: what + ": access denied: " + err.Error(),
			Fix: "run with the environment's deploy role (or a principal with the verifier permissions of SPEC 2.6)"}
	}
	return report.Check{ID: id, Status: report.Fail, Infra: true, Reason: what + ": " + err.Error(),
		Fix: "the call failed for a reason other than the resource's state; check the endpoint and run again"}
}

// findings collects problems (FAIL), soft problems (WARN) and details while
// a check runs, then becomes one result.
type findings struct {
	id       string
	fails    []string
	warns    []string
	fixes    []string
	details  map[string]string
	infraErr *report.Check
}

func newFindings(id string) *findings { return &findings{id: id, details: map[string]string{}} }

func (f *findings) fail(fix, format string, a ...any) {
	f.fails = append(f.fails, fmt.Sprintf(format, a...))
	f.addFix(fix)
}

func (f *findings) warn(fix, format string, a ...any) {
	f.warns = append(f.warns, fmt.Sprintf(format, a...))
	f.addFix(fix)
}

func (f *findings) addFix(fix string) {
	if fix == "" {
		return
	}
	for _, x := range f.fixes {
		if x == fix {
			return
		}
	}
	f.fixes = append(f.fixes, fix)
}

// failed records err, unless nil, as a call failure of what, and reports
// whether there was one.
func (f *findings) failed(what string, err error) bool {
	if err != nil {
		f.err(what, err)
	}
	return err != nil
}

// absent records a missing resource (err is a not-found error) as a FAIL
// and reports whether it was missing.
func (f *findings) absent(err error, fix, format string, a ...any) bool {
	if isNotFound(err) {
		f.fail(fix, format, a...)
	}
	return isNotFound(err)
}

// err records a call failure; the first one decides the result unless a
// real finding (FAIL) is also present.
func (f *findings) err(what string, err error) {
	if f.infraErr == nil {
		c := callFailed(f.id, what, err)
		f.infraErr = &c
	}
}

func (f *findings) result(pass string) report.Check {
	c := report.Check{ID: f.id, Details: f.details}
	if len(c.Details) == 0 {
		c.Details = nil
	}
	switch {
	case len(f.fails) > 0:
		c.Status, c.Reason = report.Fail, strings.Join(f.fails, "; ")
		if f.infraErr != nil {
			c.Reason += "; also: " + f.infraErr.Reason
		}
	case f.infraErr != nil:
		c.Status, c.Reason, c.Infra = report.Fail, f.infraErr.Reason, f.infraErr.Infra
		f.addFix(f.infraErr.Fix)
	case len(f.warns) > 0:
		c.Status, c.Reason = report.Warn, strings.Join(f.warns, "; ")
	default:
		c.Status, c.Reason = report.Pass, pass
	}
	if c.Status != report.Pass {
		c.Fix = strings.Join(f.fixes, "; ")
	}
	return c
}
