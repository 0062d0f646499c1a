package stacks

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/mirror-dissonance/mirror-infra/spec"
)

// SessionSeconds is the maximum session of both GitHub roles (1 hour).
const SessionSeconds = 3600

// GitHubAccessArgs configure the OIDC provider handling and the two roles.
type GitHubAccessArgs struct {
	Names                      spec.Names
	Account, Region, Partition string
	// CreateProvider makes this stack own the account-wide provider;
	// otherwise ProviderArn names it or, when empty, it is looked up.
	CreateProvider bool
	ProviderArn    string
	// DeploySubjects are the exact `sub` values of the deploy role.
	DeploySubjects []string
	// PreviewSubject is the pull_request subject of the preview role.
	PreviewSubject string
	KeyArn         pulumi.StringOutput
	TopicArn       pulumi.StringOutput
	Tags           Tags
}

// GitHubAccess is the OIDC trust of SPEC 2.6.
type GitHubAccess struct {
	pulumi.ResourceState

	Provider          *iam.OpenIdConnectProvider // nil when not owned here
	ProviderArn       pulumi.StringOutput
	DeployRole        *iam.Role
	PreviewRole       *iam.Role
	DeployRolePolicy  *iam.RolePolicy
	PreviewRolePolicy *iam.RolePolicy
}

// TrustPolicy trusts GitHub's OIDC tokens for the exact audience and the
// exact subjects given; no wildcards.
func TrustPolicy(providerArn string, subjects []string) PolicyDocument {
	host := strings.TrimPrefix(spec.GitHubOIDCURL, "https://")
	subs := make([]any, len(subjects))
	for i, s := range subjects {
		subs[i] = s
	}
	return policy(Statement{
		Sid: "GitHubActions", Effect: "Allow",
		Principal: map[string]any{"Federated": providerArn},
		Action:    []string{"sts:AssumeRoleWithWebIdentity"},
		Condition: map[string]map[string]any{
			"StringEquals": {
				host + ":aud": spec.GitHubOIDCAudience,
				host + ":sub": subs,
			},
		},
	})
}

// DeployPolicy lets the deploy role run the driver and the verifier for one
// environment: every statement is scoped to the environment's names.
func DeployPolicy(n spec.Names, account, region, partition, keyArn, topicArn, providerArn string) PolicyDocument {
	a := arns{partition: partition, region: region, account: account}
	tables := a.dynamoTable(n.Prefix() + "*")
	return policy(
		allow("ManageTables", []string{
			"dynamodb:CreateTable", "dynamodb:UpdateTable", "dynamodb:DeleteTable", "dynamodb:DescribeTable",
			"dynamodb:DescribeContinuousBackups", "dynamodb:UpdateContinuousBackups",
			"dynamodb:DescribeTimeToLive", "dynamodb:UpdateTimeToLive",
			"dynamodb:TagResource", "dynamodb:UntagResource", "dynamodb:ListTagsOfResource",
		}, tables),
		allow("TableData", []string{
			"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
			"dynamodb:Query", "dynamodb:BatchWriteItem", "dynamodb:ConditionCheckItem",
		}, tables, tables+"/index/*"),
		// CreateKey and ListAliases have no resource-level scoping in IAM.
		allow("CreateKey", []string{"kms:CreateKey", "kms:ListAliases"}, "*"),
		allow("ManageKey", []string{
			"kms:DescribeKey", "kms:GetKeyPolicy", "kms:PutKeyPolicy", "kms:EnableKeyRotation",
			"kms:GetKeyRotationStatus", "kms:ScheduleKeyDeletion", "kms:TagResource", "kms:UntagResource",
			"kms:ListResourceTags", "kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias",
		}, keyArn, a.kmsAlias(n.KeyAlias())),
		Statement{Sid: "UseKeyViaServices", Effect: "Allow",
			Action:   []string{"kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*", "kms:DescribeKey"},
			Resource: []string{keyArn},
			Condition: map[string]map[string]any{"StringEquals": {"kms:ViaService": []any{
				fmt.Sprintf("dynamodb.%s.amazonaws.com", region), fmt.Sprintf("ssm.%s.amazonaws.com", region),
			}}}},
		allow("ManageTopic", []string{
			"sns:CreateTopic", "sns:DeleteTopic", "sns:GetTopicAttributes", "sns:SetTopicAttributes",
			"sns:Subscribe", "sns:Unsubscribe", "sns:ListSubscriptionsByTopic", "sns:GetSubscriptionAttributes",
			"sns:TagResource", "sns:UntagResource", "sns:ListTagsForResource", "sns:Publish",
		}, topicArn, a.sns(n.Topic())),
		allow("ManageAlarms", []string{
			"cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms", "cloudwatch:DescribeAlarms",
			"cloudwatch:SetAlarmState", "cloudwatch:TagResource", "cloudwatch:UntagResource",
			"cloudwatch:ListTagsForResource",
		}, a.alarm(n.Prefix()+"*")),
		allow("ManageDashboard", []string{"cloudwatch:PutDashboard", "cloudwatch:GetDashboard", "cloudwatch:DeleteDashboards"},
			a.dashboard(n.Dashboard())),
		allow("ManageRoles", []string{
			"iam:GetRole", "iam:CreateRole", "iam:UpdateRole", "iam:UpdateAssumeRolePolicy", "iam:TagRole", "iam:UntagRole",
			"iam:PutRolePolicy", "iam:GetRolePolicy", "iam:DeleteRolePolicy", "iam:ListRolePolicies",
			"iam:ListAttachedRolePolicies",
		}, a.role(n.Prefix()+"github-*")),
		allow("ReadOIDCProvider", []string{"iam:GetOpenIDConnectProvider"}, providerArn),
		allow("NonceParameters", []string{
			"ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath", "ssm:PutParameter",
			"ssm:AddTagsToResource", "ssm:DeleteParameter",
		}, a.ssmParameters(n.NonceParameterPath())),
	)
}

// PreviewPolicy is read-only access to the same resources, enough for
// `pulumi preview` and a refresh.
func PreviewPolicy(n spec.Names, account, region, partition, keyArn, topicArn, providerArn string) PolicyDocument {
	a := arns{partition: partition, region: region, account: account}
	tables := a.dynamoTable(n.Prefix() + "*")
	return policy(
		allow("ReadTables", []string{
			"dynamodb:DescribeTable", "dynamodb:DescribeContinuousBackups", "dynamodb:DescribeTimeToLive",
			"dynamodb:ListTagsOfResource",
		}, tables),
		allow("ReadKey", []string{
			"kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags",
		}, keyArn),
		allow("ListAliases", []string{"kms:ListAliases"}, "*"),
		allow("ReadTopic", []string{
			"sns:GetTopicAttributes", "sns:ListSubscriptionsByTopic", "sns:GetSubscriptionAttributes",
			"sns:ListTagsForResource",
		}, topicArn, a.sns(n.Topic())),
		allow("ReadAlarms", []string{"cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource"}, a.alarm(n.Prefix()+"*")),
		allow("ReadDashboard", []string{"cloudwatch:GetDashboard"}, a.dashboard(n.Dashboard())),
		allow("ReadRoles", []string{"iam:GetRole", "iam:GetRolePolicy", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies"},
			a.role(n.Prefix()+"github-*")),
		allow("ReadOIDCProvider", []string{"iam:GetOpenIDConnectProvider"}, providerArn),
	)
}

// NewGitHubAccess declares or looks up the OIDC provider and the roles.
func NewGitHubAccess(ctx *pulumi.Context, name string, args GitHubAccessArgs, opts ...pulumi.ResourceOption) (*GitHubAccess, error) {
	c := &GitHubAccess{}
	if err := ctx.RegisterComponentResource("mirror-dissonance:stacks:GitHubAccess", name, c, opts...); err != nil {
		return nil, fmt.Errorf("registering component %s: %w", name, err)
	}
	switch {
	case args.CreateProvider:
		// One provider per account: retained on delete so that destroying
		// this stack never cuts off the other environments.
		p, err := iam.NewOpenIdConnectProvider(ctx, "github-oidc", &iam.OpenIdConnectProviderArgs{
			Url:           pulumi.String(spec.GitHubOIDCURL),
			ClientIdLists: pulumi.StringArray{pulumi.String(spec.GitHubOIDCAudience)},
			Tags:          args.Tags.For("github-actions-oidc", "GitHub Actions OIDC (account-wide)"),
		}, pulumi.Parent(c), pulumi.RetainOnDelete(true))
		if err != nil {
			return nil, fmt.Errorf("declaring the GitHub OIDC provider: %w", err)
		}
		c.Provider, c.ProviderArn = p, p.Arn
	case args.ProviderArn != "":
		c.ProviderArn = pulumi.String(args.ProviderArn).ToStringOutput()
	default:
		res, err := iam.LookupOpenIdConnectProvider(ctx, &iam.LookupOpenIdConnectProviderArgs{
			Url: pulumi.StringRef(spec.GitHubOIDCURL),
		}, pulumi.Parent(c))
		if err != nil {
			return nil, fmt.Errorf("looking up the account's GitHub OIDC provider (create it in one stack with createOidcProvider: true, or set oidcProviderArn): %w", err)
		}
		c.ProviderArn = pulumi.String(res.Arn).ToStringOutput()
	}

	type roleDef struct {
		suffix, roleName, purpose string
		subjects                  []string
		policy                    func(n spec.Names, account, region, partition, keyArn, topicArn, providerArn string) PolicyDocument
		role                      **iam.Role
		rolePolicy                **iam.RolePolicy
	}
	defs := []roleDef{
		{"deploy", args.Names.DeployRole(), "GitHub deploy (driver and verifier)", args.DeploySubjects, DeployPolicy, &c.DeployRole, &c.DeployRolePolicy},
		{"preview", args.Names.PreviewRole(), "GitHub pull-request preview (read-only)", []string{args.PreviewSubject}, PreviewPolicy, &c.PreviewRole, &c.PreviewRolePolicy},
	}
	for _, d := range defs {
		subjects := d.subjects
		trust := c.ProviderArn.ApplyT(func(arn string) (string, error) {
			return TrustPolicy(arn, subjects).JSON()
		}).(pulumi.StringOutput)
		r, err := iam.NewRole(ctx, "github-"+d.suffix, &iam.RoleArgs{
			Name:               pulumi.String(d.roleName),
			Description:        pulumi.String("Mirror Dissonance " + args.Names.Env + ": " + d.purpose),
			AssumeRolePolicy:   trust,
			MaxSessionDuration: pulumi.Int(SessionSeconds),
			Tags:               args.Tags.For(d.roleName, d.purpose),
		}, pulumi.Parent(c))
		if err != nil {
			return nil, fmt.Errorf("declaring role %s: %w", d.roleName, err)
		}
		build := d.policy
		doc := pulumi.All(args.KeyArn, args.TopicArn, c.ProviderArn).ApplyT(func(v []any) (string, error) {
			return build(args.Names, args.Account, args.Region, args.Partition, v[0].(string), v[1].(string), v[2].(string)).JSON()
		}).(pulumi.StringOutput)
		rp, err := iam.NewRolePolicy(ctx, "github-"+d.suffix+"-policy", &iam.RolePolicyArgs{
			Name: pulumi.String(d.roleName), Role: r.Name, Policy: doc,
		}, pulumi.Parent(c))
		if err != nil {
			return nil, fmt.Errorf("declaring the policy of role %s: %w", d.roleName, err)
		}
		*d.role, *d.rolePolicy = r, rp
	}
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{
		"providerArn": c.ProviderArn, "deployRoleArn": c.DeployRole.Arn, "previewRoleArn": c.PreviewRole.Arn,
	}); err != nil {
		return nil, fmt.Errorf("registering outputs of %s: %w", name, err)
	}
	return c, nil
}
