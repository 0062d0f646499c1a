package verify

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/spec"
)

// IDTTL is the id of the ttl check.
const IDTTL = "ttl"

func init() {
	register(check{Entry: Entry{ID: IDTTL, Writes: false,
		Summary: "TTL on expiresAt is enabled on fp-events and block-counter",
		Catches: []string{"ttl-off"}},
		rank: 30, run: (*session).checkTTL})
}

func (s *session) checkTTL(ctx context.Context) report.Check {
	f := newFindings(IDTTL)
	var withTTL []spec.TableSchema
	var suffixes []string
	for _, ts := range spec.TableSchemas {
		if ts.TTLAttribute != "" {
			withTTL, suffixes = append(withTTL, ts), append(suffixes, ts.Suffix)
		}
	}
	describe := func(name string) (*dynamodb.DescribeTimeToLiveOutput, error) {
		out, err := s.c.DynamoDB.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)})
		if err == nil && (out == nil || out.TimeToLiveDescription == nil) {
			return nil, incomplete("dynamodb:DescribeTimeToLive of "+name, "a TimeToLiveDescription")
		}
		return out, err
	}
	eachTable(s, f, withTTL, false, "describing the TTL of", describe, func(ts spec.TableSchema, name string, out *dynamodb.DescribeTimeToLiveOutput) {
		d, want := out.TimeToLiveDescription, ts.TTLAttribute
		fix := "enable TTL on attribute " + want + ": " + fixDeploy
		switch {
		case d == nil || d.TimeToLiveStatus == types.TimeToLiveStatusDisabled || d.TimeToLiveStatus == "":
			f.fail(fix, "TTL is disabled on %s", name)
		case aws.ToString(d.AttributeName) != want:
			f.fail(fix, "TTL of %s uses attribute %q, want %q (items written with %s never expire)", name, aws.ToString(d.AttributeName), want, want)
		case d.TimeToLiveStatus != types.TimeToLiveStatusEnabled:
			f.warn("wait a few minutes and run again", "TTL of %s is %s", name, d.TimeToLiveStatus)
		default:
			f.details[name] = "TTL on " + want
		}
	})
	return f.result("TTL on " + spec.TTLAttribute + " is enabled on " + strings.Join(suffixes, " and "))
}
