package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mirror-dissonance/mirror-infra/internal/driver"
	"github.com/mirror-dissonance/mirror-infra/report"
)

// rehearse --engine runs the real engine through the command line: the
// scenarios asked for are checks in the report and each PASSes. (The
// whole set runs in internal/rehearse's TestEngineScenarios; here two, to
// prove the wiring without paying for the rehearsal twice.)
func TestRehearseEngineRunsTheScenarios(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real pulumi CLI")
	}
	// The in-process emulator shares one kumo per process, and this
	// package's other tests leave account-wide resources in it (the OIDC
	// provider a seeded environment holds); a fresh stack must start in an
	// empty account, so the rehearsal runs in a child process of its own.
	if os.Getenv(engineChildEnv) == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestRehearseEngineRunsTheScenarios$", "-test.count=1")
		cmd.Env = append(os.Environ(), engineChildEnv+"=1")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "PASS") {
			t.Fatalf("the engine rehearsal in its own process: %v\n%s", err, out)
		}
		return
	}
	cli, err := driver.FindCLI("", "..")
	if err != nil {
		t.Fatalf("rehearse --engine needs the pulumi CLI (make tools): %v", err)
	}
	t.Setenv("PULUMI_CLI_PATH", cli)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	code, stdout, stderr := runVerifyCLI(ctx, "rehearse", "staging", "--engine", "--scenarios", "fresh,noop", "--json", "--project-dir", "..")
	var rep report.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("exit %d, stdout is not a JSON report: %v\n%s\n%s", code, err, stdout, stderr)
	}
	for _, id := range []string{"engine:fresh", "engine:noop"} {
		c, ok := rep.Find(id)
		switch {
		case !ok:
			t.Errorf("no check %s in the report", id)
		case c.Status != report.Pass:
			t.Errorf("%s %s: %s", id, c.Status, c.Reason)
		}
	}
	if code != report.ExitOK {
		t.Errorf("exit %d, want 0\n%s", code, stderr)
	}
}

// engineChildEnv marks the child process TestRehearseEngineRunsTheScenarios
// runs itself in.
const engineChildEnv = "MD_TEST_ENGINE_CHILD"

// Without a pulumi CLI, rehearse --engine exits 3 naming `make tools`.
func TestRehearseEngineWithoutCLI(t *testing.T) {
	t.Setenv("PULUMI_CLI_PATH", filepath.Join(t.TempDir(), "no-pulumi-here"))
	code, stdout, stderr := runVerifyCLI(context.Background(), "rehearse", "staging", "--engine", "--project-dir", "..")
	if code != report.ExitEngine || !strings.Contains(stdout+stderr, "make tools") {
		t.Errorf("exit %d, output %q %q; want 3 naming make tools", code, stdout, stderr)
	}
}
