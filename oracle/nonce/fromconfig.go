package nonce

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

// NewFromConfig returns a store for the versions under prefix with an SSM
// client built from cfg: the constructor shape every package of the Oracle
// layer shares (New takes a client instead, e.g. a shared one or a fake).
func NewFromConfig(cfg aws.Config, prefix, keyID string, grace time.Duration) *Store {
	return New(ssm.NewFromConfig(cfg), prefix, keyID, grace)
}
