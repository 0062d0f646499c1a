// Package stackconfig is the typed configuration of one environment stack
// (SPEC 2.9): read from a Pulumi.<stack>.yaml file or from the Pulumi
// context, and validated in one place before any resource is declared or any
// cloud call is made. Every error names the key, the bad value and what is
// allowed.
package stackconfig

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/mirror-dissonance/mirror-infra/awsclient"
	"github.com/mirror-dissonance/mirror-infra/spec"

	"github.com/mirror-dissonance/mirror-infra/report"
)

// Namespace is the project's config namespace.
const Namespace = spec.Project

// Keys of the project namespace (written "mirror-dissonance:<key>" in files).
const (
	KeyEnvironment        = "environment"
	KeyAlertEmail         = "alertEmail"
	KeyGitHubRepository   = "githubRepository"
	KeyGitHubSubjects     = "githubSubjects"
	KeyCreateOIDCProvider = "createOidcProvider"
	KeyOIDCProviderArn    = "oidcProviderArn"
	KeyThrottleThreshold  = "throttleThreshold"
	KeyDeletionProtection = "deletionProtection"
	KeyKMSDeletionWindow  = "kmsDeletionWindowDays"
	// KeyEphemeral marks an acceptance stack that may be destroyed whole
	// (SPEC 2.12); only stacks named acc-<run> may set it.
	KeyEphemeral = "ephemeral"
	// KeyOracleSubjects are the exact `sub` values of the Oracle
	// repository's workflows that the Oracle runtime role trusts.
	KeyOracleSubjects = "oracleSubjects"
	// KeyVerificationQueue turns the verification subscriber on (SPEC
	// 2.11); default on in staging and off elsewhere.
	KeyVerificationQueue = "verificationQueue"
	// KeyNonceRotationDays is the age at which a deploy rotates the nonce;
	// KeyNonceKeepVersions how many versions a prune keeps (SPEC 4).
	KeyNonceRotationDays = "nonceRotationDays"
	KeyNonceKeepVersions = "nonceKeepVersions"
	// KeyRestoreTimeTarget and KeyRecoveryPointTarget are the restore
	// drill's targets in minutes (SPEC 3.5).
	KeyRestoreTimeTarget   = "restoreTimeTargetMinutes"
	KeyRecoveryPointTarget = "recoveryPointTargetMinutes"
	// KeyRegion is the standard AWS provider key.
	KeyRegion = "aws:region"
)

// Defaults of the restore drill's targets (SPEC 3.5), in minutes.
const (
	DefaultRestoreTimeTargetMinutes   = 60
	DefaultRecoveryPointTargetMinutes = 15
)

// Config is the validated configuration of one stack.
type Config struct {
	Stack       string
	Environment string
	Region      string
	// AlertEmail subscribes an address to the ops topic; empty for none.
	AlertEmail string
	// GitHubOrg and GitHubRepo are the repository the OIDC roles trust.
	GitHubOrg  string
	GitHubRepo string
	// DeploySubjects are the exact `sub` values the deploy role trusts.
	DeploySubjects []string
	// CreateOIDCProvider makes this stack own the account's GitHub OIDC
	// provider; otherwise OIDCProviderArn names it, or it is looked up.
	CreateOIDCProvider bool
	OIDCProviderArn    string
	ThrottleThreshold  int
	DeletionProtection bool
	KMSDeletionWindow  int
	// Ephemeral: no protect, no table deletion protection, the shortest
	// key deletion window, every resource tagged with the run (SPEC 2.12).
	Ephemeral bool
	// OracleSubjects are the exact `sub` values the Oracle runtime role
	// trusts (workflows of the Oracle repository); empty leaves the role
	// without a trusted workflow.
	OracleSubjects []string
	// VerificationQueue declares the SQS verification subscriber.
	VerificationQueue bool
	// NonceRotationDays: a deploy rotates when the newest nonce version is
	// this old; NonceKeepVersions: a prune keeps this many newest versions.
	NonceRotationDays int
	NonceKeepVersions int
	// RestoreTimeTargetMinutes and RecoveryPointTargetMinutes are what the
	// restore drill holds each table's recovery time (request to ACTIVE
	// and verified) and recovery point to.
	RestoreTimeTargetMinutes   int
	RecoveryPointTargetMinutes int
}

// Scope is what the roles' policies are derived from (SPEC 2.6).
func (c Config) Scope(account spec.Account) spec.Scope {
	return spec.Scope{
		Names: c.Names(), Account: account,
		OwnsProvider:    c.CreateOIDCProvider,
		LooksUpProvider: !c.CreateOIDCProvider && c.OIDCProviderArn == "",
		VerifyQueue:     c.VerificationQueue,
	}
}

// Names returns the resource names of the stack's environment.
func (c Config) Names() spec.Names { return spec.For(c.Environment) }

// PreviewSubject is the only `sub` the preview role trusts.
func (c Config) PreviewSubject() string {
	return fmt.Sprintf("repo:%s/%s:pull_request", c.GitHubOrg, c.GitHubRepo) // spec.IsPullRequestSubject holds for it
}

// Error is one invalid configuration value.
type Error struct {
	Key     string
	Value   string
	Allowed string
}

func (e *Error) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("config %s is missing or empty: %s", e.Key, e.Allowed)
	}
	return fmt.Sprintf("config %s = %q is invalid: %s", e.Key, report.Quote(e.Value), e.Allowed)
}

// MaxThrottleThreshold bounds the alarm threshold: a throttle alarm sums
// throttle events over 5 minutes, and a threshold no table under the
// on-demand limits can reach would make the alarm never fire.
const MaxThrottleThreshold = 100000

func qualified(key string) string {
	if strings.Contains(key, ":") {
		return key
	}
	return Namespace + ":" + key
}

var (
	repoPattern    = regexp.MustCompile(`^([A-Za-z0-9][A-Za-z0-9-]{0,38})/([A-Za-z0-9._-]{1,100})$`)
	subjectPattern = regexp.MustCompile(`^repo:[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}:(ref:refs/(heads|tags)/[A-Za-z0-9._/-]+|environment:[A-Za-z0-9._-]+)$`)
	arnPattern     = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:oidc-provider/token\.actions\.githubusercontent\.com$`)
)

// Parse validates raw values keyed by their qualified names
// ("mirror-dissonance:environment", "aws:region"). Structured values (the
// subject list) are JSON, as Pulumi presents them. stack is the stack name.
// All problems are reported together.
func Parse(stack string, raw map[string]string) (Config, error) {
	var errs []error
	bad := func(key, value, allowed string) {
		errs = append(errs, &Error{Key: qualified(key), Value: value, Allowed: allowed})
	}
	get := func(key string) (string, bool) {
		v, ok := raw[qualified(key)]
		return strings.TrimSpace(v), ok
	}
	c := Config{Stack: stack}

	if v, ok := get(KeyEphemeral); ok && v != "" {
		b, err := strconv.ParseBool(v)
		switch {
		case err != nil:
			bad(KeyEphemeral, v, "true or false")
		case b && !spec.IsEphemeralStack(stack):
			bad(KeyEphemeral, v, fmt.Sprintf("only a stack named %s<run> (lowercase letters, digits, dashes; at most 20 characters) may be ephemeral: an ephemeral stack has no protect and no deletion protection, so stack %q must not be one", spec.EphemeralPrefix, stack))
		}
		c.Ephemeral = b && err == nil
	}

	env, _ := get(KeyEnvironment)
	if c.Ephemeral && env == "" {
		env = stack // an acceptance stack is its own environment: its names carry the run
	}
	switch {
	case spec.IsEphemeralStack(stack) && env != stack:
		bad(KeyEnvironment, env, fmt.Sprintf("a %s<run> stack's environment is its own name %q (leave it unset and set ephemeral: \"true\"): its resources carry the run's name, and leftovers and the sweep act on that name only", spec.EphemeralPrefix, stack))
	case c.Ephemeral && env != stack:
		bad(KeyEnvironment, env, fmt.Sprintf("an ephemeral stack's environment is its own name %q (leave it unset), so its resources never collide with another run's", stack))
	case !c.Ephemeral && spec.IsEphemeralStack(env):
		bad(KeyEnvironment, env, fmt.Sprintf("one of %s; %s<run> names are for ephemeral: \"true\" acceptance stacks only", strings.Join(spec.KnownEnvironments, ", "), spec.EphemeralPrefix))
	default:
		if err := spec.ValidateEnvironment(env); err != nil {
			bad(KeyEnvironment, env, fmt.Sprintf("one of %s", strings.Join(spec.KnownEnvironments, ", ")))
		}
	}
	c.Environment = env

	c.Region = spec.DefaultRegion
	if v, ok := get(KeyRegion); ok {
		if !awsclient.KnownRegion(v) {
			bad(KeyRegion, v, "a known AWS region such as "+spec.DefaultRegion+didYouMean(v, awsclient.Regions()))
		} else {
			c.Region = v
		}
	}

	if v, ok := get(KeyAlertEmail); ok && v != "" {
		addr, err := mail.ParseAddress(v)
		if err != nil || addr.Address != v || !strings.Contains(v[strings.LastIndex(v, "@")+1:], ".") {
			bad(KeyAlertEmail, v, "a plain e-mail address such as ops@example.com, or leave it unset")
		} else {
			c.AlertEmail = v
		}
	}

	repo, _ := get(KeyGitHubRepository)
	if m := repoPattern.FindStringSubmatch(repo); m == nil {
		bad(KeyGitHubRepository, repo, "<org>/<repo> of the GitHub repository that deploys, e.g. acme/mirror-infra")
	} else {
		c.GitHubOrg, c.GitHubRepo = m[1], m[2]
	}

	if v, ok := get(KeyGitHubSubjects); ok && v != "" {
		var subs []string
		if err := json.Unmarshal([]byte(v), &subs); err != nil {
			bad(KeyGitHubSubjects, v, "a list of exact OIDC subjects, e.g. [\"repo:acme/infra:ref:refs/heads/main\"]")
		} else if len(subs) == 0 {
			bad(KeyGitHubSubjects, v, "at least one subject, or leave it unset for the defaults (main branch and the environment)")
		} else {
			rules := subjectRules{
				wildcard:    "exact subjects only; wildcards would let other branches or repositories deploy",
				pullRequest: "the deploy role never trusts pull_request (the preview role does)",
				otherEnv:    fmt.Sprintf("a subject of environment %q: the deploy role of one environment never trusts another environment's workflows", env),
			}
			if c.GitHubOrg != "" {
				rules.repoPrefix = fmt.Sprintf("repo:%s/%s:", c.GitHubOrg, c.GitHubRepo)
				rules.otherRepo = fmt.Sprintf("a subject of %s/%s (githubRepository)", c.GitHubOrg, c.GitHubRepo)
			}
			rules.check(KeyGitHubSubjects, subs, env, bad)
			c.DeploySubjects = subs
		}
	} else if c.GitHubOrg != "" {
		// Only the environment: its reviewers gate every use of the role. A
		// bare main-branch subject could be presented by any job on main.
		c.DeploySubjects = []string{
			fmt.Sprintf("repo:%s/%s:environment:%s", c.GitHubOrg, c.GitHubRepo, c.Environment),
		}
	}

	if v, ok := get(KeyCreateOIDCProvider); ok && v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			bad(KeyCreateOIDCProvider, v, "true or false")
		}
		c.CreateOIDCProvider = b
	}
	if v, ok := get(KeyOIDCProviderArn); ok && v != "" {
		if !arnPattern.MatchString(v) {
			bad(KeyOIDCProviderArn, v, "arn:aws:iam::<account>:oidc-provider/"+spec.GitHubOIDCHost)
		} else if c.CreateOIDCProvider {
			bad(KeyOIDCProviderArn, v, "leave it unset when createOidcProvider is true (one stack per account owns the provider)")
		}
		c.OIDCProviderArn = v
	}

	c.ThrottleThreshold = spec.DefaultThrottleThreshold
	if v, ok := get(KeyThrottleThreshold); ok && v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxThrottleThreshold {
			bad(KeyThrottleThreshold, v, fmt.Sprintf("a positive integer (throttle events per 5 minutes), default %d", spec.DefaultThrottleThreshold))
		}
		c.ThrottleThreshold = n
	}

	c.DeletionProtection = true
	if v, ok := get(KeyDeletionProtection); ok && v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			bad(KeyDeletionProtection, v, "true or false")
		}
		c.DeletionProtection = b
	}
	if env == "production" && !c.DeletionProtection {
		bad(KeyDeletionProtection, "false", "production tables always have deletion protection; only non-production stacks may turn it off")
	}
	if c.Ephemeral {
		if v, ok := get(KeyDeletionProtection); ok && v != "" && c.DeletionProtection {
			bad(KeyDeletionProtection, v, "an ephemeral stack is destroyed whole; leave it unset (false)")
		}
		c.DeletionProtection = false
	}

	c.KMSDeletionWindow = spec.KeyDeletionWindowDefault
	if c.Ephemeral {
		c.KMSDeletionWindow = spec.KeyDeletionWindowMin
	}
	if v, ok := get(KeyKMSDeletionWindow); ok && v != "" {
		if c.Ephemeral && v != strconv.Itoa(spec.KeyDeletionWindowMin) {
			bad(KeyKMSDeletionWindow, v, fmt.Sprintf("an ephemeral stack uses the shortest window, %d days; leave it unset", spec.KeyDeletionWindowMin))
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < spec.KeyDeletionWindowMin || n > spec.KeyDeletionWindowMax {
			bad(KeyKMSDeletionWindow, v, fmt.Sprintf("an integer number of days from %d to %d", spec.KeyDeletionWindowMin, spec.KeyDeletionWindowMax))
		}
		c.KMSDeletionWindow = n
	}

	if v, ok := get(KeyOracleSubjects); ok && v != "" {
		var subs []string
		if err := json.Unmarshal([]byte(v), &subs); err != nil {
			bad(KeyOracleSubjects, v, "a list of exact OIDC subjects of the Oracle repository, e.g. [\"repo:acme/oracle:environment:staging\"]")
		}
		subjectRules{
			wildcard:    "exact subjects only; wildcards would let other branches or repositories act as the Oracle",
			pullRequest: "the Oracle role writes the tables, so it never trusts pull_request",
			otherEnv:    fmt.Sprintf("a subject of environment %q, not another environment's", env),
		}.check(KeyOracleSubjects, subs, env, bad)
		c.OracleSubjects = subs
	}
	if len(c.OracleSubjects) == 0 {
		// An Oracle role that trusts no subject is refused by the gate
		// anyway; say so here, before any cloud call, naming the key.
		bad(KeyOracleSubjects, "", "at least one exact OIDC subject of the Oracle repository's workflows, e.g. [\"repo:acme/oracle:environment:"+env+"\"]")
	}

	c.VerificationQueue = env == "staging"
	if v, ok := get(KeyVerificationQueue); ok && v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			bad(KeyVerificationQueue, v, "true or false (default true in staging, false elsewhere)")
		}
		c.VerificationQueue = b
	}

	intIn := func(key string, def, lo, hi int, what string) int {
		v, ok := get(key)
		if !ok || v == "" {
			return def
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			bad(key, v, fmt.Sprintf("%s: an integer from %d to %d, default %d", what, lo, hi, def))
			return def
		}
		return n
	}
	c.NonceRotationDays = intIn(KeyNonceRotationDays, spec.DefaultNonceRotationDays, 1, 365, "the nonce age in days at which a deploy rotates it")
	c.NonceKeepVersions = intIn(KeyNonceKeepVersions, spec.DefaultNonceKeepVersions, 1, 100, "how many newest nonce versions a prune keeps (valid ones are never pruned)")
	// A real restore takes about 20 minutes or more, and the latest
	// restorable time trails now by about five: targets below those could
	// never be met.
	c.RestoreTimeTargetMinutes = intIn(KeyRestoreTimeTarget, DefaultRestoreTimeTargetMinutes, 20, 1440,
		"the restore drill's recovery time target in minutes (a real restore takes about 20 or more)")
	c.RecoveryPointTargetMinutes = intIn(KeyRecoveryPointTarget, DefaultRecoveryPointTargetMinutes, 6, 1440,
		"the restore drill's recovery point target in minutes (the latest restorable time trails by about 5)")

	if len(errs) > 0 {
		return Config{}, fmt.Errorf("stack %q configuration: %w", stack, errors.Join(errs...))
	}
	return c, nil
}

// subjectRules are the refusals of the exact OIDC subjects a role may
// trust: each field is what the refusal says is allowed instead.
type subjectRules struct {
	wildcard, pullRequest, otherEnv string
	// repoPrefix, when set, starts every subject allowed; otherRepo is the
	// refusal of one that does not start with it.
	repoPrefix, otherRepo string
}

// check reports, through bad under key, the first refusal of each of subs
// in environment env.
func (r subjectRules) check(key string, subs []string, env string, bad func(key, value, allowed string)) {
	for _, s := range subs {
		switch {
		case strings.ContainsAny(s, "*?"):
			bad(key, s, r.wildcard)
		case spec.IsPullRequestSubject(s):
			bad(key, s, r.pullRequest)
		case !subjectPattern.MatchString(s):
			bad(key, s, "repo:<org>/<repo>:ref:refs/heads/<branch> or repo:<org>/<repo>:environment:<name>")
		case r.repoPrefix != "" && !strings.HasPrefix(s, r.repoPrefix):
			bad(key, s, r.otherRepo)
		case namesOtherEnvironment(s, env):
			bad(key, s, r.otherEnv)
		}
	}
}

// namesOtherEnvironment reports whether an environment subject names a
// known environment other than env (a staging stack must not trust the
// production environment's workflows).
func namesOtherEnvironment(sub, env string) bool {
	_, name, ok := strings.Cut(sub, ":environment:")
	if !ok {
		return false
	}
	for _, known := range spec.KnownEnvironments {
		if name == known && name != env {
			return true
		}
	}
	return false
}

// Ours reports whether a qualified key belongs to this project or the AWS
// provider.
func Ours(key string) bool {
	return strings.HasPrefix(key, Namespace+":") || strings.HasPrefix(key, "aws:")
}

// KnownKeys lists every key Parse reads, qualified.
func KnownKeys() []string {
	keys := []string{KeyRegion}
	for _, k := range []string{KeyEnvironment, KeyAlertEmail, KeyGitHubRepository, KeyGitHubSubjects,
		KeyCreateOIDCProvider, KeyOIDCProviderArn, KeyThrottleThreshold, KeyDeletionProtection, KeyKMSDeletionWindow, KeyEphemeral,
		KeyOracleSubjects, KeyVerificationQueue, KeyNonceRotationDays, KeyNonceKeepVersions,
		KeyRestoreTimeTarget, KeyRecoveryPointTarget} {
		keys = append(keys, qualified(k))
	}
	sort.Strings(keys)
	return keys
}

// StackFile is the path of a stack's settings file.
func StackFile(projectDir, stack string) string {
	return filepath.Join(projectDir, "Pulumi."+stack+".yaml")
}

// plaintextCredential are the AWS provider's credential keys; a stack file
// is committed, so a value there is a leaked key.
var plaintextCredential = map[string]bool{"aws:accessKey": true, "aws:secretKey": true, "aws:token": true}

var stackNamePattern = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,100}$`)

// ReadFile reads Pulumi.<stack>.yaml and returns its config values keyed
// by qualified name, structured values as JSON. Unknown keys of our
// namespace are errors (a typo must not silently fall back to a default).
func ReadFile(projectDir, stack string) (map[string]string, error) {
	if !stackNamePattern.MatchString(stack) {
		return nil, &Error{Key: "stack", Value: stack, Allowed: "letters, digits, '-', '_' and '.'"}
	}
	path := StackFile(projectDir, stack)
	data, err := readStackFile(projectDir, path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("stack %q: no %s (available stacks: %s)", stack, filepath.Base(path), strings.Join(Available(projectDir), ", "))
	}
	if err != nil {
		return nil, err
	}
	var top map[string]yaml.Node
	if err := yaml.Unmarshal(data, &top); err != nil {
		return nil, fmt.Errorf("%s is not valid YAML: %w", filepath.Base(path), err)
	}
	for k := range top {
		if !slices.Contains(stackFileKeys, k) {
			return nil, fmt.Errorf("%s: unknown top-level key %q (a stack file has %s)%s", filepath.Base(path), report.Quote(k), strings.Join(stackFileKeys, ", "), didYouMean(k, stackFileKeys))
		}
	}
	var doc struct {
		Config map[string]any `yaml:"config"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s is not valid YAML: %w", filepath.Base(path), err)
	}
	raw := map[string]string{}
	var unknown []string
	for k, v := range doc.Config {
		if plaintextCredential[k] {
			if _, secure := v.(map[string]any); !secure {
				return nil, fmt.Errorf("%s: %s holds an AWS credential in plain text: remove it and rotate that key; use the SDK's credential chain (profile, OIDC role, environment), or at least `pulumi config set --secret %s`", filepath.Base(path), k, k)
			}
		}
		if why := checkKey(k); why != "" {
			unknown = append(unknown, why)
			continue
		}
		switch t := v.(type) {
		case string:
			raw[k] = t
		case map[string]any:
			if _, secure := t["secure"]; secure {
				if plaintextCredential[k] {
					continue // the provider decrypts it; the program never reads it
				}
				return nil, fmt.Errorf("%s: %s is a secret; this program has no secret settings", filepath.Base(path), k)
			}
			b, _ := json.Marshal(t)
			raw[k] = string(b)
		case []any:
			b, _ := json.Marshal(t)
			raw[k] = string(b)
		case nil:
			raw[k] = ""
		default:
			raw[k] = fmt.Sprint(t)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, fmt.Errorf("%s: %s (known: %s)", filepath.Base(path), report.Quote(strings.Join(unknown, "; ")), strings.Join(KnownKeys(), ", "))
	}
	return raw, nil
}

// Load reads and validates a stack's settings file.
func Load(projectDir, stack string) (Config, error) {
	raw, err := ReadFile(projectDir, stack)
	if err != nil {
		return Config{}, err
	}
	return Parse(stack, raw)
}

// Available lists the stacks that have a settings file in projectDir.
func Available(projectDir string) []string {
	matches, _ := filepath.Glob(filepath.Join(projectDir, "Pulumi.*.yaml"))
	var out []string
	for _, m := range matches {
		s := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(m), "Pulumi."), ".yaml")
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}
