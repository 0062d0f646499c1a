package fpevents

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/mirror-dissonance/mirror-infra/oracle/internal/datacheck"
	"github.com/mirror-dissonance/mirror-infra/spec"
)

// Attribute names of an FP event item (SPEC 7; the Oracle's fp-store).
const (
	attrEventID     = "eventId"
	attrRuleID      = "ruleId"
	attrRuleVersion = "ruleVersion"
	attrFindingID   = "findingId"
	attrOutcome     = "outcome"
	attrIsFP        = "isFalsePositive"
	attrTimestamp   = "timestamp"
	attrContext     = "context"
	attrRecordedAt  = "recordedAt"
	attrReviewedBy  = "reviewedBy"
	attrReviewedAt  = "reviewedAt"
	attrGSI1PK      = spec.AttrGSI1PK
	attrGSI1SK      = spec.AttrGSI1SK

	ctxRepo      = "repo"
	ctxBranch    = "branch"
	ctxEventType = "eventType"
	ctxPRNumber  = "prNumber"
	ctxCommit    = "commit"
)

func str(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func num(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

// ToItem is the item the Oracle's fp-store would PutItem for e: the same
// attribute names and types, timestamps ISO-8601 UTC with milliseconds,
// expiresAt epoch seconds, recordedAt epoch milliseconds.
func ToItem(e Event) map[string]types.AttributeValue {
	k := e.Key()
	item := map[string]types.AttributeValue{
		spec.AttrPK:       str(k.PK),
		spec.AttrSK:       str(k.SK),
		attrGSI1PK:        str("finding#" + e.FindingID),
		attrGSI1SK:        str("rule#" + e.RuleID + "#" + e.RuleVersion),
		attrEventID:       str(e.EventID),
		attrRuleID:        str(e.RuleID),
		attrRuleVersion:   str(e.RuleVersion),
		attrFindingID:     str(e.FindingID),
		attrOutcome:       str(e.Outcome),
		attrIsFP:          &types.AttributeValueMemberBOOL{Value: e.IsFalsePositive},
		attrTimestamp:     str(e.Timestamp.UTC().Format(timeLayout)),
		attrContext:       contextItem(e.Context),
		spec.TTLAttribute: num(e.ExpiresAt),
		attrRecordedAt:    num(e.RecordedAt),
	}
	if e.ReviewedBy != "" {
		item[attrReviewedBy] = str(e.ReviewedBy)
	}
	if !e.ReviewedAt.IsZero() {
		item[attrReviewedAt] = str(e.ReviewedAt.UTC().Format(timeLayout))
	}
	return item
}

func contextItem(c Context) types.AttributeValue {
	m := make(map[string]types.AttributeValue, 3+len(c.Extra))
	for k, v := range c.Extra {
		m[k] = v
	}
	m[ctxRepo], m[ctxBranch], m[ctxEventType] = str(c.Repo), str(c.Branch), str(c.EventType)
	if c.PRNumber > 0 {
		m[ctxPRNumber] = num(int64(c.PRNumber))
	}
	if c.Commit != "" {
		m[ctxCommit] = str(c.Commit)
	}
	return &types.AttributeValueMemberM{Value: m}
}

// parseTime reads the Oracle's toISOString form, and any RFC 3339 time as a
// fallback, so a hand-written item is still readable.
func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		t, err = time.Parse(time.RFC3339Nano, s)
	}
	return t.UTC(), err
}

// FromItem reads an FP event item written by either implementation. The
// event type is kept as stored (see CanonicalEventType); context keys other
// than repo, branch, eventType, prNumber and commit are kept in
// Context.Extra.
func FromItem(item map[string]types.AttributeValue) (Event, error) {
	s := func(name string) string { v, _ := datacheck.S(item, name); return v }
	n := func(name string) int64 { v, _ := datacheck.Int(item, name); return v }
	e := Event{
		EventID: s(attrEventID), RuleID: s(attrRuleID), RuleVersion: s(attrRuleVersion), FindingID: s(attrFindingID),
		Outcome: s(attrOutcome), ExpiresAt: n(spec.TTLAttribute), RecordedAt: n(attrRecordedAt), ReviewedBy: s(attrReviewedBy),
	}
	if b, ok := item[attrIsFP].(*types.AttributeValueMemberBOOL); ok {
		e.IsFalsePositive = b.Value
	}
	var err error
	if e.Timestamp, err = parseTime(s(attrTimestamp)); err != nil {
		return Event{}, fmt.Errorf("decoding FP event %s timestamp: %w", e.EventID, err)
	}
	if at := s(attrReviewedAt); at != "" {
		if e.ReviewedAt, err = parseTime(at); err != nil {
			return Event{}, fmt.Errorf("decoding FP event %s reviewedAt: %w", e.EventID, err)
		}
	}
	if m, ok := item[attrContext].(*types.AttributeValueMemberM); ok {
		e.Context = contextOf(m.Value)
	}
	return e, nil
}

func contextOf(m map[string]types.AttributeValue) Context {
	var c Context
	for k, v := range m {
		sv, isS := v.(*types.AttributeValueMemberS)
		switch {
		case k == ctxRepo && isS:
			c.Repo = sv.Value
		case k == ctxBranch && isS:
			c.Branch = sv.Value
		case k == ctxEventType && isS:
			c.EventType = sv.Value
		case k == ctxCommit && isS && sv.Value != "":
			c.Commit = sv.Value
		case k == ctxPRNumber:
			if n, ok := datacheck.Int(m, k); ok && n > 0 {
				c.PRNumber = int(n)
				continue
			}
			fallthrough
		default:
			// Anything else, or a known key of an unexpected type, is
			// kept as it was so that a rewrite does not lose it.
			if c.Extra == nil {
				c.Extra = map[string]types.AttributeValue{}
			}
			c.Extra[k] = v
		}
	}
	return c
}

// Finding is one contract problem of a stored item (see CheckItem).
type Finding = datacheck.Finding

// Codes of CheckItem's findings.
const (
	CodeMissingIndexKeys = "fp-missing-index-keys"
	CodeKeyMismatch      = "fp-key-mismatch"
	CodeUnknownEventType = "fp-unknown-event-type"
	CodeBadField         = "fp-bad-field"
	CodeNoExpiry         = "fp-no-expiresAt"
)

// CheckItem validates one stored FP event against the contract of SPEC 7.
// FAIL: index keys missing (the Oracle's lookups by finding cannot see the
// event), keys that disagree with the attributes, an event type neither
// implementation writes, an unreadable timestamp or outcome. WARN: no
// expiresAt (the event never expires).
func CheckItem(item map[string]types.AttributeValue) []Finding {
	var out []Finding
	var missing []string
	for _, a := range []string{spec.AttrPK, spec.AttrSK, attrGSI1PK, attrGSI1SK} {
		if v, ok := datacheck.S(item, a); !ok || v == "" {
			missing = append(missing, a)
		}
	}
	pk, _ := datacheck.S(item, spec.AttrPK)
	sk, _ := datacheck.S(item, spec.AttrSK)
	if len(missing) > 0 {
		out = append(out, datacheck.Fail(CodeMissingIndexKeys, fmt.Sprintf("FP event %s/%s lacks %s", pk, sk, strings.Join(missing, ", "))))
	}
	e, err := FromItem(item)
	if err != nil {
		return append(out, datacheck.Fail(CodeBadField, fmt.Sprintf("FP event %s/%s: %v", pk, sk, err)))
	}
	if len(missing) == 0 {
		want := ToItem(e)
		var differ []string
		for _, a := range []string{spec.AttrPK, spec.AttrSK, attrGSI1PK, attrGSI1SK} {
			if got, _ := datacheck.S(item, a); got != want[a].(*types.AttributeValueMemberS).Value {
				differ = append(differ, a)
			}
		}
		if len(differ) > 0 {
			out = append(out, datacheck.Fail(CodeKeyMismatch, fmt.Sprintf("FP event %s/%s: %s do not match its ruleId, ruleVersion, findingId, timestamp and eventId", pk, sk, strings.Join(differ, ", "))))
		}
	}
	if _, ok := CanonicalEventType(e.Context.EventType); !ok {
		out = append(out, datacheck.Fail(CodeUnknownEventType, fmt.Sprintf("FP event %s/%s has context.eventType %q, not pullrequest, mergegroup or drift (or pull_request, merge_group)", pk, sk, e.Context.EventType)))
	}
	switch e.Outcome {
	case OutcomeBlock, OutcomeWarn, OutcomePass:
	default:
		out = append(out, datacheck.Fail(CodeBadField, fmt.Sprintf("FP event %s/%s has outcome %q, not block, warn or pass", pk, sk, e.Outcome)))
	}
	if _, ok := datacheck.Int(item, spec.TTLAttribute); !ok {
		out = append(out, datacheck.Warn(CodeNoExpiry, fmt.Sprintf("FP event %s/%s has no numeric %s: it never expires", pk, sk, spec.TTLAttribute)))
	}
	return out
}
