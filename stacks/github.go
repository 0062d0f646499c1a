package stacks

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/mirror-dissonance/mirror-infra/spec"
)

// GitHubAccessArgs configure the OIDC provider handling, the permissions
// boundary and the three roles.
type GitHubAccessArgs struct {
	// Scope names the environment and account every policy is derived
	// from, and says whether the stack owns or looks up the provider.
	Scope spec.Scope
	// ProviderArn names the account's provider when the stack neither owns
	// nor looks it up.
	ProviderArn string
	// DeploySubjects are the exact `sub` values of the deploy role.
	DeploySubjects []string
	// PreviewSubject is the pull_request subject of the preview role.
	PreviewSubject string
	// OracleSubjects are the exact `sub` values of the Oracle runtime role.
	OracleSubjects []string
	Tags           Tags
}

// GitHubAccess is the OIDC trust of SPEC 2.6.
type GitHubAccess struct {
	pulumi.ResourceState

	Provider    *iam.OpenIdConnectProvider // nil when not owned here
	ProviderArn pulumi.StringOutput
	// Boundary is the permissions boundary of every role the deploy role
	// manages (the preview and Oracle roles).
	Boundary          *iam.Policy
	DeployRole        *iam.Role
	PreviewRole       *iam.Role
	OracleRole        *iam.Role
	DeployRolePolicy  *iam.RolePolicy
	PreviewRolePolicy *iam.RolePolicy
	OracleRolePolicy  *iam.RolePolicy
	// DrillRole runs the restore drill (spec.DrillPolicy): restores only
	// into -drill-/-restore- names, never changes a live table.
	DrillRole       *iam.Role
	DrillRolePolicy *iam.RolePolicy
}

// NewGitHubAccess declares or looks up the OIDC provider, the boundary and
// the roles.
func NewGitHubAccess(ctx *pulumi.Context, name string, args GitHubAccessArgs, opts ...pulumi.ResourceOption) (*GitHubAccess, error) {
	c := &GitHubAccess{}
	if err := ctx.RegisterComponentResource("mirror-dissonance:stacks:GitHubAccess", name, c, opts...); err != nil {
		return nil, fmt.Errorf("registering component %s: %w", name, err)
	}
	sc, names := args.Scope, args.Scope.Names
	switch {
	case sc.OwnsProvider:
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

	boundaryDoc, err := spec.BoundaryPolicy(sc).JSON()
	if err != nil {
		return nil, err
	}
	// Changing the boundary is an admin run: the deploy role may only
	// read it (spec.DeployPolicy denies every write on it).
	b, err := iam.NewPolicy(ctx, "permissions-boundary", &iam.PolicyArgs{
		Name:        pulumi.String(names.PermissionsBoundary()),
		Description: pulumi.String("Mirror Dissonance " + names.Env + ": the most any role the deploy role manages may do"),
		Policy:      pulumi.String(boundaryDoc),
		Tags:        args.Tags.For(names.PermissionsBoundary(), "permissions boundary"),
	}, pulumi.Parent(c))
	if err != nil {
		return nil, fmt.Errorf("declaring the permissions boundary %s: %w", names.PermissionsBoundary(), err)
	}
	c.Boundary = b

	type roleDef struct {
		suffix, roleName, purpose string
		subjects                  []string
		policy                    func(spec.Scope) spec.PolicyDocument
		// bounded roles carry the boundary; the deploy role does not (it
		// creates and changes roles, which the boundary never allows).
		bounded    bool
		role       **iam.Role
		rolePolicy **iam.RolePolicy
	}
	defs := []roleDef{
		{"github-deploy", names.DeployRole(), "GitHub deploy (driver and verifier)", args.DeploySubjects, spec.DeployPolicy, false, &c.DeployRole, &c.DeployRolePolicy},
		{"github-preview", names.PreviewRole(), "GitHub pull-request preview (read-only)", []string{args.PreviewSubject}, spec.PreviewPolicy, true, &c.PreviewRole, &c.PreviewRolePolicy},
		{"oracle", names.OracleRole(), "Oracle runtime (tables, nonce read, baselines)", args.OracleSubjects, spec.OraclePolicy, true, &c.OracleRole, &c.OracleRolePolicy},
		{"github-drill", names.DrillRole(), "GitHub restore drill (restore into scratch tables only)", args.DeploySubjects, spec.DrillPolicy, true, &c.DrillRole, &c.DrillRolePolicy},
	}
	for _, d := range defs {
		subjects := d.subjects
		trust := c.ProviderArn.ApplyT(func(arn string) (string, error) {
			return spec.TrustPolicy(arn, subjects).JSON()
		}).(pulumi.StringOutput)
		ra := &iam.RoleArgs{
			Name:               pulumi.String(d.roleName),
			Description:        pulumi.String("Mirror Dissonance " + names.Env + ": " + d.purpose),
			AssumeRolePolicy:   trust,
			MaxSessionDuration: pulumi.Int(spec.RoleSessionSeconds),
			Tags:               args.Tags.For(d.roleName, d.purpose),
		}
		ropts := []pulumi.ResourceOption{pulumi.Parent(c)}
		if d.bounded {
			// The ARN is derived, not the policy's output, so a preview and
			// the gate know it; DependsOn orders the creation.
			ra.PermissionsBoundary = pulumi.String(sc.BoundaryArn())
			ropts = append(ropts, pulumi.DependsOn([]pulumi.Resource{b}))
		}
		r, err := iam.NewRole(ctx, d.suffix, ra, ropts...)
		if err != nil {
			return nil, fmt.Errorf("declaring role %s: %w", d.roleName, err)
		}
		doc, err := d.policy(sc).JSON()
		if err != nil {
			return nil, fmt.Errorf("rendering the policy of role %s: %w", d.roleName, err)
		}
		rp, err := iam.NewRolePolicy(ctx, d.suffix+"-policy", &iam.RolePolicyArgs{
			Name: pulumi.String(d.roleName), Role: r.Name, Policy: pulumi.String(doc),
		}, pulumi.Parent(c))
		if err != nil {
			return nil, fmt.Errorf("declaring the policy of role %s: %w", d.roleName, err)
		}
		*d.role, *d.rolePolicy = r, rp
	}
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{
		"providerArn": c.ProviderArn, "deployRoleArn": c.DeployRole.Arn, "previewRoleArn": c.PreviewRole.Arn,
		"oracleRoleArn": c.OracleRole.Arn, "boundaryArn": b.Arn,
	}); err != nil {
		return nil, fmt.Errorf("registering outputs of %s: %w", name, err)
	}
	return c, nil
}
