package main

import (
	"context"
	"encoding/json"
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

// Without a pulumi CLI, rehearse --engine exits 3 naming `make tools`.
func TestRehearseEngineWithoutCLI(t *testing.T) {
	t.Setenv("PULUMI_CLI_PATH", filepath.Join(t.TempDir(), "no-pulumi-here"))
	code, stdout, stderr := runVerifyCLI(context.Background(), "rehearse", "staging", "--engine", "--project-dir", "..")
	if code != report.ExitEngine || !strings.Contains(stdout+stderr, "make tools") {
		t.Errorf("exit %d, output %q %q; want 3 naming make tools", code, stdout, stderr)
	}
}
