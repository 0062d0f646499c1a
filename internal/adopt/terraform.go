package adopt

import (
	"fmt"
	"strings"

	"github.com/mirror-dissonance/mirror-infra/internal/gate"
	"github.com/mirror-dissonance/mirror-infra/spec"
)

// The facts below come from the original Terraform modules
// (reference/terraform): the address each of our resources had there, and
// what those modules made that this program does not manage.

// terraformAddress is the address in the original modules' state of the
// resource the program declares as typ/name; empty when the original had
// no such resource (the preview role, our inline policies, the topic
// policy, the bucket policy and lifecycle).
func terraformAddress(typ, name string) string {
	switch typ {
	case gate.TypeTable:
		return "module.dynamodb.aws_dynamodb_table." + underscore(name)
	case gate.TypeAlarm:
		// "fp-events-read-throttle" was fp_events_read_throttle.
		return "module.cloudwatch.aws_cloudwatch_metric_alarm." + underscore(name)
	case gate.TypeRole:
		if name == "github-deploy" {
			return "module.iam.aws_iam_role.github_actions_deploy"
		}
		return ""
	case gate.TypeSubscription:
		// Only the e-mail subscription existed there; the verification
		// queue's subscription is this program's own.
		if strings.HasSuffix(name, EmailSubscriptionSuffix) {
			return "module.cloudwatch.aws_sns_topic_subscription.ops_alerts_email[0]"
		}
		return ""
	}
	return terraformSingletons[typ]
}

// terraformSingletons are the addresses of the types the original modules
// made one of.
var terraformSingletons = map[string]string{
	gate.TypeKey:                     "module.kms.aws_kms_key.main",
	gate.TypeAlias:                   "module.kms.aws_kms_alias.main",
	gate.TypeTopic:                   "module.cloudwatch.aws_sns_topic.ops_alerts",
	gate.TypeDashboard:               "module.cloudwatch.aws_cloudwatch_dashboard.main",
	gate.TypeOIDCProvider:            "aws_iam_openid_connect_provider.github",
	gate.TypeBucket:                  "aws_s3_bucket.baselines",
	gate.TypeBucketVersioning:        "aws_s3_bucket_versioning.baselines",
	gate.TypeBucketEncryption:        "aws_s3_bucket_server_side_encryption_configuration.baselines",
	gate.TypeBucketPublicAccessBlock: "aws_s3_bucket_public_access_block.baselines",
}

// EmailSubscriptionSuffix ends the logical name of the ops topic's e-mail
// subscription (stacks.OpsTopic's "<name>-email").
const EmailSubscriptionSuffix = "-email"

func underscore(s string) string { return strings.ReplaceAll(s, "-", "_") }

// LeftAlone is a resource the original modules made that the program does
// not manage: adopt never touches it and Terraform keeps managing it.
type LeftAlone struct {
	Terraform string `json:"terraformAddress"`
	Kind      string `json:"kind"`
	Name      string `json:"name"`
	Why       string `json:"why"`
}

// leftAlone lists what the original made for env beyond this program.
func leftAlone(env string, ownsOIDC bool) []LeftAlone {
	n := spec.For(env)
	p := spec.Project + "-" + env
	out := []LeftAlone{
		{"module.dynamodb.aws_dynamodb_table.governance_cache", "DynamoDB table", n.Table("governance-cache"), "governance cache of the org-scan Lambda; not part of SPEC 2.2"},
		{"module.kms.aws_kms_key.cloudwatch_logs", "KMS key", "alias/" + p + "-cloudwatch", "CloudWatch Logs key of the audit trail"},
		{"module.kms.aws_kms_alias.cloudwatch_logs", "KMS alias", "alias/" + p + "-cloudwatch", "alias of the CloudWatch Logs key"},
		{"module.kms.aws_kms_key.sns", "KMS key", "alias/" + p + "-sns", "key of the backup notifications topic"},
		{"module.kms.aws_kms_alias.sns", "KMS alias", "alias/" + p + "-sns", "alias of the SNS key"},
		{"module.ssm.aws_ssm_parameter.redaction_nonce_v1", "SSM parameter", n.NonceParameter(1), "nonce values never enter Pulumi state (SPEC 2.7); `nonce rotate` keeps versions; remove it from Terraform's state too before a `terraform destroy`"},
		{"module.cloudwatch.aws_cloudwatch_metric_alarm.ssm_parameter_failures", "CloudWatch alarm", n.Resource("ssm-parameter-failures"), "log-metric alarm outside SPEC 2.4"},
		{"module.cloudwatch.aws_cloudwatch_metric_alarm.circuit_breaker_triggers[0]", "CloudWatch alarm", n.Resource("circuit-breaker-triggered"), "log-metric alarm outside SPEC 2.4"},
		{"module.cloudwatch.aws_cloudwatch_log_metric_filter.ssm_parameter_failures", "log metric filter", n.Resource("ssm-failures"), "feeds the SSM alarm"},
		{"module.cloudwatch.aws_cloudwatch_log_metric_filter.circuit_breaker_triggers[0]", "log metric filter", n.Resource("circuit-breaker"), "feeds the circuit-breaker alarm"},
		{"aws_cloudwatch_dashboard.infrastructure", "CloudWatch dashboard", "MirrorDissonance-Infrastructure-" + env, "second dashboard of the original; SPEC 2.5 has one"},
		{"module.iam.aws_iam_role.github_actions_terraform", "IAM role", n.Resource("github-terraform"), "runs Terraform; keep it until Terraform is retired"},
		{"module.iam.aws_iam_role_policy.github_terraform_policy", "IAM inline policy", n.Resource("github-terraform") + ":TerraformOperations", "policy of the Terraform role"},
		{"module.iam.aws_iam_role_policy.github_deploy_policy", "IAM inline policy", n.DeployRole() + ":DeployOperations", "the original's inline policy on the adopted deploy role; it stays attached beside ours: delete it by hand once verification passes"},
		{"module.audit.*", "CloudTrail trail, bucket, log group, role, alarms", n.Resource("cloudtrail") + ", " + p, "audit trail: not part of this program"},
		{"module.backup.*", "AWS Backup vault, plan, role, selection, topic", n.Resource("vault") + ", " + n.Resource("plan"), "backup plan: not part of this program (PITR is)"},
		{"module.lambda_org_scan.*", "Lambda function and its role", n.Resource("org-scan"), "org governance scan: not part of this program"},
	}
	if !ownsOIDC {
		out = append(out, LeftAlone{"aws_iam_openid_connect_provider.github", "IAM OIDC provider", spec.GitHubOIDCURL,
			"account-wide: the stack with createOidcProvider adopts it; this stack only looks it up (still run its `terraform state rm` in this workspace, so destroying it never deletes the provider)"})
	}
	return out
}

// stateRm renders the hand-off commands: Terraform forgets what Pulumi now
// owns, without deleting anything in the account.
func stateRm(env string, addrs []string) []string {
	if len(addrs) == 0 {
		return nil
	}
	out := []string{fmt.Sprintf("terraform workspace select %s", env)}
	for _, a := range addrs {
		out = append(out, fmt.Sprintf("terraform state rm '%s'", a))
	}
	return out
}
