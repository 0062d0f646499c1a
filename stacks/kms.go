package stacks

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/mirror-dissonance/mirror-infra/spec"
)

// EncryptionKeyArgs configure the environment's customer-managed key.
type EncryptionKeyArgs struct {
	Names          spec.Names
	Account        string
	Region         string
	Partition      string
	DeletionWindow int
	Tags           Tags
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

// KeyPolicy returns the key policy: the account root administers the key;
// DynamoDB and SSM use it for principals of the account; CloudWatch and SNS
// may decrypt and generate data keys so alarm notifications reach the
// encrypted topic (the original omitted CloudWatch).
func KeyPolicy(account, region, partition string) PolicyDocument {
	a := arns{partition: partition, region: region, account: account}
	root := a.root()
	use := []string{"kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey", "kms:CreateGrant"}
	viaService := func(svc string) Statement {
		s := Statement{
			Sid: "AllowUseVia" + svc, Effect: "Allow",
			Principal: map[string]any{"AWS": "*"}, Action: use, Resource: []string{"*"},
			Condition: map[string]map[string]any{
				"StringEquals": {
					"kms:ViaService":    fmt.Sprintf("%s.%s.amazonaws.com", svc, region),
					"kms:CallerAccount": account,
				},
			},
		}
		return s
	}
	servicePrincipal := func(sid, principal string) Statement {
		return Statement{
			Sid: sid, Effect: "Allow",
			Principal: map[string]any{"Service": principal},
			Action:    []string{"kms:Decrypt", "kms:GenerateDataKey*"},
			Resource:  []string{"*"},
			Condition: map[string]map[string]any{"StringEquals": {"aws:SourceAccount": account}},
		}
	}
	return policy(
		Statement{Sid: "RootAdministers", Effect: "Allow", Principal: map[string]any{"AWS": root}, Action: []string{"kms:*"}, Resource: []string{"*"}},
		viaService("dynamodb"),
		viaService("ssm"),
		servicePrincipal("AllowCloudWatchAlarms", "cloudwatch.amazonaws.com"),
		servicePrincipal("AllowSNSDelivery", "sns.amazonaws.com"),
	)
}

// NewEncryptionKey declares the key and its alias.
func NewEncryptionKey(ctx *pulumi.Context, name string, args EncryptionKeyArgs, opts ...pulumi.ResourceOption) (*EncryptionKey, error) {
	c := &EncryptionKey{}
	if err := ctx.RegisterComponentResource("mirror-dissonance:stacks:EncryptionKey", name, c, opts...); err != nil {
		return nil, fmt.Errorf("registering component %s: %w", name, err)
	}
	doc, err := KeyPolicy(args.Account, args.Region, args.Partition).JSON()
	if err != nil {
		return nil, err
	}
	alias := args.Names.KeyAlias()
	key, err := kms.NewKey(ctx, name, &kms.KeyArgs{
		Description:          pulumi.Sprintf("Mirror Dissonance %s: DynamoDB, SNS and nonce encryption", args.Names.Env),
		EnableKeyRotation:    pulumi.Bool(true),
		DeletionWindowInDays: pulumi.Int(args.DeletionWindow),
		Policy:               pulumi.String(doc),
		Tags:                 args.Tags.For(alias, "encryption"),
	}, pulumi.Parent(c), pulumi.Protect(true))
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
