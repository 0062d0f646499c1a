package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/mirror-dissonance/mirror-infra/emulator"
	"github.com/mirror-dissonance/mirror-infra/internal/driver"
	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/spec"
	"github.com/mirror-dissonance/mirror-infra/verify"
)

// verifyProject writes a project directory with stack files for env; the
// tests use "local" and "production" because kumo's state is shared by the
// whole test binary and the other tests of this package may seed staging.
func verifyProject(t testing.TB, envs ...string) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{"Pulumi.yaml": "name: mirror-dissonance\nruntime: go\n"}
	for _, env := range envs {
		files["Pulumi."+env+".yaml"] = fmt.Sprintf(`config:
  aws:region: us-east-1
  mirror-dissonance:environment: %[1]s
  mirror-dissonance:githubRepository: mirror-dissonance/mirror-infra
  mirror-dissonance:githubSubjects:
    - repo:mirror-dissonance/mirror-infra:ref:refs/heads/main
  mirror-dissonance:oracleSubjects:
    - repo:mirror-dissonance/oracle:environment:%[1]s
  mirror-dissonance:createOidcProvider: "true"
  mirror-dissonance:throttleThreshold: "10"
  mirror-dissonance:deletionProtection: "true"
  mirror-dissonance:kmsDeletionWindowDays: "7"
`, env)
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// verifyAWSEnv points the SDK at the emulator for this test only.
func verifyAWSEnv(t testing.TB, e *emulator.Emulator, s *emulator.Seeded) {
	t.Helper()
	for _, kv := range e.Env(s) {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
}

func runVerifyCLI(ctx context.Context, args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(ctx, args, stdio{in: strings.NewReader(""), out: &out, err: &errb})
	return code, out.String(), errb.String()
}

func TestVerifyFromEnvAgainstSeededEmulator(t *testing.T) {
	e := emulator.Start()
	t.Cleanup(e.Close)
	ctx := context.Background()
	dir := verifyProject(t, "local", "production")
	tests := []struct {
		env      string
		defects  []emulator.Defect
		wantExit int
		// wantFail are the checks that must FAIL; every other must not.
		wantFail []string
	}{
		{"local", nil, report.ExitOK, nil},
		{"production", []emulator.Defect{emulator.DefectPITROff, emulator.DefectNonceString, emulator.DefectAlarmMissing}, report.ExitFailed,
			[]string{"pitr", "nonce", "alarms"}},
	}
	for _, tc := range tests {
		t.Run(tc.env, func(t *testing.T) {
			s, err := e.Seed(ctx, emulator.SeedOptions{Env: tc.env, Defects: tc.defects, VerifyQueue: true})
			if err != nil {
				t.Fatal(err)
			}
			verifyAWSEnv(t, e, s)
			// Every check, alert included (only run when named).
			code, stdout, stderr := runVerifyCLI(ctx, "verify", tc.env, "--from-env", "--json", "--project-dir", dir, "--checks", strings.Join(verify.IDs(), ","))
			if code != tc.wantExit {
				t.Fatalf("exit %d, want %d\nstderr:\n%s", code, tc.wantExit, stderr)
			}
			var r report.Report
			if err := json.Unmarshal([]byte(stdout), &r); err != nil {
				t.Fatalf("stdout is not a JSON report: %v\n%s", err, stdout)
			}
			fails := map[string]bool{}
			for _, id := range tc.wantFail {
				fails[id] = true
			}
			for _, id := range []string{"tables", "sse", "ttl", "pitr", "kms", "alarms", "sns", "alert", "oidc", "nonce"} {
				c, ok := r.Find(id)
				if !ok {
					t.Errorf("no %s check in the report", id)
					continue
				}
				switch {
				case fails[id] && c.Status != report.Fail:
					t.Errorf("%s = %s (%s), want FAIL", id, c.Status, c.Reason)
				case !fails[id] && c.Status != report.Pass:
					t.Errorf("%s = %s (%s), want PASS", id, c.Status, c.Reason)
				}
			}
			if !strings.Contains(stderr, "verify "+tc.env) {
				t.Errorf("stderr lacks the human report:\n%s", stderr)
			}
			if s.NonceValue != "" && (strings.Contains(stdout, s.NonceValue) || strings.Contains(stderr, s.NonceValue)) {
				t.Fatal("the nonce value appears in the CLI output")
			}
		})
	}
}

func TestVerifyUsageErrors(t *testing.T) {
	dir := verifyProject(t, "local")
	ctx := context.Background()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no stack", []string{"verify", "--project-dir", dir}, "exactly one stack"},
		{"unknown stack", []string{"verify", "nope", "--from-env", "--project-dir", dir}, "nope"},
		{"unknown check", []string{"verify", "local", "--from-env", "--checks", "bogus", "--project-dir", dir}, "bogus"},
		{"negative alarm wait", []string{"verify", "local", "--from-env", "--alarm-wait", "-1h", "--project-dir", dir}, "--alarm-wait -1h0m0s"},
		{"negative timeout", []string{"verify", "local", "--from-env", "--timeout", "-5s", "--project-dir", dir}, "--timeout -5s"},
		{"negative grace", []string{"verify", "local", "--from-env", "--project-dir", dir, "MD_NONCE_GRACE=-1h"}, "MD_NONCE_GRACE"},
		{"a grace of ten years", []string{"verify", "local", "--from-env", "--project-dir", dir, "MD_NONCE_GRACE=87600h"}, "at most 720h"},
		{"production's consent table", []string{"verify", "local", "--from-env", "--project-dir", dir, "MD_CONSENT_TABLE=mirror-dissonance-production-consent"}, "MD_CONSENT_TABLE"},
		{"nonce at the root", []string{"verify", "local", "--from-env", "--project-dir", dir, "MD_NONCE_PREFIX=/"}, "MD_NONCE_PREFIX"},
		{"an AWS-managed key", []string{"verify", "local", "--from-env", "--project-dir", dir, "MD_KMS_KEY=alias/aws/ssm"}, "AWS-managed"},
		{"markdown into a missing folder", []string{"verify", "local", "--from-env", "--project-dir", dir, "--markdown", filepath.Join(dir, "no", "such", "r.md")}, "does not exist"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// An endpoint nobody listens on: usage errors must come first.
			t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
			// Trailing NAME=value arguments are environment variables.
			for len(tc.args) > 0 && strings.HasPrefix(tc.args[len(tc.args)-1], "MD_") {
				k, v, _ := strings.Cut(tc.args[len(tc.args)-1], "=")
				t.Setenv(k, v)
				tc.args = tc.args[:len(tc.args)-1]
			}
			code, _, stderr := runVerifyCLI(ctx, tc.args...)
			if code != report.ExitUsage || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want 2 mentioning %q", code, stderr, tc.want)
			}
		})
	}
}

// TestVerifyFromStackOutputs deploys a provider-free inline program whose
// outputs (SPEC 2.8 keys) name a seeded emulator environment, with the real
// pulumi CLI and a file backend, then runs "verify local" without
// --from-env: the targets must come from those outputs.
func TestVerifyFromStackOutputs(t *testing.T) {
	cli := os.Getenv("PULUMI_CLI_PATH")
	if cli == "" {
		cli, _ = filepath.Abs(filepath.Join("..", "bin", "pulumi"))
	}
	if _, err := os.Stat(cli); err != nil {
		t.Fatalf("this test needs the pulumi CLI (make tools): %v", err)
	}
	e := emulator.Start()
	t.Cleanup(e.Close)
	ctx := context.Background()
	s, err := e.Seed(ctx, emulator.SeedOptions{VerifyQueue: true, Defects: []emulator.Defect{emulator.DefectTTLOff}})
	if err != nil {
		t.Fatal(err)
	}
	verifyAWSEnv(t, e, s)
	dir := verifyProject(t, "local")
	backend := "file://" + t.TempDir()
	t.Setenv("PULUMI_BACKEND_URL", backend)
	t.Setenv("PULUMI_CLI_PATH", cli)
	t.Setenv("PULUMI_CONFIG_PASSPHRASE", "verify-test")
	t.Setenv("PULUMI_HOME", t.TempDir())
	tgt := s.Target()
	outputs := pulumi.Map{
		// The stack is "local"; its resources have the seeded names, which
		// only the outputs carry.
		spec.OutEnvironment:           pulumi.String("local"),
		spec.OutRegion:                pulumi.String(tgt.Region),
		spec.OutFPEventsTableName:     pulumi.String(tgt.FPEventsTable),
		spec.OutConsentTableName:      pulumi.String(tgt.ConsentTable),
		spec.OutBlockCounterTableName: pulumi.String(tgt.BlockCounterTable),
		spec.OutKMSKeyArn:             pulumi.String(tgt.KMSKey),
		spec.OutKMSAlias:              pulumi.String(tgt.KMSAlias),
		spec.OutOpsTopicArn:           pulumi.String(tgt.TopicArn),
		spec.OutAlarmNames:            pulumi.ToStringArray(tgt.AlarmNames),
		spec.OutOIDCProviderArn:       pulumi.String(tgt.OIDCProviderArn),
		spec.OutDeployRoleArn:         pulumi.String(tgt.DeployRole),
		spec.OutPreviewRoleArn:        pulumi.String(tgt.PreviewRole),
		spec.OutNoncePrefix:           pulumi.String(tgt.NoncePrefix),
		spec.OutBaselinesBucket:       pulumi.String(tgt.BaselinesBucket),
	}
	d, err := driver.Open(ctx, driver.Settings{ProjectDir: dir, Stack: "local", BackendURL: backend, CLIPath: cli,
		Program: func(pc *pulumi.Context) error {
			for k, v := range outputs {
				pc.Export(k, v)
			}
			return nil
		}})
	if err != nil {
		t.Fatalf("opening the stack: %v", err)
	}
	p, err := d.Preview(ctx)
	if err != nil {
		t.Fatalf("preview: %v", err)
	}
	if _, err := d.Up(ctx, p.PlanPath, p.Fingerprint); err != nil {
		t.Fatalf("up: %v", err)
	}
	code, stdout, stderr := runVerifyCLI(ctx, "verify", "local", "--json", "--project-dir", dir)
	if code != report.ExitFailed {
		t.Fatalf("exit %d, want 1 (the seeded TTL defect)\n%s", code, stderr)
	}
	var r report.Report
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("stdout is not a JSON report: %v", err)
	}
	for _, c := range r.Checks {
		want := report.Pass
		switch c.ID {
		case "ttl":
			want = report.Fail
		case "data":
			want = report.Skip // a fresh environment's tables hold no items yet
		}
		if c.Status != want {
			t.Errorf("%s = %s (%s), want %s", c.ID, c.Status, c.Reason, want)
		}
	}
	if c, _ := r.Find("ttl"); !strings.Contains(c.Reason, tgt.BlockCounterTable) {
		t.Errorf("ttl reason %q does not name %s (a name only the outputs carry)", c.Reason, tgt.BlockCounterTable)
	}
}

// TestVerifyOutputsWithoutEngine: without --from-env the outputs come from
// the stack through the pulumi CLI; when that cannot run, exit 3 with a
// pointer to --from-env, before any AWS call.
func TestVerifyOutputsWithoutEngine(t *testing.T) {
	dir := verifyProject(t, "local")
	t.Setenv("PULUMI_CLI_PATH", filepath.Join(t.TempDir(), "no-pulumi-here"))
	t.Setenv("PULUMI_BACKEND_URL", "file://"+t.TempDir())
	t.Setenv("PULUMI_CONFIG_PASSPHRASE", "verify-test")
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
	code, _, stderr := runVerifyCLI(context.Background(), "verify", "local", "--project-dir", dir)
	if code != report.ExitEngine || !strings.Contains(stderr, "--from-env") {
		t.Errorf("exit %d, stderr %q; want 3 pointing to --from-env", code, stderr)
	}
}

func TestVerifyUnreachableEndpointExits3(t *testing.T) {
	dir := verifyProject(t, "local")
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	start := time.Now()
	code, _, stderr := runVerifyCLI(context.Background(), "verify", "local", "--from-env", "--project-dir", dir)
	if code != report.ExitEngine {
		t.Fatalf("exit %d, want 3\n%s", code, stderr)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s to give up on an unreachable endpoint", d)
	}
}

// BenchmarkVerifyProcess measures the read-only catalogue as a whole
// process, the way CI runs it: the built CLI against a seeded emulator
// (go build happens once, outside the timing). Compare with the original
// verify-staging.sh, about 5.7 s against a local emulator.
func BenchmarkVerifyProcess(b *testing.B) {
	bin := filepath.Join(b.TempDir(), "automation")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("building the CLI: %v\n%s", err, out)
	}
	e := emulator.Start()
	defer e.Close()
	ctx := context.Background()
	// A fresh random environment each time the benchmark function runs;
	// the MD_* overrides point "local" at it.
	s, err := e.Seed(ctx, emulator.SeedOptions{VerifyQueue: true})
	if err != nil {
		b.Fatal(err)
	}
	dir := verifyProject(b, "local")
	env := append(append(os.Environ(), e.Env(s)...), s.EnvOverrides()...)
	e.ResetCounts()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cmd := exec.Command(bin, "verify", "local", "--from-env", "--json", "--project-dir", dir)
		cmd.Env = env
		if out, err := cmd.Output(); err != nil {
			b.Fatalf("verify failed: %v\n%s", err, out)
		} else if !bytes.Contains(out, []byte(`"status": "PASS"`)) || bytes.Contains(out, []byte(`"status": "FAIL"`)) || bytes.Contains(out, []byte(`"status": "WARN"`)) {
			b.Fatalf("verify did not pass everything:\n%s", out)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(e.Counts().Total)/float64(b.N), "requests/op")
}

// BenchmarkBaselineScript times verify/testdata/baseline-verify-staging.sh
// (13 AWS CLI calls, the shape of the original verify-staging.sh) against
// the same kind of seeded emulator, for the comparison with
// BenchmarkVerifyProcess. It needs the aws CLI on PATH.
func BenchmarkBaselineScript(b *testing.B) {
	if _, err := exec.LookPath("aws"); err != nil {
		b.Skip("the aws CLI is not on PATH")
	}
	e := emulator.Start()
	defer e.Close()
	s, err := e.Seed(context.Background(), emulator.SeedOptions{})
	if err != nil {
		b.Fatal(err)
	}
	script, err := filepath.Abs(filepath.Join("..", "verify", "testdata", "baseline-verify-staging.sh"))
	if err != nil {
		b.Fatal(err)
	}
	env := append(os.Environ(), e.Env(s)...)
	e.ResetCounts()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cmd := exec.Command(script, s.Env)
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("baseline script: %v\n%s", err, out)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(e.Counts().Total)/float64(b.N), "requests/op")
}

// TestVerifyHoldsTheOracleTrustToConfig: verify and the deploy's verifier
// compare the Oracle role's trust with the stack config's oracleSubjects.
// Before, automation never passed them on, so a role trusting another
// repository's workflows than the config names passed.
func TestVerifyHoldsTheOracleTrustToConfig(t *testing.T) {
	_, _, dir := oracleEnv(t)
	file := filepath.Join(dir, "Pulumi.local.yaml")
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	other := strings.Replace(string(b), "repo:mirror-dissonance/oracle:environment:local", "repo:mirror-dissonance/oracle:environment:elsewhere", 1)
	if other == string(b) {
		t.Fatal("the project's config does not name the seeded Oracle subject")
	}
	if err := os.WriteFile(file, []byte(other), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runVerifyCLI(context.Background(), "verify", "local", "--from-env", "--checks", "oidc", "--project-dir", dir)
	if code != report.ExitFailed {
		t.Fatalf("exit %d, want %d\n%s\n%s", code, report.ExitFailed, stdout, stderr)
	}
	if !strings.Contains(stdout, `does not trust the configured subject "repo:mirror-dissonance/oracle:environment:elsewhere"`) {
		t.Errorf("the report does not name the configured subject:\n%s", stdout)
	}
}
