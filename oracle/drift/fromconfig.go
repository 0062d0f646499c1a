package drift

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// NewStore returns a store on bucket.
func NewStore(client ObjectAPI, bucket string) *Store { return &Store{Client: client, Bucket: bucket} }

// NewStoreFromConfig returns a store on bucket with an S3 client built
// from cfg (NewObjectClient): the constructor shape every package of the
// Oracle layer shares.
func NewStoreFromConfig(cfg aws.Config, bucket string) *Store {
	return NewStore(NewObjectClient(cfg), bucket)
}

// NewObjectClient is the S3 client the baselines store needs from cfg.
// With a custom endpoint (an emulator, AWS_ENDPOINT_URL) buckets are
// addressed path-style, since such endpoints have no per-bucket host
// names, and the SDK's warning about responses without checksums, which
// emulators do not send, is off.
func NewObjectClient(cfg aws.Config) *s3.Client {
	custom := cfg.BaseEndpoint != nil
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.UsePathStyle = custom
		o.DisableLogOutputChecksumValidationSkipped = custom
	})
}
