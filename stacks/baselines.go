package stacks

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/mirror-dissonance/mirror-infra/spec"
)

// BaselinesBucketArgs configure the drift-baselines bucket.
type BaselinesBucketArgs struct {
	Names spec.Names
	// Account gives the partition of the bucket's ARN.
	Account spec.Account
	// KeyArn is the environment CMK the objects are encrypted with.
	KeyArn pulumi.StringInput
	// Ephemeral drops protect and lets destroy empty the bucket, so an
	// acceptance stack is destroyed whole.
	Ephemeral bool
	Tags      Tags
}

// BaselinesBucket is the S3 bucket of SPEC 2.10 where the Oracle keeps drift
// baselines, with its configuration resources.
type BaselinesBucket struct {
	pulumi.ResourceState

	Bucket            *s3.BucketV2
	Versioning        *s3.BucketVersioningV2
	Encryption        *s3.BucketServerSideEncryptionConfigurationV2
	PublicAccessBlock *s3.BucketPublicAccessBlock
	Policy            *s3.BucketPolicy
	Lifecycle         *s3.BucketLifecycleConfigurationV2
	// Name and Arn identify the bucket; Name is a stack output.
	Name pulumi.StringOutput
	Arn  pulumi.StringOutput
}

// Values the configuration resources declare (the AWS API's spellings).
const (
	bucketVersioningEnabled = "Enabled"
	bucketSSEAlgorithmKMS   = "aws:kms"
	lifecycleEnabled        = "Enabled"
)

// NewBaselinesBucket declares the bucket: versioning on, SSE-KMS with the
// environment key and a bucket key, every public access blocked, a policy
// denying non-TLS access, noncurrent versions expiring after
// spec.BaselineNoncurrentDays, and protect on the bucket (it holds state).
func NewBaselinesBucket(ctx *pulumi.Context, name string, args BaselinesBucketArgs, opts ...pulumi.ResourceOption) (*BaselinesBucket, error) {
	c := &BaselinesBucket{}
	if err := ctx.RegisterComponentResource("mirror-dissonance:stacks:BaselinesBucket", name, c, opts...); err != nil {
		return nil, fmt.Errorf("registering component %s: %w", name, err)
	}
	bucketName := args.Names.BaselinesBucket()
	b, err := s3.NewBucketV2(ctx, name, &s3.BucketV2Args{
		Bucket:       pulumi.String(bucketName),
		ForceDestroy: pulumi.Bool(args.Ephemeral),
		// Purpose as the original infrastructure tagged it.
		Tags: args.Tags.For(bucketName, "DriftBaselines"),
	}, pulumi.Parent(c), pulumi.Protect(!args.Ephemeral))
	if err != nil {
		return nil, fmt.Errorf("declaring bucket %s: %w", bucketName, err)
	}
	// The configuration resources name the bucket by its `bucket` output,
	// which a preview knows from the input (the ARN and id it may not), so
	// the gate can tie them to the bucket before apply.
	ref := b.Bucket
	child := []pulumi.ResourceOption{pulumi.Parent(c), pulumi.DependsOn([]pulumi.Resource{b})}

	c.Versioning, err = s3.NewBucketVersioningV2(ctx, name+"-versioning", &s3.BucketVersioningV2Args{
		Bucket:                  ref,
		VersioningConfiguration: s3.BucketVersioningV2VersioningConfigurationArgs{Status: pulumi.String(bucketVersioningEnabled)},
	}, child...)
	if err != nil {
		return nil, fmt.Errorf("declaring the versioning of %s: %w", bucketName, err)
	}
	c.Encryption, err = s3.NewBucketServerSideEncryptionConfigurationV2(ctx, name+"-encryption", &s3.BucketServerSideEncryptionConfigurationV2Args{
		Bucket: ref,
		Rules: s3.BucketServerSideEncryptionConfigurationV2RuleArray{
			s3.BucketServerSideEncryptionConfigurationV2RuleArgs{
				ApplyServerSideEncryptionByDefault: s3.BucketServerSideEncryptionConfigurationV2RuleApplyServerSideEncryptionByDefaultArgs{
					SseAlgorithm: pulumi.String(bucketSSEAlgorithmKMS), KmsMasterKeyId: args.KeyArn,
				},
				// One data key per bucket instead of a KMS call per object.
				BucketKeyEnabled: pulumi.Bool(true),
			},
		},
	}, child...)
	if err != nil {
		return nil, fmt.Errorf("declaring the encryption of %s: %w", bucketName, err)
	}
	c.PublicAccessBlock, err = s3.NewBucketPublicAccessBlock(ctx, name+"-public-access", &s3.BucketPublicAccessBlockArgs{
		Bucket:          ref,
		BlockPublicAcls: pulumi.Bool(true), BlockPublicPolicy: pulumi.Bool(true),
		IgnorePublicAcls: pulumi.Bool(true), RestrictPublicBuckets: pulumi.Bool(true),
	}, child...)
	if err != nil {
		return nil, fmt.Errorf("declaring the public access block of %s: %w", bucketName, err)
	}
	doc, err := spec.BaselinesBucketPolicy(args.Account.BucketArn(bucketName)).JSON()
	if err != nil {
		return nil, err
	}
	// After the public access block: S3 rejects some policies while an
	// account-level block is being applied.
	c.Policy, err = s3.NewBucketPolicy(ctx, name+"-policy", &s3.BucketPolicyArgs{
		Bucket: ref, Policy: pulumi.String(doc),
	}, pulumi.Parent(c), pulumi.DependsOn([]pulumi.Resource{b, c.PublicAccessBlock}))
	if err != nil {
		return nil, fmt.Errorf("declaring the policy of %s: %w", bucketName, err)
	}
	// Noncurrent versions only exist once versioning is on.
	c.Lifecycle, err = s3.NewBucketLifecycleConfigurationV2(ctx, name+"-lifecycle", &s3.BucketLifecycleConfigurationV2Args{
		Bucket: ref,
		Rules: s3.BucketLifecycleConfigurationV2RuleArray{
			s3.BucketLifecycleConfigurationV2RuleArgs{
				Id:     pulumi.String(spec.BaselinesLifecycleRuleID),
				Status: pulumi.String(lifecycleEnabled),
				// An empty filter applies the rule to every object.
				Filter: s3.BucketLifecycleConfigurationV2RuleFilterArgs{},
				NoncurrentVersionExpiration: s3.BucketLifecycleConfigurationV2RuleNoncurrentVersionExpirationArgs{
					NoncurrentDays: pulumi.Int(spec.BaselineNoncurrentDays),
				},
			},
		},
	}, pulumi.Parent(c), pulumi.DependsOn([]pulumi.Resource{b, c.Versioning}))
	if err != nil {
		return nil, fmt.Errorf("declaring the lifecycle of %s: %w", bucketName, err)
	}
	c.Bucket, c.Name, c.Arn = b, b.Bucket, b.Arn
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{"bucket": b.Bucket, "arn": b.Arn}); err != nil {
		return nil, fmt.Errorf("registering outputs of %s: %w", name, err)
	}
	return c, nil
}
