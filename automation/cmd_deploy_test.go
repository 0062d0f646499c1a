package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mirror-dissonance/mirror-infra/emulator"
	"github.com/mirror-dissonance/mirror-infra/internal/driver"
	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/spec"
	"github.com/mirror-dissonance/mirror-infra/stacks/stackconfig"
	"github.com/mirror-dissonance/mirror-infra/verify"
)

// deployProject copies the real project files into a temp dir, so the
// commands run against the real program and config without touching the
// repository's state directory.
func deployProject(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"Pulumi.yaml", "Pulumi.staging.yaml", "Pulumi.production.yaml"} {
		b, err := os.ReadFile(filepath.Join("..", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// deployCLI points PULUMI_CLI_PATH at the built CLI (the temp project has no
// bin/ of its own) and isolates PULUMI_HOME, so no plugin installed on this
// machine changes the outcome.
func deployCLI(t *testing.T) {
	t.Helper()
	cli, err := driver.FindCLI("", ".")
	if err != nil {
		t.Fatalf("this test needs the real pulumi CLI: %v (run `make tools` first)", err)
	}
	t.Setenv("PULUMI_CLI_PATH", cli)
	t.Setenv("PULUMI_HOME", t.TempDir())
	t.Setenv("PULUMI_CONFIG_PASSPHRASE", "deploy-test")
	t.Setenv("PULUMI_BACKEND_URL", "")
}

func TestPreviewWithoutAWSPluginFailsFastWithExit3(t *testing.T) {
	deployCLI(t)
	dir := deployProject(t)
	var out, errb bytes.Buffer
	// --install-plugins=false: where the network is reachable the default
	// would download the plugin and the preview would go on.
	code := run(context.Background(), []string{"preview", "staging", "--project-dir", dir, "--json", "--install-plugins=false"},
		stdio{in: strings.NewReader(""), out: &out, err: &errb})
	if code != report.ExitEngine {
		t.Fatalf("exit = %d, want 3\nstdout: %s\nstderr: %s", code, out.String(), errb.String())
	}
	for _, want := range []string{"resource plugin aws v6.83.4", "pulumi plugin install resource aws v6.83.4"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("JSON report does not say %q:\n%s", want, out.String())
		}
	}
	if _, err := os.Stat(filepath.Join(dir, ".pulumi-state", ".pulumi", "stacks")); err == nil {
		t.Error("a stack was created although the plugin is missing")
	}
}

func TestDeployCommandsRejectBadInputBeforeTheCLI(t *testing.T) {
	// No PULUMI_CLI_PATH needed: all of these stop before the CLI runs.
	dir := deployProject(t)
	if err := os.WriteFile(filepath.Join(dir, "Pulumi.broken.yaml"), []byte("config:\n  mirror-dissonance:environment: nowhere\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no stack", []string{"deploy"}, "exactly one stack"},
		{"two stacks", []string{"preview", "staging", "production"}, "exactly one stack"},
		{"unknown stack", []string{"preview", "nope", "--project-dir", dir}, "no Pulumi.nope.yaml"},
		{"bad config", []string{"drift", "broken", "--project-dir", dir}, "mirror-dissonance:environment"},
		{"unknown flag", []string{"destroy", "staging", "--force"}, "unknown flag: --force"},
		{"bare stack form", []string{"nope", "--project-dir", dir}, "no Pulumi.nope.yaml"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(context.Background(), tc.args, stdio{in: strings.NewReader(""), out: &out, err: &errb})
			if code != report.ExitUsage {
				t.Fatalf("exit = %d, want 2; stderr: %s", code, errb.String())
			}
			if !strings.Contains(errb.String(), tc.want) {
				t.Errorf("stderr does not say %q: %s", tc.want, errb.String())
			}
		})
	}
}

// TestPostUpHooksBootstrapTheNonceAndVerify runs the deploy's post-up steps
// against the in-process emulator seeded as a deployed stack without a
// nonce: the bootstrap creates v1 (once), then the verifier passes its
// nonce check and the E2E cycle passes against the same outputs.
func TestPostUpHooksBootstrapTheNonceAndVerify(t *testing.T) {
	e := emulator.Start()
	t.Cleanup(e.Close) // after the teardown below (cleanups run last first)
	ctx := context.Background()
	seeded, err := e.Seed(ctx, emulator.SeedOptions{Env: "staging", Defects: []emulator.Defect{emulator.DefectNonceMissing}})
	if err != nil {
		t.Fatal(err)
	}
	// kumo's state is the process's: free the name for the next test.
	t.Cleanup(func() {
		if err := emulator.Teardown(context.Background(), seeded); err != nil {
			t.Errorf("removing the seeded staging environment: %v", err)
		}
	})
	for _, kv := range e.Env(seeded) {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	tgt := seeded.Target()
	alarms := make([]any, 0, len(tgt.AlarmNames))
	for _, a := range tgt.AlarmNames {
		alarms = append(alarms, a)
	}
	outs := map[string]any{
		spec.OutEnvironment: tgt.Environment, spec.OutRegion: tgt.Region,
		spec.OutFPEventsTableName: tgt.FPEventsTable, spec.OutConsentTableName: tgt.ConsentTable,
		spec.OutBlockCounterTableName: tgt.BlockCounterTable, spec.OutKMSKeyArn: tgt.KMSKey,
		spec.OutKMSAlias: tgt.KMSAlias, spec.OutOpsTopicArn: tgt.TopicArn, spec.OutAlarmNames: alarms,
		spec.OutDashboardName: tgt.Dashboard, spec.OutOIDCProviderArn: tgt.OIDCProviderArn,
		spec.OutDeployRoleArn: tgt.DeployRole, spec.OutPreviewRoleArn: tgt.PreviewRole,
		spec.OutNoncePrefix: tgt.NoncePrefix,
	}
	cfg := stackconfig.Config{Stack: "staging", Environment: "staging", ThrottleThreshold: 10}

	run := func(rot rotationFlags) *report.Report {
		r := &report.Report{}
		for _, h := range postUpHooks(cfg, rot, verify.Options{}) {
			r.Add(h(ctx, outs)...)
		}
		return r
	}
	first := run(rotationFlags{})
	boot, ok := first.Find("nonce-bootstrap")
	if !ok || boot.Status != report.Pass || !strings.Contains(boot.Reason, "created "+tgt.NoncePrefix+"1") {
		t.Fatalf("bootstrap = %+v, want v1 created", boot)
	}
	if c, ok := first.Find("nonce"); !ok || c.Status != report.Pass {
		t.Errorf("verifier nonce check after bootstrap = %+v, want PASS", c)
	}
	if c, ok := first.Find("tables"); !ok || c.Status != report.Pass {
		t.Errorf("verifier tables check = %+v, want PASS", c)
	}
	// A fresh v1 is not due (nonceRotationDays, default 90): no rotation.
	if c, ok := first.Find("rotation"); !ok || c.Status != report.Skip || !strings.Contains(c.Reason, "not due") {
		t.Errorf("rotation = %+v, want SKIP not due", c)
	}
	if c, ok := first.Find("e2e"); !ok || c.Status != report.Pass {
		t.Errorf("e2e = %+v, want PASS", c)
	}
	for _, c := range first.Checks {
		t.Logf("%s %s %s", c.ID, c.Status, c.Reason)
	}
	// deploy --rotate rotates however young the newest version is.
	second := run(rotationFlags{force: true})
	if boot, _ := second.Find("nonce-bootstrap"); boot.Status != report.Pass || !strings.Contains(boot.Reason, "nothing created") {
		t.Fatalf("second bootstrap = %+v, want nothing created", boot)
	}
	if c, ok := second.Find("rotation"); !ok || c.Status != report.Pass {
		t.Errorf("forced rotation = %+v, want PASS", c)
	}
	if c, ok := second.Find("nonce-prune"); !ok || c.Status != report.Pass || !strings.Contains(c.Reason, "nothing to prune") {
		t.Errorf("prune right after a rotation = %+v, want nothing to prune (v1 is in its grace period)", c)
	}
}
