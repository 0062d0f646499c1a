package breaker

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// NewCounterFromConfig returns a counter on table with a DynamoDB client
// built from cfg: the constructor shape every package of the Oracle layer
// shares (NewCounter takes a client instead, e.g. a shared one or a fake).
func NewCounterFromConfig(cfg aws.Config, table string) *Counter {
	return NewCounter(dynamodb.NewFromConfig(cfg), table)
}
