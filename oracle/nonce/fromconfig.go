package nonce

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

// NewFromConfig is New with an SSM client built from cfg: the constructor
// shape every package of the Oracle layer shares (New takes a client
// instead, e.g. a shared one or a fake).
func NewFromConfig(cfg aws.Config, env, prefix, keyID string, grace time.Duration) *Store {
	return New(ssm.NewFromConfig(cfg), env, prefix, keyID, grace)
}
