package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mirror-dissonance/mirror-infra/emulator"
	"github.com/mirror-dissonance/mirror-infra/internal/adopt"
	"github.com/mirror-dissonance/mirror-infra/internal/gate"
	"github.com/mirror-dissonance/mirror-infra/internal/mockrun"
	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/stacks/stackconfig"
)

// terraformAccount starts an emulator holding the environment the original
// modules made for env and points the SDK's standard variables at it.
func terraformAccount(t *testing.T, env string, defects ...emulator.TerraformDefect) *emulator.Emulator {
	t.Helper()
	e := emulator.Start()
	t.Cleanup(e.Close)
	cfg, err := e.Config(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	tf, err := emulator.SeedTerraform(context.Background(), cfg, emulator.TerraformOptions{Env: env, Defects: defects})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := tf.Teardown(context.Background()); err != nil {
			t.Errorf("teardown: %v", err)
		}
	})
	for _, kv := range e.Env(nil) {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	return e
}

// writes are the operations that change an AWS account.
func writes(c emulator.Counts) []string {
	var out []string
	for op, n := range c.ByOperation {
		_, name, _ := strings.Cut(op, ".")
		for _, verb := range []string{"Create", "Put", "Update", "Delete", "Tag", "Untag", "Set", "Enable", "Disable", "Schedule", "Subscribe", "Attach"} {
			if strings.HasPrefix(name, verb) && n > 0 {
				out = append(out, op)
			}
		}
	}
	return out
}

// Without approval, adopt lists every resource with its import id, exits
// 0 and writes nothing; it needs no pulumi CLI (PULUMI_CLI_PATH points
// nowhere). The account-wide OIDC provider is imported by staging (which
// owns it) only.
func TestAdoptJSONWithoutApprovalChangesNothing(t *testing.T) {
	for _, tc := range []struct {
		stack     string
		wantOIDC  bool
		minImport int
	}{
		{"staging", true, 20},
		{"production", false, 19},
	} {
		t.Run(tc.stack, func(t *testing.T) {
			e := terraformAccount(t, tc.stack)
			dir := deployProject(t)
			t.Setenv("PULUMI_CLI_PATH", filepath.Join(t.TempDir(), "bin", "pulumi"))
			e.ResetCounts()
			var out, errb bytes.Buffer
			code := run(context.Background(), []string{"adopt", tc.stack, "--json", "--non-interactive", "--project-dir", dir}, stdio{in: strings.NewReader(""), out: &out, err: &errb})
			if code != report.ExitOK {
				t.Fatalf("exit %d\n%s", code, errb.String())
			}
			if w := writes(e.Counts()); len(w) > 0 {
				t.Errorf("adopt without approval wrote to the account: %v", w)
			}
			var doc struct {
				Fingerprint string        `json:"fingerprint"`
				Resources   []adopt.Entry `json:"resources"`
				Checks      []report.Check
			}
			if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
				t.Fatalf("stdout is not JSON: %v\n%s", err, out.String())
			}
			imports, oidc := 0, false
			for _, r := range doc.Resources {
				if r.Action == adopt.ActionImport {
					imports++
					if r.ImportID == "" || r.Component == "" || r.Where == "" {
						t.Errorf("import entry without id, component or origin: %+v", r)
					}
				}
				if r.Type == gate.TypeOIDCProvider {
					oidc = true
				}
			}
			if imports < tc.minImport {
				t.Errorf("%d imports, want at least %d", imports, tc.minImport)
			}
			if oidc != tc.wantOIDC {
				t.Errorf("OIDC provider in the plan: %v, want %v", oidc, tc.wantOIDC)
			}
			if !strings.HasPrefix(doc.Fingerprint, "sha256:") {
				t.Errorf("fingerprint %q", doc.Fingerprint)
			}
			if !strings.Contains(errb.String(), "terraform state rm 'module.dynamodb.aws_dynamodb_table.fp_events'") {
				t.Errorf("the hand-off commands are not printed:\n%s", errb.String())
			}
			var approval report.Check
			for _, c := range doc.Checks {
				if c.ID == "approval" {
					approval = c
				}
			}
			if approval.Status != report.Skip {
				t.Errorf("approval %+v, want SKIP", approval)
			}
		})
	}
}

// A key-schema conflict or a foreign owner stops adopt before approval.
func TestAdoptStopsOnConflicts(t *testing.T) {
	for _, d := range []emulator.TerraformDefect{emulator.TFKeySchema, emulator.TFForeign} {
		t.Run(string(d), func(t *testing.T) {
			terraformAccount(t, "staging", d)
			dir := deployProject(t)
			var out, errb bytes.Buffer
			code := run(context.Background(), []string{"adopt", "staging", "--yes", "--non-interactive", "--project-dir", dir}, stdio{in: strings.NewReader(""), out: &out, err: &errb})
			if code != report.ExitFailed {
				t.Fatalf("exit %d, want 1\n%s%s", code, out.String(), errb.String())
			}
			if !strings.Contains(out.String(), "CONFLICT") || strings.Contains(out.String(), "approved with --yes") {
				t.Errorf("want the conflict and no approval:\n%s", out.String())
			}
		})
	}
}

// The pre-flight finds each planned create whose name exists, and stops.
func TestPreflightStopsACollidingDeploy(t *testing.T) {
	terraformAccount(t, "staging")
	cfg, err := stackconfig.Load("..", "staging")
	if err != nil {
		t.Fatal(err)
	}
	res, err := mockrun.Run(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	checks := preflightHook(cfg)(context.Background(), res.Resources)
	if len(checks) != 1 || checks[0].Status != report.Fail || checks[0].Infra {
		t.Fatalf("pre-flight %+v, want one FAIL (exit 1)", checks)
	}
	for _, want := range []string{"mirror-dissonance-staging-fp-events", "key behind alias/mirror-dissonance-staging", "mirror-dissonance-staging-ops-alerts", "adopt staging"} {
		if !strings.Contains(checks[0].Reason+checks[0].Fix, want) {
			t.Errorf("pre-flight does not name %q: %s", want, checks[0].Reason)
		}
	}
	// An empty account passes.
	if got := preflightChecks("staging", nil); got[0].Status != report.Pass {
		t.Errorf("no collisions: %+v", got)
	}
}
