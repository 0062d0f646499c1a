package oracle_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/mirror-dissonance/mirror-infra/emulator"
	"github.com/mirror-dissonance/mirror-infra/oracle"
	"github.com/mirror-dissonance/mirror-infra/oracle/breaker"
	"github.com/mirror-dissonance/mirror-infra/oracle/consent"
	"github.com/mirror-dissonance/mirror-infra/oracle/fpevents"
	"github.com/mirror-dissonance/mirror-infra/oracle/nonce"
	"github.com/mirror-dissonance/mirror-infra/spec"
)

type fixture struct {
	env     *emulator.TestEnv
	o       *oracle.Oracle
	fp      *fpevents.Store
	consent *consent.Store
	nonce   *nonce.Store
	logs    *bytes.Buffer
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	e := emulator.NewTestEnv(t, emulator.SeedOptions{SkipNonce: true})
	f := &fixture{
		env:     e,
		fp:      fpevents.New(e.DynamoDB(), e.Target().FPEventsTable),
		consent: consent.New(e.DynamoDB(), e.Target().ConsentTable),
		nonce:   nonce.New(e.SSM(), e.Env, e.Target().NoncePrefix, e.Target().KMSKey, time.Hour),
		logs:    &bytes.Buffer{},
	}
	if _, _, err := f.nonce.Bootstrap(ctx); err != nil {
		t.Fatal(err)
	}
	if err := f.consent.Grant(ctx, "acme", oracle.DefaultConsentResource, consent.Grant{By: "admin", PolicyVersion: "2026-01"}); err != nil {
		t.Fatal(err)
	}
	f.o = &oracle.Oracle{
		Nonce: f.nonce, Consent: f.consent, FP: f.fp,
		Counter: breaker.NewCounter(e.DynamoDB(), e.Target().BlockCounterTable),
		Logger:  slog.New(slog.NewTextHandler(f.logs, nil)),
	}
	e.Emulator.ResetCounts()
	return f
}

func pr(findings ...oracle.Finding) oracle.PullRequest {
	return oracle.PullRequest{Org: "acme", Repo: "api", Number: 42, Branch: "feature/x", Commit: "0123abcd", Author: "mallory", Findings: findings}
}

func finding(rule, id, sev string) oracle.Finding {
	return oracle.Finding{RuleID: rule, RuleVersion: "1.2", FindingID: id, Severity: sev}
}

// nonceValues reads the stored nonce values so tests can assert that none
// leaks into output; they are never printed.
func (f *fixture) nonceValues(t *testing.T) []string {
	t.Helper()
	out, err := f.env.SSM().GetParametersByPath(context.Background(), &ssm.GetParametersByPathInput{
		Path: aws.String(f.env.Target().NonceParameterPath()), WithDecryption: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	var vs []string
	for _, p := range out.Parameters {
		vs = append(vs, aws.ToString(p.Value))
	}
	if len(vs) == 0 {
		t.Fatal("no nonce values to check against")
	}
	return vs
}

func (f *fixture) assertNoSecrets(t *testing.T, d oracle.Decision, err error) {
	t.Helper()
	raw, _ := json.Marshal(d)
	all := string(raw) + fmt.Sprint(err) + f.logs.String()
	for _, v := range f.nonceValues(t) {
		if strings.Contains(all, v) {
			t.Fatal("a nonce value appears in the decision, the error or the logs")
		}
	}
	if strings.Contains(string(raw), "mallory") {
		t.Fatal("the author appears unredacted in the decision")
	}
}

func (f *fixture) eventCount(t *testing.T) int {
	t.Helper()
	out, err := f.env.DynamoDB().Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(f.env.Target().FPEventsTable)})
	if err != nil {
		t.Fatal(err)
	}
	return len(out.Items)
}

func TestDecisionsFromSeverity(t *testing.T) {
	tests := []struct {
		name     string
		findings []oracle.Finding
		want     oracle.Outcome
		outcomes []string
	}{
		{"no findings", nil, oracle.Allow, nil},
		{"low passes", []oracle.Finding{finding("R-low", "f1", "low")}, oracle.Allow, []string{"pass"}},
		{"medium warns", []oracle.Finding{finding("R-med", "f1", "medium"), finding("R-low", "f2", "info")}, oracle.Warn, []string{"warn", "pass"}},
		{"high blocks", []oracle.Finding{finding("R-med", "f1", "medium"), finding("R-high", "f2", "HIGH")}, oracle.Block, []string{"warn", "block"}},
		{"critical blocks", []oracle.Finding{finding("R-crit", "f1", "critical")}, oracle.Block, []string{"block"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t)
			d, err := f.o.Evaluate(ctx, pr(tc.findings...))
			if err != nil {
				t.Fatal(err)
			}
			if d.Outcome != tc.want || d.FailedClosed || len(d.Failures) != 0 {
				t.Fatalf("decision %s (failed closed %v, failures %v), want %s", d.Outcome, d.FailedClosed, d.Failures, tc.want)
			}
			if len(d.Findings) != len(tc.outcomes) || len(d.Events()) != len(tc.outcomes) {
				t.Fatalf("%d finding decisions and %d events, want %d", len(d.Findings), len(d.Events()), len(tc.outcomes))
			}
			for i, fd := range d.Findings {
				if fd.Outcome != tc.outcomes[i] {
					t.Errorf("finding %s: %s, want %s", fd.FindingID, fd.Outcome, tc.outcomes[i])
				}
				evs, err := f.fp.ByFinding(ctx, fd.FindingID)
				if err != nil {
					t.Fatal(err)
				}
				if len(evs) != 1 || evs[0].Outcome != tc.outcomes[i] || evs[0].Context.PRNumber != 42 || evs[0].Context.Repo != "acme/api" || evs[0].Context.EventType != fpevents.EventPullRequest {
					t.Fatalf("events of %s: %+v", fd.FindingID, evs)
				}
			}
			if f.eventCount(t) != len(tc.outcomes) {
				t.Fatalf("%d events in the table, want %d", f.eventCount(t), len(tc.outcomes))
			}
			f.assertNoSecrets(t, d, err)
		})
	}
}

func TestSignatureAndRedaction(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	p := pr(finding("R1", "f1", "high"))
	d, err := f.o.Evaluate(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	set, err := f.nonce.ValidSet(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d.Signature == nil || d.AuthorToken == nil {
		t.Fatalf("signature %v, author token %v", d.Signature, d.AuthorToken)
	}
	if v, err := set.VerifyRedacted(*d.Signature, oracle.SignedPayload(p, d)); err != nil || v != set.Newest().N {
		t.Fatalf("decision signature: v%d, %v; want valid with the newest version", v, err)
	}
	if d.Signature.Brand != nonce.Brand || d.Signature.Version != nonce.VersionName(set.Newest().N) || d.Signature.Value != oracle.SignedPayload(p, d) {
		t.Errorf("signature not in the Oracle's shape: %+v", d.Signature)
	}
	tampered := d
	tampered.Outcome = oracle.Allow
	if _, err := set.VerifyRedacted(*d.Signature, oracle.SignedPayload(p, tampered)); err == nil {
		t.Fatal("a tampered decision verifies")
	}
	if d.AuthorToken.Value != oracle.Redacted || strings.Contains(d.AuthorToken.MAC, "mallory") {
		t.Fatalf("author token %+v", d.AuthorToken)
	}
	if _, err := set.VerifyRedacted(*d.AuthorToken, p.Author); err != nil {
		t.Fatalf("author token does not verify against the author: %v", err)
	}
	again, err := f.o.Evaluate(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if *again.AuthorToken != *d.AuthorToken {
		t.Fatal("the same author redacts differently under the same nonce")
	}
}

func TestFPRateDowngradesBlock(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	// Six reviewed events of R-noisy: four false positives (rate 0.67).
	for i := range 6 {
		ev, err := f.fp.Record(ctx, fpevents.Event{RuleID: "R-noisy", RuleVersion: "1", FindingID: fmt.Sprintf("old-%d", i), Outcome: "block",
			Timestamp: time.Now().Add(-time.Duration(i+1) * time.Hour), Context: fpevents.Context{Repo: "acme/api", EventType: "pull_request"}})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.fp.Review(ctx, ev.Key(), "reviewer", i < 4); err != nil {
			t.Fatal(err)
		}
	}
	d, err := f.o.Evaluate(ctx, pr(finding("R-noisy", "new", "critical"), finding("R-clean", "other", "critical")))
	if err != nil {
		t.Fatal(err)
	}
	if d.Findings[0].Outcome != "warn" || !strings.Contains(strings.Join(d.Findings[0].Reasons, " "), "FP rate of 0.67") {
		t.Fatalf("noisy rule: %s %v, want warn with the FP rate", d.Findings[0].Outcome, d.Findings[0].Reasons)
	}
	if d.Findings[1].Outcome != "block" || d.Outcome != oracle.Block {
		t.Fatalf("clean rule: %s, overall %s; want block", d.Findings[1].Outcome, d.Outcome)
	}
}

func TestBreakerTurnsBlockIntoWarn(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.o.Config.Breaker = breaker.Breaker{Threshold: 2}
	// The Oracle trips at count >= threshold: the second block warns.
	for i, want := range []string{"block", "warn", "warn", "warn"} {
		d, err := f.o.Evaluate(ctx, pr(finding("R-hot", fmt.Sprintf("f%d", i), "critical")))
		if err != nil {
			t.Fatal(err)
		}
		fd := d.Findings[0]
		if fd.Outcome != want || fd.BlockCount != int64(i+1) {
			t.Fatalf("PR %d: %s with count %d, want %s with count %d", i, fd.Outcome, fd.BlockCount, want, i+1)
		}
		if want == "warn" && (d.Outcome != oracle.Warn || !strings.Contains(strings.Join(fd.Reasons, " "), "circuit breaker tripped")) {
			t.Fatalf("PR %d: decision %s, reasons %v; want warn saying the breaker tripped", i, d.Outcome, fd.Reasons)
		}
	}
}

// The error contract of SPEC 7: nonce read, consent check and FP write fail
// closed; FP read and block counter fail open, visibly.
func TestErrorContract(t *testing.T) {
	tests := []struct {
		name    string
		fault   emulator.FaultRule
		table   string // the table suffix the fault is limited to, if any
		dep     oracle.Dependency
		mode    oracle.Mode
		outcome oracle.Outcome
		events  int
	}{
		{"nonce unreachable", emulator.FaultRule{Operation: "GetParametersByPath"}, "", oracle.DepNonce, oracle.FailClosed, oracle.Block, 0},
		{"consent unreachable", emulator.FaultRule{Operation: "GetItem"}, spec.TableConsent, oracle.DepConsent, oracle.FailClosed, oracle.Block, 0},
		{"FP write fails", emulator.FaultRule{Operation: "PutItem"}, spec.TableFPEvents, oracle.DepFPWrite, oracle.FailClosed, oracle.Block, 0},
		{"FP read fails", emulator.FaultRule{Operation: "Query"}, spec.TableFPEvents, oracle.DepFPRead, oracle.FailOpen, oracle.Warn, 2},
		{"block counter fails", emulator.FaultRule{Operation: "UpdateItem"}, spec.TableBlockCounter, oracle.DepBlockCounter, oracle.FailOpen, oracle.Block, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t)
			findings := []oracle.Finding{finding("R-a", "fa", "medium"), finding("R-b", "fb", "low")}
			if tc.dep == oracle.DepBlockCounter {
				findings[0].Severity = "critical"
			}
			if tc.table != "" {
				tc.fault.BodyContains = f.env.Seeded.Names.Table(tc.table)
			}
			f.env.Fail(t, tc.fault)
			d, err := f.o.Evaluate(ctx, pr(findings...))
			f.env.Heal()
			if tc.mode == oracle.FailClosed {
				if !errors.Is(err, oracle.ErrFailClosed) || !d.FailedClosed {
					t.Fatalf("err %v, failed closed %v; want ErrFailClosed", err, d.FailedClosed)
				}
			} else if err != nil || d.FailedClosed {
				t.Fatalf("err %v, failed closed %v; want the flow to continue", err, d.FailedClosed)
			}
			if d.Outcome != tc.outcome {
				t.Fatalf("outcome %s, want %s (reasons %v)", d.Outcome, tc.outcome, d.Reasons)
			}
			if len(d.Failures) == 0 || d.Failures[0].Dependency != tc.dep || d.Failures[0].Mode != tc.mode || d.Failures[0].Error == "" {
				t.Fatalf("failures %+v, want %s %s first", d.Failures, tc.dep, tc.mode)
			}
			if !strings.Contains(strings.Join(d.Reasons, " "), "unavailable") && !strings.Contains(strings.Join(d.Reasons, " "), "refusing") {
				t.Fatalf("reasons %v do not say what happened", d.Reasons)
			}
			if n := f.eventCount(t); n != tc.events {
				t.Fatalf("%d FP events written, want %d", n, tc.events)
			}
			if !strings.Contains(f.logs.String(), string(tc.mode)) {
				t.Fatalf("the failure was not logged: %q", f.logs.String())
			}
			f.assertNoSecrets(t, d, err)
		})
	}
}

func TestConsentRefusal(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	tests := []struct {
		name  string
		setup func() error
		org   string
	}{
		{"never granted", func() error { return nil }, "initech"},
		{"revoked", func() error { return f.consent.Revoke(ctx, "acme", oracle.DefaultConsentResource) }, "acme"},
		{"expired", func() error { return f.consent.Expire(ctx, "acme", oracle.DefaultConsentResource) }, "acme"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.setup(); err != nil {
				t.Fatal(err)
			}
			p := pr(finding("R1", "f-"+tc.name, "low"))
			p.Org = tc.org
			d, err := f.o.Evaluate(ctx, p)
			if err != nil {
				t.Fatalf("a refusal is a decision, not an error: %v", err)
			}
			if d.Outcome != oracle.Block || !d.FailedClosed || len(d.Findings) != 0 || !strings.Contains(d.Reasons[0], "no consent") {
				t.Fatalf("decision %+v, want a block refusing for lack of consent", d)
			}
		})
	}
	if n := f.eventCount(t); n != 0 {
		t.Fatalf("%d events recorded without consent", n)
	}
}

func TestInvalidInputSendsNothing(t *testing.T) {
	f := newFixture(t)
	bad := []oracle.PullRequest{
		{Repo: "api", Number: 1, Commit: "c"},
		{Org: "acme", Repo: "api", Commit: "c"},
		{Org: "acme", Repo: "api", Number: 1, Commit: "c", EventType: "push"},
		{Org: "acme", Repo: "api", Number: 1, Commit: "c", Findings: []oracle.Finding{{RuleID: "R"}}},
	}
	for i, p := range bad {
		if _, err := f.o.Evaluate(context.Background(), p); !errors.Is(err, oracle.ErrInvalidInput) {
			t.Errorf("case %d: %v, want ErrInvalidInput", i, err)
		}
	}
	if n := f.env.Emulator.Counts().Total; n != 0 {
		t.Fatalf("%d requests for invalid input", n)
	}
	mg := oracle.PullRequest{Org: "acme", Repo: "api", Commit: "c", EventType: "merge_group", Findings: []oracle.Finding{finding("R", "mg", "low")}}
	if _, err := f.o.Evaluate(context.Background(), mg); err != nil {
		t.Fatalf("merge group without a PR number: %v", err)
	}
}

func TestReadyRefusesWithoutNonce(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	if err := f.o.Ready(ctx); err != nil {
		t.Fatalf("with a nonce: %v", err)
	}
	empty := *f.o
	empty.Nonce = nonce.New(f.env.SSM(), f.env.Env, "/guardian/none-"+f.env.Seeded.Env+"/redaction_nonce_v", "", time.Hour)
	if err := empty.Ready(ctx); !errors.Is(err, oracle.ErrFailClosed) || !errors.Is(err, nonce.ErrNoValidNonce) {
		t.Fatalf("without a nonce: %v, want ErrFailClosed and ErrNoValidNonce", err)
	}
	f.env.Fail(t, emulator.FaultRule{Operation: "GetParametersByPath"})
	if err := f.o.Ready(ctx); !errors.Is(err, oracle.ErrFailClosed) || !errors.Is(err, nonce.ErrUnavailable) {
		t.Fatalf("SSM unreachable: %v, want ErrFailClosed and ErrUnavailable", err)
	}
}
