package stacks

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/mirror-dissonance/mirror-infra/spec"
)

// EncryptionKeyArgs configure the environment's customer-managed key.
type EncryptionKeyArgs struct {
	Names spec.Names
	// Account is where the key lives; its policy names the account.
	Account        spec.Account
	DeletionWindow int
	// Ephemeral drops protect, so an acceptance stack is destroyed whole.
	Ephemeral bool
	Tags      Tags
}

// EncryptionKey is the environment CMK (SPEC 2.1) and its alias.
type EncryptionKey struct {
	pulumi.ResourceState

	Key   *kms.Key
	Alias *kms.Alias
	// Arn and KeyID are the key's identity; tables, topic and nonce use it.
	Arn       pulumi.StringOutput
	KeyID     pulumi.StringOutput
	AliasName pulumi.StringOutput
}

// NewEncryptionKey declares the key and its alias.
func NewEncryptionKey(ctx *pulumi.Context, name string, args EncryptionKeyArgs, opts ...pulumi.ResourceOption) (*EncryptionKey, error) {
	c := &EncryptionKey{}
	if err := ctx.RegisterComponentResource("mirror-dissonance:stacks:EncryptionKey", name, c, opts...); err != nil {
		return nil, fmt.Errorf("registering component %s: %w", name, err)
	}
	doc, err := spec.KeyPolicy(args.Account).JSON()
	if err != nil {
		return nil, err
	}
	alias := args.Names.KeyAlias()
	key, err := kms.NewKey(ctx, name, &kms.KeyArgs{
		Description:          pulumi.String(spec.KeyDescription(args.Names.Env)),
		EnableKeyRotation:    pulumi.Bool(true),
		DeletionWindowInDays: pulumi.Int(args.DeletionWindow),
		Policy:               pulumi.String(doc),
		Tags:                 args.Tags.For(alias, "encryption"),
	}, pulumi.Parent(c), pulumi.Protect(!args.Ephemeral))
	if err != nil {
		return nil, fmt.Errorf("declaring KMS key: %w", err)
	}
	al, err := kms.NewAlias(ctx, name+"-alias", &kms.AliasArgs{
		Name:        pulumi.String(alias),
		TargetKeyId: key.KeyId,
	}, pulumi.Parent(c))
	if err != nil {
		return nil, fmt.Errorf("declaring KMS alias %s: %w", alias, err)
	}
	c.Key, c.Alias = key, al
	c.Arn, c.KeyID, c.AliasName = key.Arn, key.KeyId, al.Name
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{"arn": key.Arn, "keyId": key.KeyId, "alias": al.Name}); err != nil {
		return nil, fmt.Errorf("registering outputs of %s: %w", name, err)
	}
	return c, nil
}
