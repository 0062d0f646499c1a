package rehearse

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/mirror-dissonance/mirror-infra/internal/provider"
)

// readKey reads the key, its policy, rotation status and tags.
func (p *Provisioner) readKey(ctx context.Context, id string, state map[string]any) (map[string]any, error) {
	d, err := p.kms.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(id)})
	if err != nil {
		return nil, err
	}
	m := d.KeyMetadata
	if m.KeyState == kmstypes.KeyStatePendingDeletion {
		return nil, provider.ErrNotFound
	}
	out := map[string]any{"arn": aws.ToString(m.Arn), "keyId": aws.ToString(m.KeyId), "description": aws.ToString(m.Description)}
	pol, err := p.kms.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: aws.String(id), PolicyName: aws.String("default")})
	if err != nil {
		return nil, fmt.Errorf("reading the policy of key %s: %w", id, err)
	}
	out["policy"] = keepSpelling(state, "policy", aws.ToString(pol.Policy))
	rot, err := p.kms.GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: aws.String(id)})
	if err != nil {
		return nil, fmt.Errorf("reading the rotation of key %s: %w", id, err)
	}
	out["enableKeyRotation"] = rot.KeyRotationEnabled
	tags, err := p.kms.ListResourceTags(ctx, &kms.ListResourceTagsInput{KeyId: aws.String(id)})
	if err != nil {
		return nil, fmt.Errorf("reading the tags of key %s: %w", id, err)
	}
	out["tags"] = anyTags(tags.Tags, func(t kmstypes.Tag) (*string, *string) { return t.TagKey, t.TagValue })
	return out, nil
}

func (p *Provisioner) updateKey(ctx context.Context, id string, old, new map[string]any, changed []string) ([]string, error) {
	for _, k := range changed {
		var err error
		switch k {
		case "description":
			_, err = p.kms.UpdateKeyDescription(ctx, &kms.UpdateKeyDescriptionInput{KeyId: aws.String(id), Description: aws.String(str(new[k]))})
		case "enableKeyRotation":
			if new[k] == true {
				_, err = p.kms.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: aws.String(id)})
			} else {
				_, err = p.kms.DisableKeyRotation(ctx, &kms.DisableKeyRotationInput{KeyId: aws.String(id)})
			}
		case "policy":
			_, err = p.kms.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: aws.String(id), PolicyName: aws.String("default"), Policy: aws.String(str(new[k]))})
		case "tags":
			set, remove := tagChanges(old, new)
			if len(set) > 0 {
				_, err = p.kms.TagResource(ctx, &kms.TagResourceInput{KeyId: aws.String(id), Tags: kmsTags(set)})
			}
			if err == nil && len(remove) > 0 {
				_, err = p.kms.UntagResource(ctx, &kms.UntagResourceInput{KeyId: aws.String(id), TagKeys: remove})
			}
		}
		if err != nil {
			return nil, fmt.Errorf("changing %s: %w", k, err)
		}
	}
	// The deletion window only matters when the key is deleted.
	return unchanged(changed, "description", "enableKeyRotation", "policy", "tags", "deletionWindowInDays"), nil
}

func (p *Provisioner) readAlias(ctx context.Context, name string, _ map[string]any) (map[string]any, error) {
	pages := kms.NewListAliasesPaginator(p.kms, &kms.ListAliasesInput{})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, a := range page.Aliases {
			if aws.ToString(a.AliasName) != name {
				continue
			}
			target := aws.ToString(a.TargetKeyId)
			keyArn := p.account().KeyArn(target)
			if strings.HasPrefix(target, "arn:") {
				keyArn = target
			}
			return map[string]any{"name": name, "arn": aws.ToString(a.AliasArn), "targetKeyId": target, "targetKeyArn": keyArn}, nil
		}
	}
	return nil, provider.ErrNotFound
}

func (p *Provisioner) updateAlias(ctx context.Context, name string, _, new map[string]any, changed []string) ([]string, error) {
	for _, k := range changed {
		if k == "targetKeyId" {
			if _, err := p.kms.UpdateAlias(ctx, &kms.UpdateAliasInput{AliasName: aws.String(name), TargetKeyId: aws.String(str(new[k]))}); err != nil {
				return nil, err
			}
		}
	}
	return unchanged(changed, "targetKeyId"), nil
}
