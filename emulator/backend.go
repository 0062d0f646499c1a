package emulator

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// StateBackend is a Pulumi self-managed state backend served by the
// emulator: an S3 bucket (path-style) for the state and locks and a KMS key
// for the awskms:// secrets provider, as a team would configure against
// AWS, with the endpoint carried in the URLs.
type StateBackend struct {
	// URL is for PULUMI_BACKEND_URL: s3://<bucket>/<prefix>?endpoint=...
	URL string
	// SecretsProvider is awskms://<key id>?endpoint=...&region=...
	SecretsProvider string
	// Bucket and Prefix locate the state in the bucket.
	Bucket, Prefix string
	// KeyID is the KMS key that wraps the stacks' data keys.
	KeyID string
	// Env are the variables the pulumi CLI needs to reach the emulator:
	// static test credentials and the region (the endpoint is in the URLs).
	Env map[string]string
}

// NewStateBackend creates the bucket and a KMS key and returns the backend
// and secrets provider URLs. bucket must be a valid S3 bucket name; prefix
// may be empty.
func (e *Emulator) NewStateBackend(ctx context.Context, bucket, prefix string) (StateBackend, error) {
	cfg, err := e.Config(ctx)
	if err != nil {
		return StateBackend{}, fmt.Errorf("emulator config: %w", err)
	}
	if _, err := NewS3Client(cfg).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		return StateBackend{}, fmt.Errorf("creating the state bucket %s: %w", bucket, err)
	}
	key, err := kms.NewFromConfig(cfg).CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("pulumi state secrets for " + bucket)})
	if err != nil {
		return StateBackend{}, fmt.Errorf("creating the state secrets key: %w", err)
	}
	keyID := aws.ToString(key.KeyMetadata.KeyId)
	q := url.Values{}
	q.Set("endpoint", e.URL)
	q.Set("region", Region)
	// Path-style: the emulator has one host name, not one per bucket.
	bq := url.Values{}
	bq.Set("endpoint", e.URL)
	bq.Set("region", Region)
	bq.Set("use_path_style", "true")
	// kumo sends no response checksums; without this the CLI warns on
	// every read (real S3 sends them, so teams leave it out).
	bq.Set("response_checksum_validation", "when_required")
	u := "s3://" + bucket
	if p := strings.Trim(prefix, "/"); p != "" {
		u += "/" + p
	}
	return StateBackend{
		URL:             u + "?" + bq.Encode(),
		SecretsProvider: "awskms://" + keyID + "?" + q.Encode(),
		Bucket:          bucket,
		Prefix:          strings.Trim(prefix, "/"),
		KeyID:           keyID,
		Env: map[string]string{
			"AWS_ACCESS_KEY_ID":         "test",
			"AWS_SECRET_ACCESS_KEY":     "test",
			"AWS_REGION":                Region,
			"AWS_EC2_METADATA_DISABLED": "true",
		},
	}, nil
}
