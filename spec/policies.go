package spec

import (
	"fmt"
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
