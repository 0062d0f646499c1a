// Package verify proves that a deployed environment keeps the guarantees
// the stack declares (the facts are in package spec): tables, encryption,
// TTL, PITR, the KMS key, alarms, the alert topic and its delivery, OIDC
// trust, the redaction nonce, the data the Oracle wrote and the baselines
// bucket. Every check returns a report.Check with a reason naming the
// resource and a fix; Run executes the checks concurrently, within one
// deadline, so a failing, erroring or panicking check never hides the
// others.
//
// The library reads only by default: Run without Options.Checks runs
// DefaultIDs, which leaves out "alert" (it publishes to the ops topic);
// name it to run it. The nonce rotation check (oracle/nonce.RotationCheck)
// and the E2E cycle (verify/e2e) write and are separate calls.
//
// The Assert*, Require* and *E functions give tests in other repositories
// a terratest-like API: each takes a TestingT first. Clients built by
// NewClients carry the aws.Config's region, which the target follows
// unless it sets its own. Nonce values are read only to validate their
// format and never appear in any result, error or log.
// docs/verify-library.md is the consumer's guide.
package verify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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
	"github.com/sethvargo/go-envconfig"

	"github.com/mirror-dissonance/mirror-infra/internal/awsclient"
	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/spec"
	"github.com/mirror-dissonance/mirror-infra/verify/target"
)

// Check ids of the verifier catalogue that this package implements
// (rotation and e2e belong to the oracle layer).
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

// catalogue is the verifier catalogue in report order.
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

// IDs lists the whole catalogue in report order, alert included: the
// command line's `verify <stack>` names these.
var IDs = catalogueIDs(func(check) bool { return true })

// ReadOnlyIDs lists the checks that only read, in report order: every
// check but alert, which publishes a test alert.
func ReadOnlyIDs() []string { return catalogueIDs(func(c check) bool { return !c.writes }) }

// DefaultIDs are the checks Run runs when Options.Checks is empty: the
// read-only ones, so a library call never changes the environment.
func DefaultIDs() []string { return ReadOnlyIDs() }

// Details keys of the results Run gives when one infrastructure failure
// stops every check: the first check carries the cause and lists the
// stopped ids under DetailStopped; each other one names it under
// DetailStoppedBy instead of repeating the cause.
const (
	DetailStopped   = "stopped"
	DetailStoppedBy = "stoppedBy"
)

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
type STSAPI = awsclient.STSAPI

// Clients are the AWS clients a run uses; substitute any of them in tests.
type Clients struct {
	// Region is the region the clients talk to (NewClients sets the
	// aws.Config's): a target without its own region builds ARNs in it,
	// and a target whose region differs is an error.
	Region string

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
// config.LoadDefaultConfig, so AWS_ENDPOINT_URL, profiles, web identity
// and the region apply; see docs/verify-library.md for assuming a role).
// Unless cfg has its own retryer, the SDK's standard retryer gets
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
		Region:     cfg.Region,
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
	// Checks to run; empty means DefaultIDs (every check that only
	// reads). Name IDAlert to publish a test alert.
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
	o := Options{AlarmWait: es.AlarmWait, FireAlarm: es.FireAlarm, NonceGrace: es.NonceGrace}
	if err := o.ValidateDurations(); err != nil {
		return Options{}, err
	}
	return o, nil
}

// ValidateDurations refuses negative waits and a grace period beyond
// spec.MaxNonceGrace (a leaked nonce would stay valid that long), naming the
// setting; a caller checks this before any cloud call.
func (o Options) ValidateDurations() error {
	var errs []error
	if o.AlarmWait < 0 {
		errs = append(errs, fmt.Errorf("%sALARM_WAIT = %s: want 0 or a positive duration such as 5m", target.EnvPrefix, o.AlarmWait))
	}
	if o.NonceGrace < 0 || o.NonceGrace > spec.MaxNonceGrace {
		errs = append(errs, fmt.Errorf("%sNONCE_GRACE = %s: want a positive duration of at most %s (default %s)", target.EnvPrefix, o.NonceGrace, spec.MaxNonceGrace, spec.DefaultNonceGrace))
	}
	if o.Timeout < 0 {
		errs = append(errs, fmt.Errorf("timeout %s: want 0 (the default) or a positive duration", o.Timeout))
	}
	return errors.Join(errs...)
}

func (o Options) withDefaults() Options {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	if len(o.Checks) == 0 {
		o.Checks = DefaultIDs()
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
// result in the order asked. The error is only for unusable input (an
// unknown check id, an empty target, a target region that contradicts the
// clients'); cloud failures are FAIL results with Infra set, so
// report.ExitCode gives 3 for them. An endpoint that cannot be reached at
// all is reported once, on the first check, with the others pointing at it.
func Run(ctx context.Context, c Clients, t target.Env, opts Options) (*report.Report, error) {
	if t.Environment == "" {
		return nil, errors.New("verify: the target has no environment (set target.Env.Environment, e.g. \"staging\")")
	}
	region, err := ResolveRegion(t.Region, c.Region)
	if err != nil {
		return nil, fmt.Errorf("verify %s: %w", t.Environment, err)
	}
	t.Region = region
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
	// once instead of letting every check retry into the deadline.
	if err := s.probe(ctx); err != nil {
		r.Add(Unreachable(opts.Checks, err)...)
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
			Fix:    "check the endpoint's latency and throttling; raise Options.Timeout (--timeout on the command line) if the environment is slow"}
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
				Fix:    "this is a bug in the verifier (github.com/mirror-dissonance/mirror-infra/verify); report it with this output"}
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

// probe is Probe for a run: it keeps the account it learns.
func (s *session) probe(ctx context.Context) error {
	acct, err := Probe(ctx, s.c.STS)
	if err != nil {
		return err
	}
	if acct != "" {
		s.account = func() (string, error) { return acct, nil }
	}
	return nil
}

// Probe is the reachability test Run (and the E2E cycle) make before
// anything else: one sts:GetCallerIdentity with a single attempt, which
// needs no permission. It returns the account when the call succeeds. Only
// an error that says nothing answered (connection refused, no such host,
// no answer within 10 s or before ctx's deadline) or that the credentials
// are unusable is returned; any other failure returns "" and nil, leaving
// the calls that follow to retry.
func Probe(ctx context.Context, c STSAPI) (string, error) { return awsclient.Probe(ctx, c) }

// UnreachableFix is the fix of an unreachable endpoint: what the caller
// sets, on the command line or in the aws.Config.
const UnreachableFix = awsclient.UnreachableFix

// Unreachable reports err, a failed Probe, once: on the first of ids, with
// every id it stopped listed under DetailStopped; each other id points at
// the first under DetailStoppedBy. All are FAIL with Infra set (exit 3).
func Unreachable(ids []string, err error) []report.Check {
	out := make([]report.Check, 0, len(ids))
	for i, id := range ids {
		if i == 0 {
			out = append(out, report.Check{ID: id, Status: report.Fail, Infra: true,
				Reason:  "AWS unreachable: " + err.Error(),
				Fix:     UnreachableFix,
				Details: map[string]string{DetailStopped: strings.Join(ids, ", ")}})
			continue
		}
		out = append(out, report.Check{ID: id, Status: report.Fail, Infra: true,
			Reason:  "not run: AWS unreachable (reported on " + ids[0] + ")",
			Details: map[string]string{DetailStoppedBy: ids[0]}})
	}
	return out
}

// ResolveRegion is the region a run uses: the target's when it sets one,
// otherwise the clients' (the aws.Config's), otherwise us-east-1. A target
// region that differs from the clients' is an error: the clients would
// look for the target's resources in the wrong region.
func ResolveRegion(targetRegion, clientRegion string) (string, error) {
	switch {
	case targetRegion != "" && clientRegion != "" && targetRegion != clientRegion:
		return "", fmt.Errorf("the target's region %s contradicts the AWS config's region %s: leave target.Env.Region empty (MD_AWS_REGION unset) to use the config's, or build the config with config.WithRegion(%q)",
			targetRegion, clientRegion, targetRegion)
	case targetRegion != "":
		return targetRegion, nil
	case clientRegion != "":
		return clientRegion, nil
	}
	return spec.DefaultRegion, nil
}

func isNotFound(err error) bool { return awsclient.IsNotFound(err) }

// callFailed turns an error that is not a finding about the resource into a
// result: access denied is a FAIL with a fix (wrong role); anything else is
// an infrastructure failure (exit 3).
func callFailed(id, what string, err error) report.Check {
	if awsclient.IsAccessDenied(err) {
		return report.Check{ID: id, Status: report.Fail, Reason: what + ": access denied: " + err.Error(),
			Fix: "run with credentials allowed to read the environment's resources (the aws.Config's credentials or the role it assumes; docs/verify-library.md lists the permissions)"}
	}
	return report.Check{ID: id, Status: report.Fail, Infra: true, Reason: what + ": " + err.Error(),
		Fix: "the call failed for a reason other than the resource's state; check the endpoint (AWS_ENDPOINT_URL or the aws.Config's BaseEndpoint) and run again"}
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
