package drift

import (
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/mirror-dissonance/mirror-infra/awsclient"
)

// NewStore returns a store on bucket.
func NewStore(client ObjectAPI, bucket string) *Store { return &Store{Client: client, Bucket: bucket} }

// NewStoreFromConfig returns a store on bucket with an S3 client built
// from cfg (awsclient.NewS3: path-style on a custom endpoint): the
// constructor shape every package of the Oracle layer shares.
func NewStoreFromConfig(cfg aws.Config, bucket string) *Store {
	return NewStore(awsclient.NewS3(cfg), bucket)
}
