package rehearse

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/mirror-dissonance/mirror-infra/internal/gate"
)

func (p *Provisioner) readOIDCProvider(ctx context.Context, arn string, state map[string]any) (map[string]any, error) {
	o, err := p.iam.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn)})
	if err != nil {
		return nil, err
	}
	u := aws.ToString(o.Url)
	// IAM returns the URL without its scheme; the provider keeps the
	// declared spelling.
	if old := str(state["url"]); old != "" && strings.TrimPrefix(old, "https://") == strings.TrimPrefix(u, "https://") {
		u = old
	} else if !strings.HasPrefix(u, "https://") {
		u = "https://" + u
	}
	out := map[string]any{"arn": arn, "url": u, "clientIdLists": strList(o.ClientIDList),
		"tags": anyTags(o.Tags, func(t iamtypes.Tag) (*string, *string) { return t.Key, t.Value })}
	if len(o.ThumbprintList) > 0 || state["thumbprintLists"] != nil {
		out["thumbprintLists"] = strList(o.ThumbprintList)
	}
	return out, nil
}

func (p *Provisioner) updateOIDCProvider(ctx context.Context, arn string, old, new map[string]any, changed []string) ([]string, error) {
	for _, k := range changed {
		var err error
		switch k {
		case "thumbprintLists":
			_, err = p.iam.UpdateOpenIDConnectProviderThumbprint(ctx, &iam.UpdateOpenIDConnectProviderThumbprintInput{
				OpenIDConnectProviderArn: aws.String(arn), ThumbprintList: strs(new[k])})
		case "clientIdLists":
			have, want := strs(old[k]), strs(new[k])
			for _, c := range want {
				if err == nil && !contains(have, c) {
					_, err = p.iam.AddClientIDToOpenIDConnectProvider(ctx, &iam.AddClientIDToOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn), ClientID: aws.String(c)})
				}
			}
			for _, c := range have {
				if err == nil && !contains(want, c) {
					_, err = p.iam.RemoveClientIDFromOpenIDConnectProvider(ctx, &iam.RemoveClientIDFromOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn), ClientID: aws.String(c)})
				}
			}
		case "tags":
			set, remove := tagChanges(old, new)
			if len(set) > 0 {
				_, err = p.iam.TagOpenIDConnectProvider(ctx, &iam.TagOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn), Tags: iamTags(set)})
			}
			if err == nil && len(remove) > 0 {
				_, err = p.iam.UntagOpenIDConnectProvider(ctx, &iam.UntagOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn), TagKeys: remove})
			}
		}
		if err != nil {
			return nil, fmt.Errorf("changing %s: %w", k, err)
		}
	}
	return unchanged(changed, "thumbprintLists", "clientIdLists", "tags"), nil
}

// lookupOIDCProvider answers aws:iam/getOpenIdConnectProvider by URL or ARN.
func (p *Provisioner) lookupOIDCProvider(ctx context.Context, args map[string]any) (map[string]any, error) {
	want := strings.TrimPrefix(str(args["url"]), "https://")
	arn := str(args["arn"])
	if arn == "" {
		l, err := p.iam.ListOpenIDConnectProviders(ctx, &iam.ListOpenIDConnectProvidersInput{})
		if err != nil {
			return nil, err
		}
		for _, e := range l.OpenIDConnectProviderList {
			o, err := p.iam.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: e.Arn})
			if err != nil {
				return nil, err
			}
			if strings.TrimPrefix(aws.ToString(o.Url), "https://") == want {
				arn = aws.ToString(e.Arn)
				break
			}
		}
		if arn == "" {
			return nil, fmt.Errorf("no OpenID Connect provider for %s in the account", want)
		}
	}
	out, err := p.readOIDCProvider(ctx, arn, map[string]any{"url": str(args["url"])})
	if err != nil {
		return nil, err
	}
	out["id"] = arn
	return out, nil
}

func (p *Provisioner) readRole(ctx context.Context, name string, state map[string]any) (map[string]any, error) {
	g, err := p.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
	if err != nil {
		return nil, err
	}
	r := g.Role
	out := map[string]any{"name": aws.ToString(r.RoleName), "arn": aws.ToString(r.Arn), "uniqueId": aws.ToString(r.RoleId),
		"assumeRolePolicy": keepSpelling(state, "assumeRolePolicy", aws.ToString(r.AssumeRolePolicyDocument)),
		"description":      aws.ToString(r.Description), "maxSessionDuration": float64(aws.ToInt32(r.MaxSessionDuration)),
		"tags": anyTags(r.Tags, func(t iamtypes.Tag) (*string, *string) { return t.Key, t.Value })}
	if b := r.PermissionsBoundary; b != nil {
		out["permissionsBoundary"] = aws.ToString(b.PermissionsBoundaryArn)
	} else if state["permissionsBoundary"] != nil {
		out["permissionsBoundary"] = ""
	}
	// The provider reads the inline and attached policies too; the
	// program declares them as separate resources, so they only count.
	if _, err := p.iam.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String(name)}); err != nil {
		return nil, fmt.Errorf("listing the inline policies of %s: %w", name, err)
	}
	if _, err := p.iam.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(name)}); err != nil {
		return nil, fmt.Errorf("listing the attached policies of %s: %w", name, err)
	}
	return out, nil
}

func (p *Provisioner) updateRole(ctx context.Context, name string, old, new map[string]any, changed []string) ([]string, error) {
	roleUpdated := false
	for _, k := range changed {
		var err error
		switch k {
		case "assumeRolePolicy":
			_, err = p.iam.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String(name), PolicyDocument: aws.String(str(new[k]))})
		case "description", "maxSessionDuration":
			if !roleUpdated {
				roleUpdated = true
				_, err = p.iam.UpdateRole(ctx, &iam.UpdateRoleInput{RoleName: aws.String(name), Description: aws.String(str(new["description"])),
					MaxSessionDuration: aws.Int32(int32(num(new["maxSessionDuration"])))})
			}
		case "permissionsBoundary":
			if b := str(new[k]); b != "" {
				_, err = p.iam.PutRolePermissionsBoundary(ctx, &iam.PutRolePermissionsBoundaryInput{RoleName: aws.String(name), PermissionsBoundary: aws.String(b)})
			} else {
				_, err = p.iam.DeleteRolePermissionsBoundary(ctx, &iam.DeleteRolePermissionsBoundaryInput{RoleName: aws.String(name)})
			}
		case "tags":
			set, remove := tagChanges(old, new)
			if len(set) > 0 {
				_, err = p.iam.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String(name), Tags: iamTags(set)})
			}
			if err == nil && len(remove) > 0 {
				_, err = p.iam.UntagRole(ctx, &iam.UntagRoleInput{RoleName: aws.String(name), TagKeys: remove})
			}
		}
		if err != nil {
			return nil, fmt.Errorf("changing %s: %w", k, err)
		}
	}
	return unchanged(changed, "assumeRolePolicy", "description", "maxSessionDuration", "permissionsBoundary", "tags"), nil
}

func (p *Provisioner) readRolePolicy(ctx context.Context, id string, state map[string]any) (map[string]any, error) {
	role, name, ok := strings.Cut(id, ":")
	if !ok {
		return nil, fmt.Errorf("role policy id %q is not role:name", id)
	}
	g, err := p.iam.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String(name)})
	if err != nil {
		return nil, err
	}
	return map[string]any{"role": role, "name": name, "policy": keepSpelling(state, "policy", aws.ToString(g.PolicyDocument))}, nil
}

func (p *Provisioner) updateRolePolicy(ctx context.Context, id string, _, new map[string]any, changed []string) ([]string, error) {
	role, name, _ := strings.Cut(id, ":")
	if _, err := p.iam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String(name), PolicyDocument: aws.String(str(new["policy"]))}); err != nil {
		return nil, err
	}
	return unchanged(changed, "policy"), nil
}

func (p *Provisioner) readPolicy(ctx context.Context, arn string, state map[string]any) (map[string]any, error) {
	g, err := p.iam.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
	if err != nil {
		return nil, err
	}
	pol := g.Policy
	out := map[string]any{"arn": arn, "name": aws.ToString(pol.PolicyName), "policyId": aws.ToString(pol.PolicyId),
		"description": aws.ToString(pol.Description),
		"tags":        anyTags(pol.Tags, func(t iamtypes.Tag) (*string, *string) { return t.Key, t.Value })}
	v, err := p.iam.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: pol.DefaultVersionId})
	switch {
	case containsCode(err, "InvalidAction"):
		// An endpoint without GetPolicyVersion (the emulator): the
		// document cannot be read back, so the recorded one stands.
		p.noteUnreadable(gate.TypePolicy, "policy")
	case err != nil:
		return nil, fmt.Errorf("reading the default version of %s: %w", arn, err)
	default:
		out["policy"] = keepSpelling(state, "policy", aws.ToString(v.PolicyVersion.Document))
	}
	return out, nil
}

func (p *Provisioner) updatePolicy(ctx context.Context, arn string, old, new map[string]any, changed []string) ([]string, error) {
	for _, k := range changed {
		var err error
		switch k {
		case "policy":
			_, err = p.iam.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(arn), PolicyDocument: aws.String(str(new[k])), SetAsDefault: true})
		case "tags":
			set, remove := tagChanges(old, new)
			if len(set) > 0 {
				_, err = p.iam.TagPolicy(ctx, &iam.TagPolicyInput{PolicyArn: aws.String(arn), Tags: iamTags(set)})
			}
			if err == nil && len(remove) > 0 {
				_, err = p.iam.UntagPolicy(ctx, &iam.UntagPolicyInput{PolicyArn: aws.String(arn), TagKeys: remove})
			}
		}
		if err != nil {
			return nil, fmt.Errorf("changing %s: %w", k, err)
		}
	}
	return unchanged(changed, "policy", "tags"), nil
}

func strs(v any) []string {
	var out []string
	for _, x := range asAny(v) {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func asAny(v any) []any { l, _ := v.([]any); return l }

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}
