package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/mirror-dissonance/mirror-infra/emulator"
	"github.com/mirror-dissonance/mirror-infra/oracle/fpevents"
	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/verify/target"
)

// oracleEnv seeds a randomly named environment (kumo's state is shared by
// the test binary) and points the "local" stack's --from-env names at it.
func oracleEnv(t *testing.T) (*emulator.Emulator, *emulator.Seeded, string) {
	t.Helper()
	e := emulator.Start()
	t.Cleanup(e.Close)
	// The Oracle role trusts what the stack config names (verifyProject).
	s, err := e.Seed(context.Background(), emulator.SeedOptions{OracleSubjects: []string{"repo:mirror-dissonance/oracle:environment:local"}})
	if err != nil {
		t.Fatal(err)
	}
	verifyAWSEnv(t, e, s)
	for _, kv := range s.EnvOverrides() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	t.Setenv(target.EnvPrefix+"AWS_REGION", "")
	return e, s, verifyProject(t, "local")
}

func tableItems(t *testing.T, e *emulator.Emulator, s *emulator.Seeded) map[string]int {
	t.Helper()
	cfg, err := e.Config(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	db := dynamodb.NewFromConfig(cfg)
	tg := s.Target()
	out := map[string]int{}
	for _, name := range []string{tg.FPEventsTable, tg.ConsentTable, tg.BlockCounterTable} {
		res, err := db.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		out[name] = len(res.Items)
	}
	return out
}

func TestE2EFromEnvAgainstSeededEmulator(t *testing.T) {
	e, s, dir := oracleEnv(t)
	before := tableItems(t, e, s)
	code, stdout, stderr := runVerifyCLI(context.Background(), "e2e", "local", "--from-env", "--json", "--project-dir", dir)
	if code != report.ExitOK {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	var r report.Report
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("stdout is not a JSON report: %v\n%s", err, stdout)
	}
	if c, ok := r.Find("e2e"); !ok || c.Status != report.Pass {
		t.Fatalf("e2e check %+v", c)
	}
	if len(r.Checks) != 10 {
		t.Fatalf("%d checks, want the summary, 8 steps and the sweep", len(r.Checks))
	}
	if c, ok := r.Find("e2e.sweep"); !ok || c.Status != report.Pass {
		t.Fatalf("e2e.sweep check %+v", c)
	}
	if !strings.Contains(stderr, "e2e.cleanup") {
		t.Fatalf("human report missing from stderr: %s", stderr)
	}
	if after := tableItems(t, e, s); !reflect.DeepEqual(before, after) {
		t.Fatalf("item counts changed: before %v after %v", before, after)
	}
	if strings.Contains(stdout+stderr, s.NonceValue) {
		t.Fatal("the output contains the nonce value")
	}
}

// TestE2ESweep: items an earlier run left (the marker, old enough) are
// removed by "e2e --sweep" and by the sweep that starts every run; Oracle
// items, and marked items younger than the age bound, stay. Mutation
// check: drop the attribute_exists filter's marker test in sweepTable
// (delete every scanned item) and the Oracle item is gone.
func TestE2ESweep(t *testing.T) {
	e, s, dir := oracleEnv(t)
	ctx := context.Background()
	cfg, err := e.Config(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tg := s.Target()
	old := func() time.Time { return time.Now().Add(-time.Hour) }
	oracleFP := fpevents.New(dynamodb.NewFromConfig(cfg), tg.FPEventsTable)
	leftFP := &fpevents.Store{Client: dynamodb.NewFromConfig(cfg), Table: tg.FPEventsTable, Marker: "deadrun", Now: old}
	youngFP := &fpevents.Store{Client: dynamodb.NewFromConfig(cfg), Table: tg.FPEventsTable, Marker: "liverun"}
	for _, st := range []*fpevents.Store{oracleFP, leftFP, youngFP} {
		if _, err := st.Record(ctx, fpevents.Event{RuleID: "r", RuleVersion: "1", FindingID: "f", Outcome: "warn", Context: fpevents.Context{EventType: "pullrequest"}}); err != nil {
			t.Fatal(err)
		}
	}
	count := func() int { return tableItems(t, e, s)[tg.FPEventsTable] }
	before := count()
	for _, st := range []struct {
		args      []string
		want      int
		remaining int
	}{
		{[]string{"e2e", "local", "--sweep", "--sweep-age", "2h"}, report.ExitOK, before},
		{[]string{"e2e", "local", "--sweep"}, report.ExitOK, before - 1},
		{[]string{"e2e", "local", "--sweep"}, report.ExitOK, before - 1},
	} {
		code, stdout, stderr := runVerifyCLI(ctx, append(st.args, "--from-env", "--json", "--project-dir", dir)...)
		if code != st.want || !strings.Contains(stdout, "e2e.sweep") {
			t.Fatalf("%v: exit %d\nstdout %s\nstderr %s", st.args, code, stdout, stderr)
		}
		if n := count(); n != st.remaining {
			t.Fatalf("%v: %d FP events left, want %d", st.args, n, st.remaining)
		}
	}
	// The run's own sweep: an old leftover goes before the cycle runs.
	if _, err := leftFP.Record(ctx, fpevents.Event{RuleID: "r2", RuleVersion: "1", FindingID: "f", Outcome: "warn", Context: fpevents.Context{EventType: "pullrequest"}}); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runVerifyCLI(ctx, "e2e", "local", "--from-env", "--json", "--project-dir", dir)
	if code != report.ExitOK || !strings.Contains(stdout, `"fpEvents": "1"`) {
		t.Fatalf("e2e: exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	if n := count(); n != before-1 {
		t.Fatalf("after e2e: %d FP events, want %d (the Oracle's and the live run's)", n, before-1)
	}
}

func TestE2EAndNonceUsage(t *testing.T) {
	dir := verifyProject(t, "local", "production")
	tests := []struct {
		args []string
		want int
		msg  string
	}{
		{[]string{"e2e"}, report.ExitUsage, "exactly one stack"},
		{[]string{"e2e", "production", "--from-env", "--project-dir", dir}, report.ExitUsage, "--allow-production"},
		{[]string{"e2e", "local", "--from-env", "--timeout", "-5s", "--project-dir", dir}, report.ExitUsage, "--timeout -5s"},
		{[]string{"nonce", "rotate", "local", "--from", "10000000000", "--project-dir", dir}, report.ExitUsage, "--from 10000000000"},
		{[]string{"e2e", "local", "--from-env", "--sweep", "--sweep-age", "-1s", "--project-dir", dir}, report.ExitUsage, "--sweep-age"},
		{[]string{"e2e", "local", "--from-env", "--sweep", "--sweep-age", "0s", "--project-dir", dir}, report.ExitUsage, "--sweep-age"},
		{[]string{"e2e", "local", "--from-env", "--lease", "100ms", "--project-dir", dir}, report.ExitUsage, "--lease 100ms"},
		{[]string{"e2e", "nosuch", "--from-env", "--project-dir", dir}, report.ExitUsage, "nosuch"},
		{[]string{"nonce", "rotate", "local", "--project-dir", dir}, report.ExitUsage, "--from"},
		{[]string{"nonce", "spin", "local", "--from", "1", "--project-dir", dir}, report.ExitUsage, "rotate"},
		{[]string{"nonce", "check-rotation", "local", "--from", "1", "--project-dir", dir}, report.ExitUsage, "unknown flag: --from"},
		{[]string{"nonce", "rotate", "--from", "1"}, report.ExitUsage, "rotate <stack>"},
	}
	for _, tc := range tests {
		code, _, stderr := runVerifyCLI(context.Background(), tc.args...)
		if code != tc.want || !strings.Contains(stderr, tc.msg) {
			t.Errorf("%v: exit %d, stderr %q; want %d mentioning %q", tc.args, code, stderr, tc.want, tc.msg)
		}
	}
}

func TestNonceRotateAgainstSeededEmulator(t *testing.T) {
	e, s, dir := oracleEnv(t)
	steps := []struct {
		args   []string
		want   int
		reason string
	}{
		{[]string{"nonce", "rotate", "local", "--from", "0"}, report.ExitOK, "already bootstrapped: v1"},
		{[]string{"nonce", "rotate", "local", "--from", "1"}, report.ExitOK, "created v2"},
		{[]string{"nonce", "rotate", "local", "--from", "1"}, report.ExitFailed, "already rotated"},
		{[]string{"nonce", "rotate", "local", "--from", "5"}, report.ExitFailed, "not found"},
		{[]string{"nonce", "check-rotation", "local"}, report.ExitOK, "rotated v2 to v3"},
	}
	for _, st := range steps {
		args := append(st.args, "--from-env", "--json", "--project-dir", dir)
		code, stdout, stderr := runVerifyCLI(context.Background(), args...)
		if code != st.want || !strings.Contains(stdout, st.reason) {
			t.Fatalf("%v: exit %d (want %d)\nstdout %s\nstderr %s", st.args, code, st.want, stdout, stderr)
		}
		if strings.Contains(stdout+stderr, s.NonceValue) {
			t.Fatal("the output contains the nonce value")
		}
	}
	cfg, err := e.Config(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out, err := ssm.NewFromConfig(cfg).GetParametersByPath(context.Background(), &ssm.GetParametersByPathInput{
		Path: aws.String(strings.TrimSuffix(s.Names.NonceParameterPath(), "/")), WithDecryption: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Parameters) != 3 {
		t.Fatalf("%d parameters, want v1..v3", len(out.Parameters))
	}
	for _, p := range out.Parameters {
		if aws.ToString(p.Name) == s.Names.NonceParameter(1) && aws.ToString(p.Value) != s.NonceValue {
			t.Fatal("v1 was overwritten")
		}
	}
}

func TestE2EUnreachableEndpointExits3(t *testing.T) {
	dir := verifyProject(t, "local")
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	for _, args := range [][]string{
		{"e2e", "local", "--from-env", "--project-dir", dir},
		{"nonce", "rotate", "local", "--from", "0", "--from-env", "--project-dir", dir},
	} {
		code, stdout, stderr := runVerifyCLI(context.Background(), args...)
		if code != report.ExitEngine {
			t.Errorf("%v: exit %d, want 3\n%s\n%s", args, code, stdout, stderr)
		}
	}
}

// BenchmarkE2EProcess runs the built CLI's e2e command as CI does, one
// process per iteration, against a seeded emulator; the build is outside the
// timing. SPEC/issue 4 budget: under 2 s per process.
func BenchmarkE2EProcess(b *testing.B) {
	bin := filepath.Join(b.TempDir(), "automation")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	e := emulator.Start()
	defer e.Close()
	s, err := e.Seed(context.Background(), emulator.SeedOptions{})
	if err != nil {
		b.Fatal(err)
	}
	dir := verifyProject(b, "local")
	env := os.Environ()
	env = append(env, e.Env(s)...)
	env = append(env, s.EnvOverrides()...)
	e.ResetCounts()
	for b.Loop() {
		cmd := exec.Command(bin, "e2e", "local", "--from-env", "--json", "--project-dir", dir)
		cmd.Env = env
		out, err := cmd.Output()
		if err != nil {
			b.Fatalf("e2e: %v\n%s", err, out)
		}
		var r report.Report
		if err := json.Unmarshal(out, &r); err != nil {
			b.Fatal(err)
		}
		if c, _ := r.Find("e2e"); c.Status != report.Pass {
			b.Fatalf("e2e: %s %s", c.Status, c.Reason)
		}
	}
	b.ReportMetric(float64(e.Counts().Total)/float64(b.N), "requests/op")
}
