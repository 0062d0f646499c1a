package rehearse

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

func (p *Provisioner) readBucket(ctx context.Context, name string, _ map[string]any) (map[string]any, error) {
	if _, err := p.s3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(name)}); err != nil {
		return nil, err
	}
	out := map[string]any{"bucket": name, "arn": "arn:aws:s3:::" + name, "tags": map[string]any{}}
	t, err := p.s3.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String(name)})
	if err == nil {
		out["tags"] = anyTags(t.TagSet, func(t s3types.Tag) (*string, *string) { return t.Key, t.Value })
	} else if !isNoTags(err) {
		return nil, fmt.Errorf("reading the tags of bucket %s: %w", name, err)
	}
	return out, nil
}

func isNoTags(err error) bool {
	return err != nil && (containsCode(err, "NoSuchTagSet") || containsCode(err, "NoSuchTagSetError"))
}

func (p *Provisioner) updateBucket(ctx context.Context, name string, _, new map[string]any, changed []string) ([]string, error) {
	for _, k := range changed {
		if k != "tags" {
			continue
		}
		t := obj(new["tags"])
		var err error
		if len(t) == 0 {
			_, err = p.s3.DeleteBucketTagging(ctx, &s3.DeleteBucketTaggingInput{Bucket: aws.String(name)})
		} else {
			_, err = p.s3.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: aws.String(name), Tagging: &s3types.Tagging{TagSet: s3Tags(t)}})
		}
		if err != nil {
			return nil, err
		}
	}
	// forceDestroy only matters to a destroy.
	return unchanged(changed, "tags", "forceDestroy"), nil
}

func (p *Provisioner) readBucketVersioning(ctx context.Context, name string, _ map[string]any) (map[string]any, error) {
	v, err := p.s3.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(name)})
	if err != nil {
		return nil, err
	}
	return map[string]any{"bucket": name, "versioningConfiguration": map[string]any{"status": string(v.Status)}}, nil
}

func (p *Provisioner) readBucketEncryption(ctx context.Context, name string, _ map[string]any) (map[string]any, error) {
	e, err := p.s3.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String(name)})
	if err != nil {
		return nil, err
	}
	var rules []any
	if c := e.ServerSideEncryptionConfiguration; c != nil {
		for _, r := range c.Rules {
			m := map[string]any{}
			if r.BucketKeyEnabled != nil {
				m["bucketKeyEnabled"] = *r.BucketKeyEnabled
			}
			if d := r.ApplyServerSideEncryptionByDefault; d != nil {
				dm := map[string]any{"sseAlgorithm": string(d.SSEAlgorithm)}
				if k := aws.ToString(d.KMSMasterKeyID); k != "" {
					dm["kmsMasterKeyId"] = k
				}
				m["applyServerSideEncryptionByDefault"] = dm
			}
			rules = append(rules, m)
		}
	}
	return map[string]any{"bucket": name, "rules": rules}, nil
}

func (p *Provisioner) readPublicAccessBlock(ctx context.Context, name string, _ map[string]any) (map[string]any, error) {
	b, err := p.s3.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: aws.String(name)})
	if err != nil {
		return nil, err
	}
	c := b.PublicAccessBlockConfiguration
	return map[string]any{"bucket": name, "blockPublicAcls": aws.ToBool(c.BlockPublicAcls), "blockPublicPolicy": aws.ToBool(c.BlockPublicPolicy),
		"ignorePublicAcls": aws.ToBool(c.IgnorePublicAcls), "restrictPublicBuckets": aws.ToBool(c.RestrictPublicBuckets)}, nil
}

func (p *Provisioner) readBucketPolicy(ctx context.Context, name string, state map[string]any) (map[string]any, error) {
	b, err := p.s3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(name)})
	if err != nil {
		return nil, err
	}
	return map[string]any{"bucket": name, "policy": keepSpelling(state, "policy", aws.ToString(b.Policy))}, nil
}

func (p *Provisioner) readBucketLifecycle(ctx context.Context, name string, _ map[string]any) (map[string]any, error) {
	l, err := p.s3.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String(name)})
	if err != nil {
		return nil, err
	}
	var rules []any
	for _, r := range l.Rules {
		m := map[string]any{"id": aws.ToString(r.ID), "status": string(r.Status)}
		if f := r.Filter; f != nil {
			fm := map[string]any{}
			if pr := aws.ToString(f.Prefix); pr != "" {
				fm["prefix"] = pr
			}
			m["filter"] = fm
		}
		if n := r.NoncurrentVersionExpiration; n != nil {
			m["noncurrentVersionExpiration"] = map[string]any{"noncurrentDays": float64(aws.ToInt32(n.NoncurrentDays))}
		}
		rules = append(rules, m)
	}
	return map[string]any{"bucket": name, "rules": rules}, nil
}

// bucketConfigUpdater puts a configuration of type typ again: each of
// these resources is one S3 configuration document.
func bucketConfigUpdater(typ string) updater {
	return func(p *Provisioner, ctx context.Context, _ string, _, new map[string]any, _ []string) ([]string, error) {
		in := &inputs{m: new, used: map[string]bool{}}
		if _, _, err := p.bucketConfig(ctx, typ, in); err != nil {
			return nil, err
		}
		return in.leftovers(), nil
	}
}

// containsCode reports an AWS error with the given code.
func containsCode(err error, code string) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == code
}
