package spec

import (
	"fmt"
	"regexp"
	"sort"
)

// Project is the Pulumi project name and the name prefix of every resource.
const Project = "mirror-dissonance"

// Table suffixes, in the order reports list them.
const (
	TableFPEvents     = "fp-events"
	TableConsent      = "consent"
	TableBlockCounter = "block-counter"
)

// TableSuffixes lists the three tables of SPEC 2.2.
var TableSuffixes = []string{TableFPEvents, TableConsent, TableBlockCounter}

// KnownEnvironments are the environments the SPEC names; "local" is for
// offline work.
var KnownEnvironments = []string{"local", "production", "staging"}

var envPattern = regexp.MustCompile(`^[a-z][a-z0-9-]{0,19}$`)

// EphemeralPrefix starts the name of every ephemeral acceptance stack
// (SPEC 2.12); such a stack's environment is its own name, so the names of
// its resources carry it and two runs never collide.
const EphemeralPrefix = "acc-"

var ephemeralPattern = regexp.MustCompile(`^acc-[a-z0-9][a-z0-9-]{0,15}$`)

// IsEphemeralStack reports whether name is a valid ephemeral stack name
// ("acc-" and up to 16 lowercase letters, digits and dashes).
func IsEphemeralStack(name string) bool { return ephemeralPattern.MatchString(name) }

// ValidateEnvironment reports whether env is one of KnownEnvironments or the
// name of an ephemeral acceptance stack.
func ValidateEnvironment(env string) error {
	if env == "" {
		return fmt.Errorf("environment is empty (allowed: %v, or an %s<run> acceptance stack's own name)", KnownEnvironments, EphemeralPrefix)
	}
	i := sort.SearchStrings(KnownEnvironments, env)
	if (i < len(KnownEnvironments) && KnownEnvironments[i] == env && envPattern.MatchString(env)) || IsEphemeralStack(env) {
		return nil
	}
	return fmt.Errorf("environment %q is not known (allowed: %v, or an %s<run> acceptance stack's own name)", env, KnownEnvironments, EphemeralPrefix)
}

// Names are the physical names of one environment's resources.
type Names struct {
	Env string
}

// For returns the names of environment env. It does not validate env.
func For(env string) Names { return Names{Env: env} }

// Prefix is "mirror-dissonance-<env>-", the prefix IAM policies are scoped by.
func (n Names) Prefix() string { return Project + "-" + n.Env + "-" }

// Resource is "mirror-dissonance-<env>-<suffix>".
func (n Names) Resource(suffix string) string { return n.Prefix() + suffix }

// Table returns the table name for a table suffix.
func (n Names) Table(suffix string) string { return n.Resource(suffix) }

// Tables returns the three table names in TableSuffixes order.
func (n Names) Tables() []string {
	out := make([]string, len(TableSuffixes))
	for i, s := range TableSuffixes {
		out[i] = n.Table(s)
	}
	return out
}

// KeyAlias is "alias/mirror-dissonance-<env>".
func (n Names) KeyAlias() string { return "alias/" + Project + "-" + n.Env }

// Topic is the ops alert topic name.
func (n Names) Topic() string { return n.Resource("ops-alerts") }

// Dashboard is the CloudWatch dashboard name.
func (n Names) Dashboard() string { return Project + "-" + n.Env }

// ReadThrottleAlarm is the read-throttle alarm name of a table suffix.
func (n Names) ReadThrottleAlarm(table string) string { return n.Resource(table + "-read-throttle") }

// WriteThrottleAlarm is the write-throttle alarm name of a table suffix.
func (n Names) WriteThrottleAlarm(table string) string { return n.Resource(table + "-write-throttle") }

// Alarms returns the six alarm names: read then write, per table in order.
func (n Names) Alarms() []string {
	var out []string
	for _, a := range n.ThrottleAlarms() {
		out = append(out, a.Name)
	}
	return out
}

// BaselinesBucket is the S3 bucket of the Oracle's drift baselines
// (SPEC 2.10).
func (n Names) BaselinesBucket() string { return n.Resource("baselines") }

// DeployRole is the GitHub deploy role name.
func (n Names) DeployRole() string { return n.Resource("github-deploy") }

// PreviewRole is the GitHub read-only preview role name.
func (n Names) PreviewRole() string { return n.Resource("github-preview") }

// OracleRole is the Oracle runtime role name (SPEC 2.6).
func (n Names) OracleRole() string { return n.Resource("oracle") }

// DrillRole is the restore drill's role name (SPEC 3.5, DrillPolicy).
func (n Names) DrillRole() string { return n.Resource("github-drill") }

// PermissionsBoundary is the managed policy every role the deploy role
// manages carries, so none can exceed the environment's read and data scope.
func (n Names) PermissionsBoundary() string { return n.Resource("boundary") }

// VerifyQueue is the verification subscriber's SQS queue (SPEC 2.11).
func (n Names) VerifyQueue() string { return n.Resource("verify-alerts") }

// NonceParameterPath is "/guardian/<env>/", the SSM path of nonce versions.
func (n Names) NonceParameterPath() string { return "/guardian/" + n.Env + "/" }

// NoncePrefix is "/guardian/<env>/redaction_nonce_v"; version N is the
// prefix followed by N in decimal.
func (n Names) NoncePrefix() string { return n.NonceParameterPath() + NonceBaseName }

// NonceParameter is the SSM name of nonce version v.
func (n Names) NonceParameter(v int) string { return fmt.Sprintf("%s%d", n.NoncePrefix(), v) }

// GitHubOIDCURL is the issuer of GitHub Actions tokens.
const GitHubOIDCURL = "https://token.actions.githubusercontent.com"

// GitHubOIDCAudience is the only audience the roles trust.
const GitHubOIDCAudience = "sts.amazonaws.com"

// Stack output keys (SPEC 2.8). The verifier runs from these alone.
const (
	OutEnvironment           = "environment"
	OutRegion                = "region"
	OutFPEventsTableName     = "fpEventsTableName"
	OutFPEventsTableArn      = "fpEventsTableArn"
	OutConsentTableName      = "consentTableName"
	OutConsentTableArn       = "consentTableArn"
	OutBlockCounterTableName = "blockCounterTableName"
	OutBlockCounterTableArn  = "blockCounterTableArn"
	OutKMSKeyArn             = "kmsKeyArn"
	OutKMSKeyID              = "kmsKeyId"
	OutKMSAlias              = "kmsAliasName"
	OutOpsTopicArn           = "opsTopicArn"
	OutAlarmNames            = "alarmNames"
	OutDashboardName         = "dashboardName"
	OutOIDCProviderArn       = "oidcProviderArn"
	OutDeployRoleArn         = "deployRoleArn"
	OutPreviewRoleArn        = "previewRoleArn"
	OutNoncePrefix           = "noncePrefix"
	OutBaselinesBucket       = "baselinesBucketName"
	OutOracleRoleArn         = "oracleRoleArn"
	// OutVerifyQueueURL is set only when the stack has a verification
	// subscriber (SPEC 2.11).
	OutVerifyQueueURL = "verifyQueueUrl"
)

// TableNameOutput and TableArnOutput map a table suffix to its output keys.
var (
	TableNameOutput = map[string]string{
		TableFPEvents:     OutFPEventsTableName,
		TableConsent:      OutConsentTableName,
		TableBlockCounter: OutBlockCounterTableName,
	}
	TableArnOutput = map[string]string{
		TableFPEvents:     OutFPEventsTableArn,
		TableConsent:      OutConsentTableArn,
		TableBlockCounter: OutBlockCounterTableArn,
	}
)
