package consent

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// NewFromConfig returns a store on table with a DynamoDB client built from
// cfg: the constructor shape every package of the Oracle layer shares
// (New takes a client instead, e.g. a shared one or a fake).
func NewFromConfig(cfg aws.Config, table string) *Store {
	return New(dynamodb.NewFromConfig(cfg), table)
}
