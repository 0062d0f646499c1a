package spec

import (
	"fmt"
	"slices"
	"strings"
)

// Account is where an environment lives: the account id, region and
// partition its ARNs are built from.
type Account struct {
	ID, Region, Partition string
}

func (a Account) partition() string {
	if a.Partition == "" {
		return "aws"
	}
	return a.Partition
}

// TableArn is the ARN of a table (or, with a wildcard, of tables).
func (a Account) TableArn(name string) string {
	return fmt.Sprintf("arn:%s:dynamodb:%s:%s:table/%s", a.partition(), a.Region, a.ID, name)
}

// KeyAliasArn is the ARN of a KMS alias.
func (a Account) KeyAliasArn(alias string) string {
	return fmt.Sprintf("arn:%s:kms:%s:%s:%s", a.partition(), a.Region, a.ID, alias)
}

// TopicArn is the ARN of an SNS topic.
func (a Account) TopicArn(name string) string {
	return fmt.Sprintf("arn:%s:sns:%s:%s:%s", a.partition(), a.Region, a.ID, name)
}

// AlarmArn is the ARN of a CloudWatch alarm.
func (a Account) AlarmArn(name string) string {
	return fmt.Sprintf("arn:%s:cloudwatch:%s:%s:alarm:%s", a.partition(), a.Region, a.ID, name)
}

// DashboardArn is the ARN of a CloudWatch dashboard (global).
func (a Account) DashboardArn(name string) string {
	return fmt.Sprintf("arn:%s:cloudwatch::%s:dashboard/%s", a.partition(), a.ID, name)
}

// RoleArn is the ARN of an IAM role.
func (a Account) RoleArn(name string) string {
	return fmt.Sprintf("arn:%s:iam::%s:role/%s", a.partition(), a.ID, name)
}

// Root is the account's root principal.
func (a Account) Root() string { return fmt.Sprintf("arn:%s:iam::%s:root", a.partition(), a.ID) }

// BucketArn is the ARN of an S3 bucket; S3 ARNs carry neither region nor
// account.
func (a Account) BucketArn(name string) string {
	return fmt.Sprintf("arn:%s:s3:::%s", a.partition(), name)
}

// KeyArn is the ARN of a KMS key by id ("*" for every key of the region).
func (a Account) KeyArn(id string) string {
	return fmt.Sprintf("arn:%s:kms:%s:%s:key/%s", a.partition(), a.Region, a.ID, id)
}

// QueueArn is the ARN of an SQS queue.
func (a Account) QueueArn(name string) string {
	return fmt.Sprintf("arn:%s:sqs:%s:%s:%s", a.partition(), a.Region, a.ID, name)
}

// PolicyArn is the ARN of a customer-managed IAM policy.
func (a Account) PolicyArn(name string) string {
	return fmt.Sprintf("arn:%s:iam::%s:policy/%s", a.partition(), a.ID, name)
}

// ParameterPathArn is the ARN IAM evaluates GetParametersByPath on: the
// path itself without its trailing slash, which ParametersArn's pattern
// does not match.
func (a Account) ParameterPathArn(path string) string {
	return fmt.Sprintf("arn:%s:ssm:%s:%s:parameter%s", a.partition(), a.Region, a.ID, strings.TrimSuffix(path, "/"))
}

// ParametersArn is the ARN pattern of every SSM parameter below path.
func (a Account) ParametersArn(path string) string {
	return fmt.Sprintf("arn:%s:ssm:%s:%s:parameter%s*", a.partition(), a.Region, a.ID, path)
}

// OIDCProviderArn is the ARN of the account's GitHub OIDC provider.
func (a Account) OIDCProviderArn() string {
	return fmt.Sprintf("arn:%s:iam::%s:oidc-provider/%s", a.partition(), a.ID, GitHubOIDCHost)
}

// ServiceEndpoint is "<service>.<region>.amazonaws.com", the value of
// kms:ViaService.
func (a Account) ServiceEndpoint(service string) string {
	return fmt.Sprintf("%s.%s.amazonaws.com", service, a.Region)
}

// Service principals the key and topic policies name.
const (
	CloudWatchPrincipal = "cloudwatch.amazonaws.com"
	SNSPrincipal        = "sns.amazonaws.com"
)

// Sids of the key policy's statements (SPEC 2.1).
const (
	SidKeyRoot             = "RootAdministers"
	SidKeyViaDynamoDB      = "AllowUseViadynamodb"
	SidKeyViaSSM           = "AllowUseViassm"
	SidKeyCloudWatchAlarms = "AllowCloudWatchAlarms"
	SidKeySNSDelivery      = "AllowSNSDelivery"
)

// KeyUseActions are what DynamoDB and SSM do with the key for principals of
// the account.
var KeyUseActions = []string{"kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey", "kms:CreateGrant"}

// AlarmDeliveryActions are what CloudWatch and SNS need of the key to
// publish an alarm notification to the encrypted topic.
var AlarmDeliveryActions = []string{"kms:Decrypt", "kms:GenerateDataKey*"}

// KeyPolicy is SPEC 2.1's key policy: the account root administers the key;
// DynamoDB and SSM use it for principals of the account; CloudWatch and SNS
// may decrypt and generate data keys so alarm notifications reach the
// encrypted topic (the original omitted CloudWatch).
func KeyPolicy(a Account) PolicyDocument {
	viaService := func(sid, svc string) Statement {
		return Statement{
			Sid: sid, Effect: "Allow",
			Principal: map[string]any{"AWS": "*"}, Action: KeyUseActions, Resource: Strings{"*"},
			Condition: map[string]map[string]any{"StringEquals": {
				"kms:ViaService":    a.ServiceEndpoint(svc),
				"kms:CallerAccount": a.ID,
			}},
		}
	}
	servicePrincipal := func(sid, principal string) Statement {
		return Statement{
			Sid: sid, Effect: "Allow",
			Principal: map[string]any{"Service": principal},
			Action:    AlarmDeliveryActions,
			Resource:  Strings{"*"},
			Condition: map[string]map[string]any{"StringEquals": {"aws:SourceAccount": a.ID}},
		}
	}
	return Policy(
		Statement{Sid: SidKeyRoot, Effect: "Allow", Principal: map[string]any{"AWS": a.Root()}, Action: Strings{"kms:*"}, Resource: Strings{"*"}},
		viaService(SidKeyViaDynamoDB, "dynamodb"),
		viaService(SidKeyViaSSM, "ssm"),
		servicePrincipal(SidKeyCloudWatchAlarms, CloudWatchPrincipal),
		servicePrincipal(SidKeySNSDelivery, SNSPrincipal),
	)
}

// TopicPolicy lets CloudWatch publish to the ops topic, only for this
// account's alarms of this environment (SPEC 2.3).
func TopicPolicy(a Account, topicArn string, n Names) PolicyDocument {
	return Policy(Statement{
		Sid: "AllowEnvironmentAlarms", Effect: "Allow",
		Principal: map[string]any{"Service": CloudWatchPrincipal},
		Action:    Strings{"sns:Publish"},
		Resource:  Strings{topicArn},
		Condition: map[string]map[string]any{
			"StringEquals": {"aws:SourceAccount": a.ID},
			"ArnLike":      {"aws:SourceArn": a.AlarmArn(n.Prefix() + "*")},
		},
	})
}

// GitHubOIDCHost is the issuer host, the prefix of the trust condition keys.
var GitHubOIDCHost = strings.TrimPrefix(GitHubOIDCURL, "https://")

// Trust condition keys of GitHub's OIDC tokens.
var (
	OIDCAudienceKey = GitHubOIDCHost + ":aud"
	OIDCSubjectKey  = GitHubOIDCHost + ":sub"
)

// AssumeRoleWithWebIdentity is the one action a trust policy allows.
const AssumeRoleWithWebIdentity = "sts:AssumeRoleWithWebIdentity"

// TrustPolicy trusts GitHub's OIDC tokens for the exact audience and the
// exact subjects given; no wildcards (SPEC 2.6).
func TrustPolicy(providerArn string, subjects []string) PolicyDocument {
	subs := make([]any, len(subjects))
	for i, s := range subjects {
		subs[i] = s
	}
	return Policy(Statement{
		Sid: "GitHubActions", Effect: "Allow",
		Principal: map[string]any{"Federated": providerArn},
		Action:    Strings{AssumeRoleWithWebIdentity},
		Condition: map[string]map[string]any{
			"StringEquals": {
				OIDCAudienceKey: GitHubOIDCAudience,
				OIDCSubjectKey:  subs,
			},
		},
	})
}

// IsPullRequestSubject reports whether a trust subject admits pull-request
// workflows, which must never reach a write role.
func IsPullRequestSubject(sub string) bool { return strings.HasSuffix(sub, ":pull_request") }

// RoleSessionSeconds is the maximum session of the GitHub roles (1 hour).
const RoleSessionSeconds = 3600

// Baselines bucket facts (SPEC 2.10) beyond its name and lifecycle days.
const (
	// BaselinesLifecycleRuleID names the bucket's one lifecycle rule, which
	// expires noncurrent versions.
	BaselinesLifecycleRuleID = "expire-noncurrent-baselines"
	// SidDenyInsecureTransport is the bucket policy's one statement.
	SidDenyInsecureTransport = "DenyInsecureTransport"
	// SecureTransportKey is the condition key that is "false" for a
	// request made over plain HTTP.
	SecureTransportKey = "aws:SecureTransport"
)

// BaselinesBucketPolicy denies every S3 action on the bucket and its
// objects, to any principal, for requests not made over TLS. It is built
// from the bucket's ARN (not the provider's output) so a preview knows it.
func BaselinesBucketPolicy(bucketArn string) PolicyDocument {
	return Policy(Statement{
		Sid: SidDenyInsecureTransport, Effect: "Deny",
		Principal: map[string]any{"AWS": "*"},
		Action:    Strings{"s3:*"},
		Resource:  Strings{bucketArn, bucketArn + "/*"},
		Condition: map[string]map[string]any{"Bool": {SecureTransportKey: "false"}},
	})
}

// TLSOnlyProblem says why doc does not deny plain-HTTP access to bucket (a
// name) and every object in it; "" when it does. A statement counts when
// it denies any principal every S3 action with aws:SecureTransport false as
// its only condition: a narrower deny leaves some requests over HTTP
// allowed. The gate and the verifier share this reading.
func TLSOnlyProblem(doc PolicyDocument, bucket string) string {
	var bucketDenied, objectsDenied bool
	for _, s := range doc.Statement {
		if s.Effect != "Deny" || !slices.Contains(s.Principals("AWS"), "*") {
			continue
		}
		if !slices.Contains(s.Action, "s3:*") && !slices.Contains(s.Action, "*") {
			continue
		}
		if len(s.Condition) != 1 || len(s.Condition["Bool"]) != 1 {
			continue
		}
		v := s.Condition["Bool"][SecureTransportKey]
		if strings.ToLower(fmt.Sprint(stringsOfAny(v))) != "[false]" {
			continue
		}
		for _, r := range s.Resource {
			switch {
			case r == "*":
				bucketDenied, objectsDenied = true, true
			case isBucketArn(r, bucket):
				bucketDenied = true
			case isBucketArn(strings.TrimSuffix(r, "/*"), bucket) && strings.HasSuffix(r, "/*"):
				objectsDenied = true
			}
		}
	}
	switch {
	case bucketDenied && objectsDenied:
		return ""
	case bucketDenied:
		return "the deny of non-TLS requests covers the bucket but not its objects (" + bucket + "/*)"
	case objectsDenied:
		return "the deny of non-TLS requests covers the objects but not the bucket " + bucket
	}
	return fmt.Sprintf("no statement denies requests without TLS (Deny, any principal, s3:*, %s = false, on %s and %s/*)", SecureTransportKey, bucket, bucket)
}

// isBucketArn reports whether arn is "arn:<any partition>:s3:::<bucket>".
func isBucketArn(arn, bucket string) bool {
	rest, ok := strings.CutPrefix(arn, "arn:")
	if !ok {
		return false
	}
	_, tail, ok := strings.Cut(rest, ":")
	return ok && tail == "s3:::"+bucket
}

// stringsOfAny is StringsOf that also renders booleans and numbers, as
// condition values come back from a parsed document ("false" or false).
func stringsOfAny(v any) []string {
	switch t := v.(type) {
	case bool, float64, int:
		return []string{fmt.Sprint(t)}
	case []any:
		var out []string
		for _, x := range t {
			out = append(out, stringsOfAny(x)...)
		}
		return out
	}
	return StringsOf(v)
}
