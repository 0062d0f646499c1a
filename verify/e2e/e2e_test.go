package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/mirror-dissonance/mirror-infra/emulator"
	"github.com/mirror-dissonance/mirror-infra/oracle/breaker"
	"github.com/mirror-dissonance/mirror-infra/oracle/consent"
	"github.com/mirror-dissonance/mirror-infra/oracle/drift"
	"github.com/mirror-dissonance/mirror-infra/oracle/fpevents"
	"github.com/mirror-dissonance/mirror-infra/oracle/nonce"
	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/spec"
	"github.com/mirror-dissonance/mirror-infra/verify/e2e"
)

// requestsPerCycle is the number of AWS requests one passing cycle makes. A
// change here is a change in the cycle's cost against a live stack: update
// it deliberately. Breakdown:
//
//	SSM GetParametersByPath  2  nonce step, Oracle nonce load
//	DynamoDB GetItem         5  consent grant read, consent check, Oracle consent, cleanup checks (consent, counter)
//	DynamoDB PutItem         6  the lease, consent grant, 3 PR events, 1 drift event (renewals: UpdateItem every Lease/3)
//	DynamoDB UpdateItem      2  block counter increment, review
//	DynamoDB Query          16  Oracle FP history (2 rules), by rule (2), by finding (3), review read-back and stats (2),
//	                            drift read-back (1), cleanup by rule (3) and its verification (3)
//	DynamoDB DeleteItem      7  4 events, consent record, block counter, the lease
//	S3 PutObject             1  the run's baseline
//	S3 GetObject             1  the baseline read back before comparing
//	S3 ListObjectVersions    2  cleanup: the versions to purge, then proof none is left
//	S3 DeleteObject          1  the baseline's one version
//	STS GetCallerIdentity    1  the reachability probe, before any step
var requestsPerCycle = map[string]int{
	"sts.GetCallerIdentity":   1,
	"ssm.GetParametersByPath": 2, "dynamodb.GetItem": 5, "dynamodb.PutItem": 6, "dynamodb.UpdateItem": 2, "dynamodb.Query": 16,
	"dynamodb.DeleteItem": 7,
	"s3.PutObject":        1, "s3.GetObject": 1, "s3.ListObjectVersions": 2, "s3.DeleteObject": 1,
}

// setup provisions an environment holding a nonce and some unrelated items
// that the cycle must leave alone.
func setup(tb testing.TB, withNonce bool) *emulator.TestEnv {
	tb.Helper()
	return setupOn(tb, withNonce, func(tb testing.TB, o emulator.SeedOptions) *emulator.TestEnv { return emulator.NewTestEnv(tb, o) })
}

// setupOn is setup in the environment newEnv makes (emulator.NewTestEnv,
// or emulator.NewDynaliteTestEnv for DynamoDB on dynalite).
func setupOn(tb testing.TB, withNonce bool, newEnv func(testing.TB, emulator.SeedOptions) *emulator.TestEnv) *emulator.TestEnv {
	tb.Helper()
	ctx := context.Background()
	e := newEnv(tb, emulator.SeedOptions{SkipNonce: true})
	if withNonce {
		if _, _, err := nonce.New(e.SSM(), e.Env, e.Target().NoncePrefix, e.Target().KMSKey, time.Hour).Bootstrap(ctx); err != nil {
			tb.Fatal(err)
		}
	}
	fp := fpevents.New(e.DynamoDB(), e.Target().FPEventsTable)
	if _, err := fp.Record(ctx, fpevents.Event{RuleID: "prod-rule", RuleVersion: "3", FindingID: "prod-finding", Outcome: "warn",
		Context: fpevents.Context{Repo: "acme/api", EventType: "pull_request", PRNumber: 9}}); err != nil {
		tb.Fatal(err)
	}
	if err := consent.New(e.DynamoDB(), e.Target().ConsentTable).Grant(ctx, "acme", "pull_request_analysis", consent.Grant{By: "admin", PolicyVersion: "1"}); err != nil {
		tb.Fatal(err)
	}
	if _, err := breaker.NewCounter(e.DynamoDB(), e.Target().BlockCounterTable).Increment(ctx, "prod-rule", consent.OrgID("acme")); err != nil {
		tb.Fatal(err)
	}
	// An unrelated repository's baseline the cycle must leave alone.
	if _, err := (drift.Store{Client: e2e.NewClients(e.NoRetries()).S3, Bucket: e.Target().BaselinesBucket}).Put(ctx, "acme/api", drift.Baseline{Version: drift.FormatVersion}); err != nil {
		tb.Fatal(err)
	}
	e.Emulator.ResetCounts()
	return e
}

// snapshot is every item of the three tables and every object version in
// the baselines bucket.
func snapshot(t *testing.T, e *emulator.TestEnv) map[string][]string {
	t.Helper()
	ctx := context.Background()
	s, err := e.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out, err := s3.NewFromConfig(e.NoRetries(), func(o *s3.Options) { o.UsePathStyle = true }).
		ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(e.Target().BaselinesBucket)})
	if err != nil {
		t.Fatal(err)
	}
	var objs []string
	for _, v := range out.Versions {
		objs = append(objs, aws.ToString(v.Key)+"@"+aws.ToString(v.VersionId))
	}
	for _, m := range out.DeleteMarkers {
		objs = append(objs, aws.ToString(m.Key)+"@"+aws.ToString(m.VersionId)+" (delete marker)")
	}
	sort.Strings(objs)
	s["s3://"+e.Target().BaselinesBucket] = objs
	return s
}

func statuses(cs []report.Check) map[string]report.Status {
	m := map[string]report.Status{}
	for _, c := range cs {
		m[c.ID] = c.Status
	}
	return m
}

func assertNoNonce(t *testing.T, e *emulator.TestEnv, checks []report.Check, extra ...string) {
	t.Helper()
	var buf bytes.Buffer
	for _, x := range extra {
		buf.WriteString(x)
	}
	r := report.Report{Command: "e2e", Checks: checks}
	if err := r.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteText(&buf, false); err != nil {
		t.Fatal(err)
	}
	out, err := e.SSM().GetParametersByPath(context.Background(), &ssm.GetParametersByPathInput{Path: aws.String(e.Target().NonceParameterPath()), WithDecryption: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range out.Parameters {
		if strings.Contains(buf.String(), aws.ToString(p.Value)) {
			t.Fatal("the report contains a nonce value")
		}
	}
}

func TestCyclePasses(t *testing.T) {
	ctx := context.Background()
	e := setup(t, true)
	before := snapshot(t, e)
	e.Emulator.ResetCounts()
	checks := e2e.Run(ctx, e2e.NewClients(e.NoRetries()), e.Target(), e2e.Options{TempDir: t.TempDir()}).Checks
	counts := e.Emulator.Counts()
	requests, ops := counts.Total, counts.ByOperation
	for _, c := range checks {
		t.Logf("%-24s %s  %s", c.ID, c.Status, c.Reason)
		if c.Status != report.Pass {
			t.Errorf("%s: %s %s", c.ID, c.Status, c.Reason)
		}
	}
	if len(checks) != 1+len(e2e.Steps) || checks[0].ID != "e2e" {
		t.Fatalf("%d checks (first %q), want the summary and %d steps", len(checks), checks[0].ID, len(e2e.Steps))
	}
	if after := snapshot(t, e); !reflect.DeepEqual(before, after) {
		t.Fatalf("tables changed:\nbefore %v\nafter  %v", before, after)
	}
	t.Logf("requests per cycle: %d %v", requests, ops)
	if !reflect.DeepEqual(ops, requestsPerCycle) {
		t.Errorf("the cycle made %d requests %v, want %v", requests, ops, requestsPerCycle)
	}
	assertNoNonce(t, e, checks)
}

// Each fault hits an operation of one step but none that cleanup uses
// (cleanup reads by rule, not through the index, and only deletes), as a
// failure of one permission or one index would.
func TestFailingStepStillCleansUp(t *testing.T) {
	tests := []struct {
		name   string
		nonce  bool
		fault  *emulator.FaultRule
		table  string // the table suffix the fault is limited to, if any
		failed string
		infra  bool
	}{
		{"no nonce", false, nil, "", e2e.StepNonce, false},
		{"nonce unreachable", true, &emulator.FaultRule{Operation: "GetParametersByPath"}, "", e2e.StepNonce, true},
		{"FP writes fail", true, &emulator.FaultRule{Operation: "PutItem"}, spec.TableFPEvents, e2e.StepPullRequest, true},
		{"finding index unreachable", true, &emulator.FaultRule{Operation: "Query", BodyContains: fpevents.FindingIndex}, "", e2e.StepReadFinding, true},
		{"reviews fail", true, &emulator.FaultRule{Operation: "UpdateItem", BodyContains: "isFalsePositive"}, "", e2e.StepMarkFP, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			e := setup(t, tc.nonce)
			before := snapshot(t, e)
			if tc.fault != nil {
				rule := *tc.fault
				if tc.table != "" {
					rule.BodyContains = e.Seeded.Names.Table(tc.table)
				}
				e.Fail(t, rule)
			}
			logs := &bytes.Buffer{}
			checks := e2e.Run(ctx, e2e.NewClients(e.NoRetries()), e.Target(), e2e.Options{TempDir: t.TempDir(), Logger: slog.New(slog.NewTextHandler(logs, nil))}).Checks
			e.Heal()
			st := statuses(checks)
			if st["e2e"] != report.Fail || !strings.Contains(checks[0].Reason, tc.failed) {
				t.Fatalf("summary %s %q, want FAIL naming %s", st["e2e"], checks[0].Reason, tc.failed)
			}
			if checks[0].Infra != tc.infra {
				t.Errorf("summary infra=%v, want %v", checks[0].Infra, tc.infra)
			}
			if st["e2e."+tc.failed] != report.Fail {
				t.Fatalf("step %s is %s, want FAIL", tc.failed, st["e2e."+tc.failed])
			}
			after := false
			for _, s := range e2e.Steps[:len(e2e.Steps)-1] {
				if s == tc.failed {
					after = true
					continue
				}
				if after && st["e2e."+s] != report.Skip {
					t.Errorf("step %s after the failure is %s, want SKIP", s, st["e2e."+s])
				}
			}
			if st["e2e.cleanup"] != report.Pass {
				t.Fatalf("cleanup %s: %s", st["e2e.cleanup"], checkReason(checks, "e2e.cleanup"))
			}
			if got := snapshot(t, e); !reflect.DeepEqual(before, got) {
				t.Fatalf("tables changed:\nbefore %v\nafter  %v", before, got)
			}
			if tc.nonce {
				assertNoNonce(t, e, checks, logs.String())
			}
		})
	}
}

func checkReason(cs []report.Check, id string) string {
	for _, c := range cs {
		if c.ID == id {
			return c.Reason
		}
	}
	return ""
}

func TestCleanupFailureIsReported(t *testing.T) {
	e := setup(t, true)
	e.Fail(t, emulator.FaultRule{Operation: "DeleteItem"})
	checks := e2e.Run(context.Background(), e2e.NewClients(e.NoRetries()), e.Target(), e2e.Options{TempDir: t.TempDir()}).Checks
	st := statuses(checks)
	if st["e2e"] != report.Fail || st["e2e.cleanup"] != report.Fail || !strings.Contains(checks[0].Reason, "cleanup") || !checks[0].Infra {
		t.Fatalf("summary %s %q (infra %v), cleanup %s; want an infrastructure FAIL naming cleanup", st["e2e"], checks[0].Reason, checks[0].Infra, st["e2e.cleanup"])
	}
	for _, s := range e2e.Steps[:len(e2e.Steps)-1] {
		if st["e2e."+s] != report.Pass {
			t.Errorf("step %s is %s, want PASS", s, st["e2e."+s])
		}
	}
}

// TestContextCancelledStillCleansUp: without the probe (Clients.STS nil)
// a cancelled run still attempts every write's cleanup and leaves nothing.
func TestContextCancelledStillCleansUp(t *testing.T) {
	e := setup(t, true)
	before := snapshot(t, e)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	clients := e2e.NewClients(e.NoRetries())
	clients.STS = nil
	checks := e2e.Run(ctx, clients, e.Target(), e2e.Options{TempDir: t.TempDir()}).Checks
	st := statuses(checks)
	if st["e2e"] != report.Fail || st["e2e.cleanup"] != report.Pass {
		t.Fatalf("summary %s, cleanup %s (%s)", st["e2e"], st["e2e.cleanup"], checkReason(checks, "e2e.cleanup"))
	}
	if got := snapshot(t, e); !reflect.DeepEqual(before, got) {
		t.Fatalf("tables changed")
	}
}

func BenchmarkCycle(b *testing.B) {
	ctx := context.Background()
	e := setup(b, true)
	clients := e2e.NewClients(e.NoRetries())
	dir := b.TempDir()
	b.ReportAllocs()
	for b.Loop() {
		checks := e2e.Run(ctx, clients, e.Target(), e2e.Options{TempDir: dir}).Checks
		if checks[0].Status != report.Pass {
			raw, _ := json.Marshal(checks)
			b.Fatalf("cycle failed: %s", raw)
		}
	}
}
