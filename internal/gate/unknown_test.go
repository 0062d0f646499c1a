package gate_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/mirror-dissonance/mirror-infra/internal/gate"
	"github.com/mirror-dissonance/mirror-infra/report"
)

// Engine shapes of values a preview cannot show (the SDK's sig package).
const (
	unknownBool = "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7"
	unknownList = "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2"
	sigKey      = "4dabf18193072939515e22adb298388d"
)

func hiddenSecret() map[string]any {
	return map[string]any{sigKey: "1b47061264138c4ac30d75fd1eb44270", "ciphertext": "[secret]"}
}

func unknownOutput() map[string]any {
	return map[string]any{sigKey: "d0e6a833031e9bbcd3f4e8bde6ca49a4", "dependencies": []any{"urn:pulumi:s::p::aws:kms/key:Key::kms"}}
}

// freshPreview turns a planned stack into what a real preview of a fresh
// stack shows: every value AWS computes (ARNs, ids, URLs) and everything
// rendered from one (policy documents, the bucket configurations' bucket
// input, which is the bucket's id) is unknown.
func freshPreview(t *testing.T, rs []gate.Resource) []gate.Resource {
	t.Helper()
	var walk func(v any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case string:
			if strings.Contains(x, "arn:aws:") || strings.Contains(x, "123456789012") {
				return gate.UnknownValue
			}
		case map[string]any:
			for k, y := range x {
				x[k] = walk(y)
			}
		case []any:
			for i, y := range x {
				x[i] = walk(y)
			}
		}
		return v
	}
	for i := range rs {
		walk(rs[i].Inputs)
		switch rs[i].Type {
		case gate.TypeRolePolicy:
			rs[i].Inputs["role"] = gate.UnknownValue // the role's id
		case gate.TypeBucketVersioning, gate.TypeBucketEncryption, gate.TypeBucketPublicAccessBlock, gate.TypeBucketPolicy, gate.TypeBucketLifecycle:
			rs[i].Inputs["bucket"] = gate.UnknownValue
		}
	}
	return rs
}

func statusOf(cs []report.Check, rule string) report.Status {
	for _, c := range cs {
		if c.ID == "gate:"+rule {
			return c.Status
		}
	}
	return ""
}

// TestFreshPreviewIsNeverAFalseFail: on a fresh stack's preview the gate
// fails nothing, and every rule that read a computed value says WARN
// (unknown until apply), never PASS.
func TestFreshPreviewIsNeverAFalseFail(t *testing.T) {
	base, opts := baseline(t)
	rs := freshPreview(t, clone(t, base))
	fs := gate.Evaluate(rs, opts)
	if gate.Failed(fs) {
		t.Fatalf("a fresh preview fails the gate: %+v", fs)
	}
	cs := gate.Checks(fs)
	for _, rule := range []string{gate.RuleTableSSE, gate.RuleTopicEncrypted, gate.RuleAlarmActions, gate.RuleOIDCAudience, gate.RuleOIDCSubject,
		gate.RuleWriteRolePR, gate.RuleRoleBoundary, gate.RuleRoleSelfChange, gate.RulePreviewReadOnly, gate.RuleNoStarPolicy,
		gate.RuleBucketVersioned, gate.RuleBucketSSE, gate.RuleBucketTLS} {
		if got := statusOf(cs, rule); got != report.Warn {
			t.Errorf("%s is %s on a fresh preview, want WARN (unknown until apply)", rule, got)
		}
	}
	for _, c := range cs {
		if c.Status == report.Warn && !strings.Contains(c.Reason, "unknown until apply") {
			t.Errorf("%s warns without saying why: %s", c.ID, c.Reason)
		}
	}
	// What needs no computed value is still judged.
	for _, rule := range []string{gate.RuleTablePITR, gate.RuleTableBilling, gate.RuleKeyRotation, gate.RuleAlarmMissingData, gate.RuleTableCount, gate.RuleResourceCount} {
		if got := statusOf(cs, rule); got != report.Pass {
			t.Errorf("%s is %s on a fresh preview, want PASS", rule, got)
		}
	}
}

// TestUnknownInputs: each value a preview cannot show, in each shape the
// engine sends it, is reported as unverifiable by the rule that reads it,
// never as a failure or a pass; a known violation next to it still fails.
func TestUnknownInputs(t *testing.T) {
	table := func(rs []gate.Resource) *gate.Resource { return first(rs, gate.TypeTable, nil) }
	alarm := func(rs []gate.Resource) *gate.Resource { return first(rs, gate.TypeAlarm, nil) }
	cases := []struct {
		name   string
		mutate func(rs []gate.Resource)
		warn   []string // rules that must WARN
		fail   []string // rules that must still FAIL
	}{
		{"table key ARN unknown", func(rs []gate.Resource) {
			table(rs).Inputs["serverSideEncryption"] = map[string]any{"enabled": true, "kmsKeyArn": gate.UnknownValue}
		}, []string{gate.RuleTableSSE}, nil},
		{"table key ARN an unknown output value", func(rs []gate.Resource) {
			table(rs).Inputs["serverSideEncryption"] = map[string]any{"enabled": true, "kmsKeyArn": unknownOutput()}
		}, []string{gate.RuleTableSSE}, nil},
		{"whole encryption block unknown", func(rs []gate.Resource) {
			table(rs).Inputs["serverSideEncryption"] = gate.UnknownValue
		}, []string{gate.RuleTableSSE}, nil},
		{"PITR flag an unknown bool", func(rs []gate.Resource) {
			table(rs).Inputs["pointInTimeRecovery"] = map[string]any{"enabled": unknownBool}
		}, []string{gate.RuleTablePITR}, nil},
		{"known PITR off beside an unknown key", func(rs []gate.Resource) {
			table(rs).Inputs["pointInTimeRecovery"] = map[string]any{"enabled": false}
			table(rs).Inputs["serverSideEncryption"] = map[string]any{"enabled": true, "kmsKeyArn": gate.UnknownValue}
		}, []string{gate.RuleTableSSE}, []string{gate.RuleTablePITR}},
		{"known SSE off beside an unknown key", func(rs []gate.Resource) {
			table(rs).Inputs["serverSideEncryption"] = map[string]any{"enabled": false, "kmsKeyArn": gate.UnknownValue}
		}, nil, []string{gate.RuleTableSSE}},
		{"topic key id unknown", func(rs []gate.Resource) {
			first(rs, gate.TypeTopic, nil).Inputs["kmsMasterKeyId"] = gate.UnknownValue
		}, []string{gate.RuleTopicEncrypted}, nil},
		{"topic key id a hidden secret", func(rs []gate.Resource) {
			first(rs, gate.TypeTopic, nil).Inputs["kmsMasterKeyId"] = hiddenSecret()
		}, []string{gate.RuleTopicEncrypted}, nil},
		{"alarm actions unknown list", func(rs []gate.Resource) {
			alarm(rs).Inputs["alarmActions"] = unknownList
		}, []string{gate.RuleAlarmActions}, nil},
		{"alarm action element unknown", func(rs []gate.Resource) {
			alarm(rs).Inputs["okActions"] = []any{gate.UnknownValue}
		}, []string{gate.RuleAlarmActions}, nil},
		{"unknown element beside another topic", func(rs []gate.Resource) {
			alarm(rs).Inputs["okActions"] = []any{gate.UnknownValue, "arn:aws:sns:us-east-1:1:someone-else"}
		}, nil, []string{gate.RuleAlarmActions}},
		{"trust policy unknown", func(rs []gate.Resource) {
			first(rs, gate.TypeRole, nil).Inputs["assumeRolePolicy"] = gate.UnknownValue
		}, []string{gate.RuleOIDCAudience, gate.RuleOIDCSubject, gate.RuleWriteRolePR}, nil},
		{"role policy rendered around an unknown ARN", func(rs []gate.Resource) {
			r := first(rs, gate.TypeRolePolicy, func(r gate.Resource) bool { return r.Name == "github-preview-policy" })
			r.Inputs["policy"] = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"dynamodb:DescribeTable","Resource":"` + gate.UnknownValue + `"}]}`
		}, []string{gate.RulePreviewReadOnly, gate.RuleNoStarPolicy, gate.RuleRoleSelfChange}, nil},
		{"role policy's role unknown", func(rs []gate.Resource) {
			for i := range rs {
				if rs[i].Type == gate.TypeRolePolicy {
					rs[i].Inputs["role"] = gate.UnknownValue
				}
			}
		}, []string{gate.RuleRoleSelfChange}, nil},
		{"boundary ARN unknown", func(rs []gate.Resource) {
			for i := range rs {
				if rs[i].Type == gate.TypeRole && rs[i].Inputs["permissionsBoundary"] != nil {
					rs[i].Inputs["permissionsBoundary"] = gate.UnknownValue
				}
			}
		}, []string{gate.RuleRoleBoundary}, nil},
		{"queue key and policy unknown", func(rs []gate.Resource) {
			first(rs, gate.TypeQueue, nil).Inputs["kmsMasterKeyId"] = gate.UnknownValue
			first(rs, gate.TypeQueuePolicy, nil).Inputs["policy"] = gate.UnknownValue
		}, []string{gate.RuleVerifyQueue}, nil},
		{"bucket configuration tied to an unknown bucket id", func(rs []gate.Resource) {
			first(rs, gate.TypeBucketVersioning, nil).Inputs["bucket"] = gate.UnknownValue
		}, []string{gate.RuleBucketVersioned}, nil},
		{"unknown bucket id with versioning suspended", func(rs []gate.Resource) {
			r := first(rs, gate.TypeBucketVersioning, nil)
			r.Inputs["bucket"] = gate.UnknownValue
			r.Inputs["versioningConfiguration"] = map[string]any{"status": "Suspended"}
		}, nil, []string{gate.RuleBucketVersioned}},
		{"bucket SSE key unknown", func(rs []gate.Resource) {
			sseRule(rs)["applyServerSideEncryptionByDefault"] = map[string]any{"sseAlgorithm": "aws:kms", "kmsMasterKeyId": gate.UnknownValue}
		}, []string{gate.RuleBucketSSE}, nil},
		{"bucket SSE-S3 beside an unknown key", func(rs []gate.Resource) {
			sseRule(rs)["applyServerSideEncryptionByDefault"] = map[string]any{"sseAlgorithm": "AES256", "kmsMasterKeyId": gate.UnknownValue}
		}, nil, []string{gate.RuleBucketSSE}},
		{"bucket key flag unknown", func(rs []gate.Resource) {
			sseRule(rs)["bucketKeyEnabled"] = unknownBool
		}, []string{gate.RuleBucketSSE}, nil},
		{"bucket policy unknown", func(rs []gate.Resource) {
			first(rs, gate.TypeBucketPolicy, nil).Inputs["policy"] = gate.UnknownValue
		}, []string{gate.RuleBucketTLS}, nil},
		{"a secret shown in the clear is judged", func(rs []gate.Resource) {
			b, _ := json.Marshal("PROVISIONED")
			table(rs).Inputs["billingMode"] = map[string]any{sigKey: "1b47061264138c4ac30d75fd1eb44270", "plaintext": string(b)}
		}, nil, []string{gate.RuleTableBilling}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			base, opts := baseline(t)
			rs := clone(t, base)
			tc.mutate(rs)
			fs := gate.Evaluate(rs, opts)
			if gate.Failed(fs) != (len(tc.fail) > 0) {
				t.Errorf("failed = %t, want %t: %+v", gate.Failed(fs), len(tc.fail) > 0, fs)
			}
			cs := gate.Checks(fs)
			for _, c := range cs {
				want := report.Pass
				switch {
				case contains(tc.fail, strings.TrimPrefix(c.ID, "gate:")):
					want = report.Fail
				case contains(tc.warn, strings.TrimPrefix(c.ID, "gate:")):
					want = report.Warn
				}
				if c.Status != want {
					t.Errorf("%s is %s (%s), want %s", c.ID, c.Status, c.Reason, want)
				}
				if c.Status == report.Warn && !strings.Contains(c.Reason, "unknown until apply") && !strings.Contains(c.Reason, "secret") {
					t.Errorf("%s warns without saying the value is unknown until apply: %s", c.ID, c.Reason)
				}
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
