package gate_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/mirror-dissonance/mirror-infra/internal/gate"
	"github.com/mirror-dissonance/mirror-infra/internal/mockrun"
	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/stacks/stackconfig"
)

// baseline is the planned staging stack, as `check` sees it.
func baseline(t *testing.T) ([]gate.Resource, gate.Options) {
	t.Helper()
	cfg, err := stackconfig.Load("../..", "staging")
	if err != nil {
		t.Fatal(err)
	}
	res, err := mockrun.Run(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return res.Resources, gate.Options{Environment: cfg.Environment, DeletionProtection: cfg.DeletionProtection}
}

// clone deep-copies resources so a mutation touches one case only.
func clone(t *testing.T, rs []gate.Resource) []gate.Resource {
	b, err := json.Marshal(rs)
	if err != nil {
		t.Fatal(err)
	}
	var out []gate.Resource
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func first(rs []gate.Resource, typ string, pred func(gate.Resource) bool) *gate.Resource {
	for i := range rs {
		if rs[i].Type == typ && (pred == nil || pred(rs[i])) {
			return &rs[i]
		}
	}
	return nil
}

func setPolicy(t *testing.T, r *gate.Resource, key string, mutate func(doc map[string]any)) {
	var doc map[string]any
	if err := json.Unmarshal([]byte(r.Inputs[key].(string)), &doc); err != nil {
		t.Fatal(err)
	}
	mutate(doc)
	b, _ := json.Marshal(doc)
	r.Inputs[key] = string(b)
}

// sseRule is the first rule of the baselines bucket's encryption
// configuration, to mutate in place.
func sseRule(rs []gate.Resource) map[string]any {
	return first(rs, gate.TypeBucketEncryption, nil).Inputs["rules"].([]any)[0].(map[string]any)
}

func roleNamed(name string) func(gate.Resource) bool {
	return func(r gate.Resource) bool { return r.Inputs["name"] == name }
}

func awsCount(rs []gate.Resource) int {
	n := 0
	for _, r := range rs {
		if strings.HasPrefix(r.Type, "aws:") && r.Op != gate.OpDelete && r.Op != gate.OpRead {
			n++
		}
	}
	return n
}

func TestBaselinePasses(t *testing.T) {
	rs, opts := baseline(t)
	fs := gate.Evaluate(rs, opts)
	for _, f := range fs {
		if !f.Note {
			t.Errorf("the shipped staging stack does not pass the gate: %+v", f)
		}
	}
	for _, c := range gate.Checks(fs) {
		if c.Status != report.Pass {
			t.Errorf("%s is %s: %s", c.ID, c.Status, c.Reason)
		}
	}
}

// TestResourceCountStatesCountAndBand: the count comes from the plan (the
// program's resources) and the message states it with the band, passing
// or failing (issue 24, finding 7).
func TestResourceCountStatesCountAndBand(t *testing.T) {
	rs, opts := baseline(t)
	n := 0
	for _, r := range rs {
		if strings.HasPrefix(r.Type, "aws:") && r.Op != gate.OpDelete && r.Op != gate.OpRead {
			n++
		}
	}
	want := fmt.Sprintf("the plan keeps %d AWS resources; the band is %d to %d", n, gate.DefaultMinResources, gate.DefaultMaxResources)
	for _, tc := range []struct {
		name   string
		rs     []gate.Resource
		status report.Status
		reason string
	}{
		{"the program's count", rs, report.Pass, want},
		{"one resource more than the band", append(clone(t, rs), make([]gate.Resource, gate.DefaultMaxResources-n+1)...), report.Fail, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for i := range tc.rs {
				if tc.rs[i].Type == "" {
					tc.rs[i] = gate.Resource{Type: "aws:s3/bucket:Bucket", Name: fmt.Sprint("extra", i), Op: gate.OpCreate}
				}
			}
			reason := tc.reason
			if reason == "" {
				reason = fmt.Sprintf("the plan keeps %d AWS resources; the band is %d to %d", gate.DefaultMaxResources+1, gate.DefaultMinResources, gate.DefaultMaxResources)
			}
			for _, c := range gate.Checks(gate.Evaluate(tc.rs, opts)) {
				if c.ID != "gate:"+gate.RuleResourceCount {
					continue
				}
				if c.Status != tc.status || !strings.Contains(c.Reason, reason) {
					t.Errorf("%s: %s %q, want %s stating %q", c.ID, c.Status, c.Reason, tc.status, reason)
				}
				return
			}
			t.Error("no resource-count check")
		})
	}
}

func TestRules(t *testing.T) {
	cases := []struct {
		name     string
		mutate   func(t *testing.T, rs []gate.Resource, o *gate.Options) []gate.Resource
		wantRule string // empty: must pass
	}{
		{"PITR off on one table", func(t *testing.T, rs []gate.Resource, o *gate.Options) []gate.Resource {
			first(rs, gate.TypeTable, nil).Inputs["pointInTimeRecovery"] = map[string]any{"enabled": false}
			return rs
		}, gate.RuleTablePITR},
		{"PITR block removed", func(t *testing.T, rs []gate.Resource, o *gate.Options) []gate.Resource {
			delete(first(rs, gate.TypeTable, nil).Inputs, "pointInTimeRecovery")
			return rs
		}, gate.RuleTablePITR},
		{"SSE off", func(t *testing.T, rs []gate.Resource, o *gate.Options) []gate.Resource {
			first(rs, gate.TypeTable, nil).Inputs["serverSideEncryption"] = map[string]any{"enabled": false}
			return rs
		}, gate.RuleTableSSE},
		{"SSE with the AWS-managed key", func(t *testing.T, rs []gate.Resource, o *gate.Options) []gate.Resource {
			first(rs, gate.TypeTable, nil).Inputs["serverSideEncryption"] = map[string]any{"enabled": true, "kmsKeyArn": "arn:aws:kms:us-east-1:1:alias/aws/dynamodb"}
			return rs
		}, gate.RuleTableSSE},
		{"SSE on without a key", func(t *testing.T, rs []gate.Resource, o *gate.Options) []gate.Resource {
			first(rs, gate.TypeTable, nil).Inputs["serverSideEncryption"] = map[string]any{"enabled": true}
			return rs
		}, gate.RuleTableSSE},
		{"provisioned billing", func(t *testing.T, rs []gate.Resource, o *gate.Options) []gate.Resource {
			first(rs, gate.TypeTable, nil).Inputs["billingMode"] = "PROVISIONED"
			return rs
		}, gate.RuleTableBilling},
		{"deletion protection off against config", func(t *testing.T, rs []gate.Resource, o *gate.Options) []gate.Resource {
			first(rs, gate.TypeTable, nil).Inputs["deletionProtectionEnabled"] = false
			return rs
		}, gate.RuleTableDeletion},
		{"production always needs deletion protection", func(t *testing.T, rs []gate.Resource, o *gate.Options) []gate.Resource {
			o.Environment, o.DeletionProtection = "production", false
			for i := range rs {
				if rs[i].Type == gate.TypeTable {
					rs[i].Inputs["deletionProtectionEnabled"] = false
				}
			}
			return rs
		}, gate.RuleTableDeletion},
		{"protect off", func(t *testing.T, rs []gate.Resource, o *gate.Options) []gate.Resource {
			first(rs, gate.TypeTable, nil).Protect = false
			return rs
		}, gate.RuleTableProtect},
		{"a table dropped", func(t *testing.T, rs []gate.Resource, o *gate.Options) []gate.Resource {
			first(rs, gate.TypeTable, nil).Type = "aws:s3/bucket:Bucket"
			return rs
		}, gate.RuleTableCount},
		{"key rotation off", func(t *testing.T, rs []gate.Resource, o *gate.Options) []gate.Resource {
			first(rs, gate.TypeKey, nil).Inputs["enableKeyRotation"] = false
			return rs
		}, gate.RuleKeyRotation},
		{"topic unencrypted", func(t *testing.T, rs []gate.Resource, o *gate.Options) []gate.Resource {
			delete(first(rs, gate.TypeTopic, nil).Inputs, "kmsMasterKeyId")
			return rs
		}, gate.RuleTopicEncrypted},
		{"alarm without actions", func(t *testing.T, rs []gate.Resource, o *gate.Options) []gate.Resource {
			first(rs, gate.TypeAlarm, nil).Inputs["alarmActions"] = []any{}
			return rs
		}, gate.RuleAlarmActions},
		{"alarm notifies another topic", func(t *testing.T, rs []gate.Resource, o *gate.Options) []gate.Resource {
			first(rs, gate.TypeAlarm, nil).Inputs["okActions"] = []any{"arn:aws:sns:us-east-1:1:someone-else"}
			return rs
		}, gate.RuleAlarmActions},
		{"alarm missing data breaching", func(t *testing.T, rs []gate.Resource, o *gate.Options) []gate.Resource {
			first(rs, gate.TypeAlarm, nil).Inputs["treatMissingData"] = "missing"
			return rs
		}, gate.RuleAlarmMissingData},
		{"an alarm dropped", func(t *testing.T, rs []gate.Resource, o *gate.Options) []gate.Resource {
			first(rs, gate.TypeAlarm, nil).Op = gate.OpDelete
			return rs
		}, gate.RuleAlarmCount},
		{"audience not exact", func(t *testing.T, rs []gate.Resource, o *gate.Options) []gate.Resource {
			r := first(rs, gate.TypeRole, roleNamed("mirror-dissonance-staging-github-deploy"))
			setPolicy(t, r, "assumeRolePolicy", func(doc map[string]any) {
				st := doc["Statement"].([]any)[0].(map[string]any)
				st["Condition"].(map[string]any)["StringEquals"].(map[string]any)["token.actions.githubusercontent.com:aud"] = "anything"
			})
			return rs
		}, gate.RuleOIDCAudience},
		{"several audiences", func(t *testing.T, rs []gate.Resource, o *gate.Options) []gate.Resource {
			r := first(rs, gate.TypeRole, roleNamed("mirror-dissonance-staging-github-deploy"))
			setPolicy(t, r, "assumeRolePolicy", func(doc map[string]any) {
				st := doc["Statement"].([]any)[0].(map[string]any)
				st["Condition"].(map[string]any)["StringEquals"].(map[string]any)["token.actions.githubusercontent.com:aud"] = []any{"sts.amazonaws.com", "api://other"}
			})
			return rs
		}, gate.RuleOIDCAudience},
		{"an audience added through another operator", func(t *testing.T, rs []gate.Resource, o *gate.Options) []gate.Resource {
			r := first(rs, gate.TypeRole, roleNamed("mirror-dissonance-staging-github-deploy"))
			setPolicy(t, r, "assumeRolePolicy", func(doc map[string]any) {
				st := doc["Statement"].([]any)[0].(map[string]any)
				st["Condition"].(map[string]any)["ForAnyValue:StringLike"] = map[string]any{"token.actions.githubusercontent.com:aud": []any{"*"}}
			})
			return rs
		}, gate.RuleOIDCAudience},
		{"a second federated statement without the audience", func(t *testing.T, rs []gate.Resource, o *gate.Options) []gate.Resource {
			r := first(rs, gate.TypeRole, roleNamed("mirror-dissonance-staging-github-deploy"))
			setPolicy(t, r, "assumeRolePolicy", func(doc map[string]any) {
				sts := doc["Statement"].([]any)
				st := map[string]any{}
				for k, v := range sts[0].(map[string]any) {
					st[k] = v
				}
				st["Condition"] = map[string]any{"StringEquals": map[string]any{"token.actions.githubusercontent.com:sub": "repo:mirror-dissonance/mirror-infra:ref:refs/heads/main"}}
				doc["Statement"] = append(sts, st)
			})
			return rs
		}, gate.RuleOIDCAudience},
		{"the OIDC provider accepts a second audience", func(t *testing.T, rs []gate.Resource, o *gate.Options) []gate.Resource {
			first(rs, gate.TypeOIDCProvider, nil).Inputs["clientIdLists"] = []any{"sts.amazonaws.com", "api://other"}
			return rs
		}, gate.RuleOIDCAudience},
		{"wildcard subject via StringLike", func(t *testing.T, rs []gate.Resource, o *gate.Options) []gate.Resource {
			r := first(rs, gate.TypeRole, roleNamed("mirror-dissonance-staging-github-deploy"))
			setPolicy(t, r, "assumeRolePolicy", func(doc map[string]any) {
				st := doc["Statement"].([]any)[0].(map[string]any)
				st["Condition"].(map[string]any)["StringLike"] = map[string]any{"token.actions.githubusercontent.com:sub": "repo:acme/*"}
			})
			return rs
		}, gate.RuleOIDCSubject},
		{"subject with a ? wildcard", func(t *testing.T, rs []gate.Resource, o *gate.Options) []gate.Resource {
			r := first(rs, gate.TypeRole, roleNamed("mirror-dissonance-staging-github-deploy"))
			setPolicy(t, r, "assumeRolePolicy", func(doc map[string]any) {
				st := doc["Statement"].([]any)[0].(map[string]any)
				st["Condition"].(map[string]any)["StringEquals"].(map[string]any)["token.actions.githubusercontent.com:sub"] = "repo:mirror-dissonance/mirror-infr?:ref:refs/heads/main"
			})
			return rs
		}, gate.RuleOIDCSubject},
		{"deploy role trusts pull_request through StringLike", func(t *testing.T, rs []gate.Resource, o *gate.Options) []gate.Resource {
			r := first(rs, gate.TypeRole, roleNamed("mirror-dissonance-staging-github-deploy"))
			setPolicy(t, r, "assumeRolePolicy", func(doc map[string]any) {
				st := doc["Statement"].([]any)[0].(map[string]any)
				st["Condition"].(map[string]any)["StringLike"] = map[string]any{"token.actions.githubusercontent.com:sub": "repo:mirror-dissonance/mirror-infra:pull_request"}
			})
			return rs
		}, gate.RuleWriteRolePR},
		{"preview role allows everything but a few actions", func(t *testing.T, rs []gate.Resource, o *gate.Options) []gate.Resource {
			r := first(rs, gate.TypeRolePolicy, func(r gate.Resource) bool { return r.Name == "github-preview-policy" })
			setPolicy(t, r, "policy", func(doc map[string]any) {
				doc["Statement"] = append(doc["Statement"].([]any), map[string]any{"Effect": "Allow", "NotAction": []any{"iam:*"}, "Resource": []any{"arn:aws:dynamodb:us-east-1:123456789012:table/x"}})
			})
			return rs
		}, gate.RulePreviewReadOnly},
		{"deploy role trusts pull_request", func(t *testing.T, rs []gate.Resource, o *gate.Options) []gate.Resource {
			r := first(rs, gate.TypeRole, roleNamed("mirror-dissonance-staging-github-deploy"))
			setPolicy(t, r, "assumeRolePolicy", func(doc map[string]any) {
				st := doc["Statement"].([]any)[0].(map[string]any)
				st["Condition"].(map[string]any)["StringEquals"].(map[string]any)["token.actions.githubusercontent.com:sub"] = []any{"repo:mirror-dissonance/mirror-infra:pull_request"}
			})
			return rs
		}, gate.RuleWriteRolePR},
		{"preview role gets a write action", func(t *testing.T, rs []gate.Resource, o *gate.Options) []gate.Resource {
			r := first(rs, gate.TypeRolePolicy, func(r gate.Resource) bool { return r.Name == "github-preview-policy" })
			setPolicy(t, r, "policy", func(doc map[string]any) {
				st := doc["Statement"].([]any)[0].(map[string]any)
				st["Action"] = []any{"dynamodb:DeleteTable"}
			})
			return rs
		}, gate.RulePreviewReadOnly},
		{"star on star", func(t *testing.T, rs []gate.Resource, o *gate.Options) []gate.Resource {
			r := first(rs, gate.TypeRolePolicy, func(r gate.Resource) bool { return r.Name == "github-deploy-policy" })
			setPolicy(t, r, "policy", func(doc map[string]any) {
				doc["Statement"] = append(doc["Statement"].([]any), map[string]any{"Effect": "Allow", "Action": "*", "Resource": "*"})
			})
			return rs
		}, gate.RuleNoStarPolicy},
		{"replace of a table", func(t *testing.T, rs []gate.Resource, o *gate.Options) []gate.Resource {
			first(rs, gate.TypeTable, nil).Op = gate.OpReplace
			return rs
		}, gate.RuleStatefulChange},
		{"delete of the key", func(t *testing.T, rs []gate.Resource, o *gate.Options) []gate.Resource {
			first(rs, gate.TypeKey, nil).Op = gate.OpDelete
			return rs
		}, gate.RuleStatefulChange},
		{"replace of a table named by the operator", func(t *testing.T, rs []gate.Resource, o *gate.Options) []gate.Resource {
			r := first(rs, gate.TypeTable, nil)
			r.Op = gate.OpReplace
			o.AllowStateful = []string{r.Name}
			return rs
		}, ""},
		{"update of an alarm threshold", func(t *testing.T, rs []gate.Resource, o *gate.Options) []gate.Resource {
			r := first(rs, gate.TypeAlarm, nil)
			r.Op, r.Inputs["threshold"], r.Diffs = gate.OpUpdate, 50.0, []string{"threshold"}
			return rs
		}, ""},
		{"replace of a stateless alarm", func(t *testing.T, rs []gate.Resource, o *gate.Options) []gate.Resource {
			first(rs, gate.TypeAlarm, nil).Op = gate.OpReplace
			return rs
		}, ""},
		{"baselines bucket dropped", func(t *testing.T, rs []gate.Resource, o *gate.Options) []gate.Resource {
			first(rs, gate.TypeBucket, nil).Op = gate.OpDelete
			o.AllowStateful = []string{"baselines"} // named, so only the missing bucket fails
			return rs
		}, gate.RuleBucketPresent},
		{"baselines bucket unprotected", func(t *testing.T, rs []gate.Resource, o *gate.Options) []gate.Resource {
			first(rs, gate.TypeBucket, nil).Protect = false
			return rs
		}, gate.RuleBucketProtect},
		{"baselines versioning suspended", func(t *testing.T, rs []gate.Resource, o *gate.Options) []gate.Resource {
			first(rs, gate.TypeBucketVersioning, nil).Inputs["versioningConfiguration"] = map[string]any{"status": "Suspended"}
			return rs
		}, gate.RuleBucketVersioned},
		{"baselines versioning resource dropped", func(t *testing.T, rs []gate.Resource, o *gate.Options) []gate.Resource {
			first(rs, gate.TypeBucketVersioning, nil).Op = gate.OpDelete
			return rs
		}, gate.RuleBucketVersioned},
		{"baselines versioning of another bucket", func(t *testing.T, rs []gate.Resource, o *gate.Options) []gate.Resource {
			first(rs, gate.TypeBucketVersioning, nil).Inputs["bucket"] = "someone-elses-bucket"
			return rs
		}, gate.RuleBucketVersioned},
		{"baselines SSE-S3 instead of KMS", func(t *testing.T, rs []gate.Resource, o *gate.Options) []gate.Resource {
			sseRule(rs)["applyServerSideEncryptionByDefault"] = map[string]any{"sseAlgorithm": "AES256"}
			return rs
		}, gate.RuleBucketSSE},
		{"baselines with the AWS managed key", func(t *testing.T, rs []gate.Resource, o *gate.Options) []gate.Resource {
			sseRule(rs)["applyServerSideEncryptionByDefault"] = map[string]any{"sseAlgorithm": "aws:kms", "kmsMasterKeyId": "alias/aws/s3"}
			return rs
		}, gate.RuleBucketSSE},
		{"baselines with another customer key", func(t *testing.T, rs []gate.Resource, o *gate.Options) []gate.Resource {
			sseRule(rs)["applyServerSideEncryptionByDefault"] = map[string]any{"sseAlgorithm": "aws:kms", "kmsMasterKeyId": "arn:aws:kms:us-east-1:123456789012:key/other"}
			return rs
		}, gate.RuleBucketSSE},
		{"baselines with the environment alias", func(t *testing.T, rs []gate.Resource, o *gate.Options) []gate.Resource {
			sseRule(rs)["applyServerSideEncryptionByDefault"] = map[string]any{"sseAlgorithm": "aws:kms", "kmsMasterKeyId": "alias/mirror-dissonance-staging"}
			return rs
		}, ""},
		{"baselines bucket key off", func(t *testing.T, rs []gate.Resource, o *gate.Options) []gate.Resource {
			sseRule(rs)["bucketKeyEnabled"] = false
			return rs
		}, gate.RuleBucketSSE},
		{"baselines public policy allowed", func(t *testing.T, rs []gate.Resource, o *gate.Options) []gate.Resource {
			first(rs, gate.TypeBucketPublicAccessBlock, nil).Inputs["blockPublicPolicy"] = false
			return rs
		}, gate.RuleBucketPublicAccess},
		{"baselines public access block dropped", func(t *testing.T, rs []gate.Resource, o *gate.Options) []gate.Resource {
			first(rs, gate.TypeBucketPublicAccessBlock, nil).Op = gate.OpDelete
			return rs
		}, gate.RuleBucketPublicAccess},
		{"baselines policy allows plain HTTP", func(t *testing.T, rs []gate.Resource, o *gate.Options) []gate.Resource {
			setPolicy(t, first(rs, gate.TypeBucketPolicy, nil), "policy", func(doc map[string]any) {
				st := doc["Statement"].([]any)[0].(map[string]any)
				st["Condition"] = map[string]any{"Bool": map[string]any{"aws:SecureTransport": "true"}}
			})
			return rs
		}, gate.RuleBucketTLS},
		{"baselines policy dropped", func(t *testing.T, rs []gate.Resource, o *gate.Options) []gate.Resource {
			first(rs, gate.TypeBucketPolicy, nil).Op = gate.OpDelete
			return rs
		}, gate.RuleBucketTLS},
		{"replace of the baselines bucket", func(t *testing.T, rs []gate.Resource, o *gate.Options) []gate.Resource {
			first(rs, gate.TypeBucket, nil).Op = gate.OpReplace
			return rs
		}, gate.RuleStatefulChange},
		{"replace of the baselines bucket named by the operator", func(t *testing.T, rs []gate.Resource, o *gate.Options) []gate.Resource {
			first(rs, gate.TypeBucket, nil).Op = gate.OpReplace
			o.AllowStateful = []string{"baselines"}
			return rs
		}, ""},
		{"update of the lifecycle rule", func(t *testing.T, rs []gate.Resource, o *gate.Options) []gate.Resource {
			r := first(rs, gate.TypeBucketLifecycle, nil)
			r.Op, r.Diffs = gate.OpUpdate, []string{"rules"}
			return rs
		}, ""},
		{"too many resources", func(t *testing.T, rs []gate.Resource, o *gate.Options) []gate.Resource {
			for i := 0; i < gate.DefaultMaxResources; i++ {
				rs = append(rs, gate.Resource{Type: "aws:s3/bucket:Bucket", Name: "extra", Op: gate.OpCreate})
			}
			return rs
		}, gate.RuleResourceCount},
		{"exactly the largest count of the band", func(t *testing.T, rs []gate.Resource, o *gate.Options) []gate.Resource {
			o.MaxResources = awsCount(rs)
			return rs
		}, ""},
		{"exactly the smallest count of the band", func(t *testing.T, rs []gate.Resource, o *gate.Options) []gate.Resource {
			o.MinResources = awsCount(rs)
			return rs
		}, ""},
		{"baselines bucket key not set", func(t *testing.T, rs []gate.Resource, o *gate.Options) []gate.Resource {
			delete(sseRule(rs), "bucketKeyEnabled")
			return rs
		}, gate.RuleBucketSSE},
		{"too few resources", func(t *testing.T, rs []gate.Resource, o *gate.Options) []gate.Resource {
			// A band the plan cannot meet proves the lower bound bites.
			o.MinResources = len(rs) + 1
			return rs
		}, gate.RuleResourceCount},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			base, opts := baseline(t)
			rs := tc.mutate(t, clone(t, base), &opts)
			fs := gate.Evaluate(rs, opts)
			if tc.wantRule == "" {
				if gate.Failed(fs) {
					t.Fatalf("want pass, got %+v", fs)
				}
				return
			}
			var hit bool
			for _, f := range fs {
				if f.Rule == tc.wantRule && !f.Note && !f.Unverified {
					hit = true
					if f.Message == "" {
						t.Error("finding without a message")
					}
				}
			}
			if !hit || !gate.Failed(fs) {
				t.Fatalf("want rule %s to fail, got %+v", tc.wantRule, fs)
			}
		})
	}
}
