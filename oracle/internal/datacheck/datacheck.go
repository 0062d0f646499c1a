// Package datacheck holds the finding type the adapters' item validators
// (fpevents.CheckItem, breaker.CheckItem, consent.CheckItem) share, so the
// verifier's data check can aggregate them in one slice. The adapters
// export it under the name Finding.
package datacheck

import (
	"strconv"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/mirror-dissonance/mirror-infra/report"
)

// Finding is one contract problem of one stored item.
type Finding struct {
	// Severity is report.Fail when the problem breaks the Oracle and
	// report.Warn when it is a data defect the Oracle survives.
	Severity report.Status
	// Code names the kind of problem; the data check counts by it.
	Code string
	// Detail says what is wrong with this item; it never holds values
	// other than keys and attribute names.
	Detail string
}

// Warn and Fail build findings.
func Warn(code, detail string) Finding {
	return Finding{Severity: report.Warn, Code: code, Detail: detail}
}

// Fail builds a finding that breaks the Oracle.
func Fail(code, detail string) Finding {
	return Finding{Severity: report.Fail, Code: code, Detail: detail}
}

// S returns the string attribute name of item and whether it is one.
func S(item map[string]types.AttributeValue, name string) (string, bool) {
	v, ok := item[name].(*types.AttributeValueMemberS)
	if !ok {
		return "", false
	}
	return v.Value, true
}

// Int returns the integer number attribute name of item and whether it is
// one.
func Int(item map[string]types.AttributeValue, name string) (int64, bool) {
	v, ok := item[name].(*types.AttributeValueMemberN)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(v.Value, 10, 64)
	return n, err == nil
}

// Size approximates an item's stored size as DynamoDB bills it (attribute
// names plus values; numbers counted by their digits), for the cost of
// items that never expire.
func Size(item map[string]types.AttributeValue) int {
	n := 0
	for k, v := range item {
		n += len(k) + valueSize(v)
	}
	return n
}

func valueSize(av types.AttributeValue) int {
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		return len(v.Value)
	case *types.AttributeValueMemberN:
		return len(v.Value)/2 + 1
	case *types.AttributeValueMemberB:
		return len(v.Value)
	case *types.AttributeValueMemberBOOL, *types.AttributeValueMemberNULL:
		return 1
	case *types.AttributeValueMemberM:
		n := 3
		for k, x := range v.Value {
			n += len(k) + valueSize(x) + 1
		}
		return n
	case *types.AttributeValueMemberL:
		n := 3
		for _, x := range v.Value {
			n += valueSize(x) + 1
		}
		return n
	case *types.AttributeValueMemberSS:
		n := 0
		for _, s := range v.Value {
			n += len(s)
		}
		return n
	case *types.AttributeValueMemberNS:
		n := 0
		for _, s := range v.Value {
			n += len(s)/2 + 1
		}
		return n
	}
	return 0
}
