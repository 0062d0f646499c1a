package rehearse

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mirror-dissonance/mirror-infra/internal/driver"
	"github.com/mirror-dissonance/mirror-infra/report"
)

// engineCLI returns the pulumi CLI the engine scenarios need; `make test`
// provides it (make tools), so a missing CLI fails rather than skips.
func engineCLI(t testing.TB) string {
	t.Helper()
	cli, err := driver.FindCLI("", ".")
	if err != nil {
		t.Fatalf("the engine rehearsal needs the pulumi CLI: %v", err)
	}
	return cli
}

// TestEngineScenarios runs the real driver and CLI with the stand-in
// provider and the emulator through every scenario; each must PASS.
func TestEngineScenarios(t *testing.T) {
	if testing.Short() {
		t.Skip("the engine rehearsal runs the real CLI (about a minute)")
	}
	cli := engineCLI(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var progress strings.Builder
	rep, err := Engine(ctx, EngineOptions{Stack: "staging", ProjectDir: filepath.Join("..", ".."), CLIPath: cli, Progress: &progress,
		Scenarios: scenariosFromEnv()})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range rep.Checks {
		t.Logf("%s %s: %s", c.Status, c.ID, c.Reason)
	}
	for _, s := range scenariosFromEnv() {
		c, ok := rep.Find("engine:" + s)
		if !ok {
			t.Errorf("no check engine:%s", s)
			continue
		}
		// Every scenario passes, adopt's converging up included (it
		// ended WARN while the emulator lacked UpdateKeyDescription,
		// UntagRole and SNS's TagResourceResult).
		if c.Status != report.Pass {
			t.Errorf("engine:%s %s: %s", s, c.Status, c.Reason)
		}
	}
	// The engine rehearsal found five calls the spec's tables lacked (the
	// boundary policy's create and delete, an admin run's; the caller
	// identity and OIDC provider look-ups); now every call is listed.
	if len(scenariosFromEnv()) == len(EngineScenarios) {
		c, _ := rep.Find("engine:calls")
		if c.Status != report.Pass || !strings.Contains(c.Reason, "iam:CreatePolicy") {
			t.Errorf("engine:calls %s: %s (want PASS naming the admin run's iam:CreatePolicy)", c.Status, c.Reason)
		}
	}
	if t.Failed() {
		t.Logf("engine progress:\n%s", progress.String())
	}
}

// scenariosFromEnv narrows the run while debugging (MD_ENGINE_SCENARIOS=fresh,noop).
func scenariosFromEnv() []string {
	if v := os.Getenv("MD_ENGINE_SCENARIOS"); v != "" {
		return strings.Split(v, ",")
	}
	return EngineScenarios
}
