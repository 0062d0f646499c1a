package stacks

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/mirror-dissonance/mirror-infra/spec"
)

// GitHubAccessArgs configure the OIDC provider handling and the two roles.
type GitHubAccessArgs struct {
	Names   spec.Names
	Account spec.Account
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
		policy                    func(spec.Names, spec.Account, spec.RoleResources) spec.PolicyDocument
		role                      **iam.Role
		rolePolicy                **iam.RolePolicy
	}
	defs := []roleDef{
		{"deploy", args.Names.DeployRole(), "GitHub deploy (driver and verifier)", args.DeploySubjects, spec.DeployPolicy, &c.DeployRole, &c.DeployRolePolicy},
		{"preview", args.Names.PreviewRole(), "GitHub pull-request preview (read-only)", []string{args.PreviewSubject}, spec.PreviewPolicy, &c.PreviewRole, &c.PreviewRolePolicy},
	}
	for _, d := range defs {
		subjects := d.subjects
		trust := c.ProviderArn.ApplyT(func(arn string) (string, error) {
			return spec.TrustPolicy(arn, subjects).JSON()
		}).(pulumi.StringOutput)
		r, err := iam.NewRole(ctx, "github-"+d.suffix, &iam.RoleArgs{
			Name:               pulumi.String(d.roleName),
			Description:        pulumi.String("Mirror Dissonance " + args.Names.Env + ": " + d.purpose),
			AssumeRolePolicy:   trust,
			MaxSessionDuration: pulumi.Int(spec.RoleSessionSeconds),
			Tags:               args.Tags.For(d.roleName, d.purpose),
		}, pulumi.Parent(c))
		if err != nil {
			return nil, fmt.Errorf("declaring role %s: %w", d.roleName, err)
		}
		build := d.policy
		doc := pulumi.All(args.KeyArn, args.TopicArn, c.ProviderArn).ApplyT(func(v []any) (string, error) {
			return build(args.Names, args.Account, spec.RoleResources{KeyArn: v[0].(string), TopicArn: v[1].(string), ProviderArn: v[2].(string)}).JSON()
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
