package target

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/mirror-dissonance/mirror-infra/awsclient"
	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/spec"
)

// ErrInvalid is wrapped by every validation error: bad usage or
// configuration (exit 2), found before any cloud call.
var ErrInvalid = errors.New("invalid target")

// FieldError is one refused name: the variable that sets it, its value
// and what is allowed.
type FieldError struct {
	// Variable is the MD_* variable (or stack output) that set the value.
	Variable string
	Value    string
	Reason   string
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("%s = %q: %s", e.Variable, report.Quote(e.Value), e.Reason)
}

func (e *FieldError) Unwrap() error { return ErrInvalid }

// AWS's naming rules of the resources a target names.
var (
	tableName     = regexp.MustCompile(`^[A-Za-z0-9_.-]{3,255}$`)
	bucketName    = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	roleName      = regexp.MustCompile(`^[A-Za-z0-9+=,.@_-]{1,64}$`)
	dashboardName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,255}$`)
	queueName     = regexp.MustCompile(`^[A-Za-z0-9_-]{1,80}$`)
	topicName     = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)
	paramPath     = regexp.MustCompile(`^[A-Za-z0-9_./-]+$`) // and at most 1011 characters
	// An ARN: partition, service, region, account, resource.
	arnPattern = regexp.MustCompile(`^arn:(aws|aws-cn|aws-us-gov):([a-z0-9-]+):([a-z0-9-]*):(\d{12})?:(.+)$`)
	keyID      = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$|^mrk-[0-9a-f]{32}$`)
	aliasRest  = regexp.MustCompile(`^[A-Za-z0-9/_-]{1,240}$`)
	oidcARN    = regexp.MustCompile(`^arn:(aws|aws-cn|aws-us-gov):iam::\d{12}:oidc-provider/` + regexp.QuoteMeta(spec.GitHubOIDCHost) + `(/.*)?$`)
)

// Validate refuses, before any cloud call, a target with a name that
// breaks AWS's naming rules or that belongs to another environment: every
// name must be the SPEC name of its resource in e.Environment (a staging
// run must never reach production's tables, nonce, key, topic, alarms,
// dashboard, bucket, queue or roles), and a nonce prefix of "/" would write
// at the parameter store's root. Only the "local" environment, which is
// for emulators, may name an environment that is not a known one (the
// random t<hex> environments of emulator tests). Every error wraps
// ErrInvalid and names the variable that set the value.
func (e Env) Validate() error {
	v := validator{env: e.Environment, region: e.Region}
	if err := spec.ValidateEnvironment(e.Environment); err != nil {
		v.bad("ENVIRONMENT", e.Environment, err.Error())
		return v.err()
	}
	if e.Region != "" && !awsclient.KnownRegion(e.Region) {
		v.bad("AWS_REGION", e.Region, "not an AWS region (e.g. "+spec.DefaultRegion+")")
	}
	for _, t := range []struct{ field, value, suffix string }{
		{"FP_EVENTS_TABLE", e.FPEventsTable, spec.TableFPEvents},
		{"CONSENT_TABLE", e.ConsentTable, spec.TableConsent},
		{"BLOCK_COUNTER_TABLE", e.BlockCounterTable, spec.TableBlockCounter},
	} {
		v.resource(t.field, t.value, tableName, "a DynamoDB table name (3-255 letters, digits, '_', '.', '-')", "-"+t.suffix, "table")
	}
	v.nonce(e.NoncePrefix)
	v.key(e.KMSKey)
	if e.KMSAlias != "" {
		v.alias("KMS_ALIAS", e.KMSAlias)
	}
	v.resource("OPS_TOPIC_NAME", e.TopicName, topicName, "an SNS topic name", "-ops-alerts", "topic")
	if e.TopicArn != "" {
		if name, ok := v.arn("OPS_TOPIC_ARN", e.TopicArn, "sns"); ok {
			v.resource("OPS_TOPIC_ARN", name, topicName, "an SNS topic ARN", "-ops-alerts", "topic")
		}
	}
	for _, a := range e.AlarmNames {
		v.alarm(a)
	}
	v.dashboard(e.Dashboard)
	v.resource("BASELINES_BUCKET", e.BaselinesBucket, bucketName, "an S3 bucket name (3-63 lowercase letters, digits, '.', '-')", "-baselines", "bucket")
	for _, r := range []struct{ field, value, suffix string }{
		{"DEPLOY_ROLE", e.DeployRole, "-github-deploy"},
		{"PREVIEW_ROLE", e.PreviewRole, "-github-preview"},
		{"ORACLE_ROLE", e.OracleRole, "-oracle"},
	} {
		v.role(r.field, r.value, r.suffix)
	}
	if p := e.OIDCProviderArn; p != "" && !oidcARN.MatchString(p) {
		v.bad("OIDC_PROVIDER_ARN", p, "arn:aws:iam::<account>:oidc-provider/"+spec.GitHubOIDCHost)
	}
	v.queue(e.VerifyQueueURL)
	return v.err()
}

type validator struct {
	env, region string
	errs        []error
}

func (v *validator) bad(field, value, reason string) {
	v.errs = append(v.errs, &FieldError{Variable: EnvPrefix + field, Value: value, Reason: reason})
}

func (v *validator) err() error { return errors.Join(v.errs...) }

// owner checks that other, the environment a name belongs to, is v.env
// (or, for "local", an environment no stack deploys to).
func (v *validator) owner(field, value, other, what string) {
	switch {
	case other == v.env:
	case v.env == "local" && !slices.Contains(spec.KnownEnvironments, other) && !spec.IsEphemeralStack(other):
		// An emulator's environment (t<hex>): not one any stack deploys.
	default:
		v.bad(field, value, fmt.Sprintf("names the %s of environment %q, not %q (%s)", what, other, v.env, spec.For(v.env).Prefix()+"..."))
	}
}

// envOf returns the environment of "mirror-dissonance-<env><suffix>".
func envOf(name, suffix string) (string, bool) {
	const p = spec.Project + "-"
	if !strings.HasPrefix(name, p) || !strings.HasSuffix(name, suffix) || len(name) <= len(p)+len(suffix) {
		return "", false
	}
	return name[len(p) : len(name)-len(suffix)], true
}

// resource checks a name "mirror-dissonance-<env><suffix>" against AWS's
// rule and the environment.
func (v *validator) resource(field, name string, rule *regexp.Regexp, ruleText, suffix, what string) {
	if name == "" {
		return
	}
	if !rule.MatchString(name) {
		v.bad(field, name, "not "+ruleText)
		return
	}
	other, ok := envOf(name, suffix)
	if !ok {
		v.bad(field, name, fmt.Sprintf("not a %s of this project: want %s", what, spec.For(v.env).Prefix()+strings.TrimPrefix(suffix, "-")))
		return
	}
	v.owner(field, name, other, what)
}

// arn parses an ARN of service, checks its region against the target's,
// and returns its resource part.
func (v *validator) arn(field, arn, service string) (string, bool) {
	m := arnPattern.FindStringSubmatch(arn)
	if m == nil || m[2] != service {
		v.bad(field, arn, fmt.Sprintf("not an %s ARN (arn:aws:%s:<region>:<account>:...)", service, service))
		return "", false
	}
	if v.region != "" && m[3] != "" && m[3] != v.region {
		v.bad(field, arn, fmt.Sprintf("in region %s, but the target's region is %s", m[3], v.region))
		return "", false
	}
	return m[5], true
}

func (v *validator) nonce(p string) {
	if p == "" {
		return
	}
	n := spec.For(v.env)
	folders := strings.FieldsFunc(spec.NoncePathOf(p), func(r rune) bool { return r == '/' })
	switch {
	case !strings.HasPrefix(p, "/") || len(folders) < 2:
		v.bad("NONCE_PREFIX", p, fmt.Sprintf("a path below a folder of its own, like %s (never the parameter store's root)", n.NoncePrefix()))
	case !paramPath.MatchString(p) || len(p) > 1011:
		v.bad("NONCE_PREFIX", p, "an SSM parameter path (letters, digits, '_', '.', '-', '/')")
	case !strings.HasSuffix(p, spec.NonceBaseName):
		v.bad("NONCE_PREFIX", p, fmt.Sprintf("must end in %q, like %s", spec.NonceBaseName, n.NoncePrefix()))
	default:
		const root = "/guardian/"
		other, ok := strings.CutPrefix(strings.TrimSuffix(p, "/"+spec.NonceBaseName), root)
		if !ok || strings.Contains(other, "/") || other == "" {
			v.bad("NONCE_PREFIX", p, "want "+n.NoncePrefix())
			return
		}
		v.owner("NONCE_PREFIX", p, other, "nonce")
	}
}

// key accepts the environment's alias (or its ARN), a key id or a key ARN
// (opaque: the kms check confirms the alias points at it), never an
// AWS-managed key or another environment's alias.
func (v *validator) key(k string) {
	switch {
	case k == "":
	case strings.Contains(k, "alias/aws/"):
		v.bad("KMS_KEY", k, "an AWS-managed key is never the environment key; use "+spec.For(v.env).KeyAlias()+" or the key's ARN")
	case strings.HasPrefix(k, "alias/"):
		v.alias("KMS_KEY", k)
	case strings.HasPrefix(k, "arn:"):
		res, ok := v.arn("KMS_KEY", k, "kms")
		if !ok {
			return
		}
		if strings.HasPrefix(res, "alias/") {
			v.alias("KMS_KEY", res)
		} else if id, ok := strings.CutPrefix(res, "key/"); !ok || !keyID.MatchString(id) {
			v.bad("KMS_KEY", k, "a KMS key ARN ends in key/<key id> or alias/<name>")
		}
	case !keyID.MatchString(k):
		v.bad("KMS_KEY", k, "a key id, a key or alias ARN, or "+spec.For(v.env).KeyAlias())
	}
}

func (v *validator) alias(field, a string) {
	if strings.HasPrefix(a, "alias/aws/") {
		v.bad(field, a, "an AWS-managed key is never the environment key")
		return
	}
	const p = "alias/" + spec.Project + "-"
	other, ok := strings.CutPrefix(a, p)
	if !ok || other == "" || !aliasRest.MatchString(other) {
		v.bad(field, a, "want "+spec.For(v.env).KeyAlias())
		return
	}
	v.owner(field, a, other, "key")
}

// alarm accepts the name of one of SPEC 2.4's throttle alarms.
func (v *validator) alarm(a string) {
	if a == "" || len(a) > 255 || strings.ContainsFunc(a, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		v.bad("ALARM_NAMES", a, "a CloudWatch alarm name (1-255 printable characters)")
		return
	}
	probe := spec.For("x")
	for _, t := range probe.ThrottleAlarms() {
		if other, ok := envOf(a, "-"+strings.TrimPrefix(t.Name, probe.Prefix())); ok {
			v.owner("ALARM_NAMES", a, other, "alarm")
			return
		}
	}
	v.bad("ALARM_NAMES", a, fmt.Sprintf("not a throttle alarm of this project: want names like %s", spec.For(v.env).Alarms()[0]))
}

func (v *validator) dashboard(d string) {
	if d == "" {
		return
	}
	if !dashboardName.MatchString(d) {
		v.bad("DASHBOARD_NAME", d, "a CloudWatch dashboard name (letters, digits, '_', '-')")
		return
	}
	other, ok := strings.CutPrefix(d, spec.Project+"-")
	if !ok || other == "" {
		v.bad("DASHBOARD_NAME", d, "want "+spec.For(v.env).Dashboard())
		return
	}
	v.owner("DASHBOARD_NAME", d, other, "dashboard")
}

// role accepts a role name or ARN of the environment.
func (v *validator) role(field, r, suffix string) {
	if r == "" {
		return
	}
	name := r
	if strings.HasPrefix(r, "arn:") {
		res, ok := v.arn(field, r, "iam")
		if !ok {
			return
		}
		after, ok := strings.CutPrefix(res, "role/")
		if !ok {
			v.bad(field, r, "an IAM role ARN (arn:aws:iam::<account>:role/<name>)")
			return
		}
		name = after[strings.LastIndex(after, "/")+1:]
	}
	v.resource(field, name, roleName, "an IAM role name (1-64 letters, digits, '+=,.@_-')", suffix, "role")
}

// queue accepts the URL of the environment's verification queue.
func (v *validator) queue(q string) {
	if q == "" {
		return
	}
	u, err := url.Parse(q)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		v.bad("VERIFY_QUEUE_URL", q, "an SQS queue URL (https://sqs.<region>.amazonaws.com/<account>/<name>)")
		return
	}
	name := u.Path[strings.LastIndex(u.Path, "/")+1:]
	if !queueName.MatchString(name) {
		v.bad("VERIFY_QUEUE_URL", q, "an SQS queue URL ending in the queue's name (letters, digits, '_', '-')")
		return
	}
	// Any queue of the environment (a test queue beside the stack's own
	// verify-alerts): it is read, and only the alert check reads it.
	own := spec.For(v.env).Prefix()
	if strings.HasPrefix(name, own) {
		return
	}
	if v.env == "local" && strings.HasPrefix(name, spec.Project+"-") && !ofKnownEnvironment(name) {
		return
	}
	v.bad("VERIFY_QUEUE_URL", q, fmt.Sprintf("not a queue of environment %q (want %s...)", v.env, own))
}

// ofKnownEnvironment reports whether a resource name carries the prefix
// of a known environment or of an acceptance run.
func ofKnownEnvironment(name string) bool {
	for _, env := range append([]string{strings.TrimSuffix(spec.EphemeralPrefix, "-")}, spec.KnownEnvironments...) {
		if strings.HasPrefix(name, spec.For(env).Prefix()) {
			return true
		}
	}
	return false
}
