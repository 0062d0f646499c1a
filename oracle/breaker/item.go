package breaker

import (
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/mirror-dissonance/mirror-infra/oracle/internal/datacheck"
	"github.com/mirror-dissonance/mirror-infra/spec"
)

// Attributes of a block-counter item besides bucketKey and expiresAt.
const (
	// AttrCount is the atomic block count.
	AttrCount = "count"
	// AttrTimestamp is the last increment, epoch milliseconds.
	AttrTimestamp = "timestamp"
	// AttrOracleTTL is where the Oracle writes its expiry. The table's TTL
	// attribute is expiresAt, so DynamoDB never deletes on it.
	AttrOracleTTL = "ttl"
)

// Bucket is a parsed bucket key.
type Bucket struct {
	RuleID, OrgID string
	Hour          time.Time
}

// ParseBucketKey splits "<ruleId>:<orgId>:<hour>". The hour is the last 24
// characters, so an org id (or rule id) containing ':' still parses; the
// first ':' separates the rule from the org.
func ParseBucketKey(k string) (Bucket, error) {
	n := len(hourLayout)
	if len(k) < n+4 || k[len(k)-n-1] != ':' {
		return Bucket{}, fmt.Errorf("bucket key %q is not <ruleId>:<orgId>:<hour as %s>", k, hourLayout)
	}
	hour, err := time.Parse(hourLayout, k[len(k)-n:])
	if err != nil {
		return Bucket{}, fmt.Errorf("bucket key %q: hour: %w", k, err)
	}
	if !hour.Equal(hour.Truncate(time.Hour)) {
		return Bucket{}, fmt.Errorf("bucket key %q: %s is not the start of an hour", k, k[len(k)-n:])
	}
	rule, org, ok := strings.Cut(k[:len(k)-n-1], ":")
	if !ok || rule == "" || org == "" {
		return Bucket{}, fmt.Errorf("bucket key %q lacks a rule id or an org id", k)
	}
	return Bucket{RuleID: rule, OrgID: org, Hour: hour.UTC()}, nil
}

// Finding is one contract problem of a stored item (see CheckItem).
type Finding = datacheck.Finding

// Codes of CheckItem's findings.
const (
	CodeNoExpiry = "block-counter-no-expiresAt"
	CodeBadKey   = "block-counter-bad-key"
	CodeBadCount = "block-counter-bad-count"
)

// CheckItem validates one stored block-counter item. WARN: no expiresAt
// (the item never expires; the Oracle's own items, which carry ttl
// instead), a key the Oracle never reads (an orphan it ignores). FAIL: a
// count that is missing or not an integer (the breaker cannot use it).
func CheckItem(item map[string]types.AttributeValue) []Finding {
	var out []Finding
	k, _ := datacheck.S(item, spec.AttrBucketKey)
	if _, err := ParseBucketKey(k); err != nil {
		out = append(out, datacheck.Warn(CodeBadKey, err.Error()+": neither implementation reads it"))
	}
	if n, ok := datacheck.Int(item, AttrCount); !ok || n < 0 {
		out = append(out, datacheck.Fail(CodeBadCount, fmt.Sprintf("bucket %s has no integer %s", k, AttrCount)))
	}
	if _, ok := datacheck.Int(item, spec.TTLAttribute); !ok {
		why := "it never expires"
		if _, ok := item[AttrOracleTTL]; ok {
			why = fmt.Sprintf("written by the Oracle, which puts its expiry in %s, not the table's TTL attribute %s: it never expires", AttrOracleTTL, spec.TTLAttribute)
		}
		out = append(out, datacheck.Warn(CodeNoExpiry, fmt.Sprintf("bucket %s has no %s: %s", k, spec.TTLAttribute, why)))
	}
	return out
}

// ItemSize approximates a stored item's size as DynamoDB bills it, for the
// cost of buckets that never expire.
func ItemSize(item map[string]types.AttributeValue) int { return datacheck.Size(item) }
