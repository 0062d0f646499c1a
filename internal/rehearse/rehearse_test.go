package rehearse

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/spec"
	"github.com/mirror-dissonance/mirror-infra/stacks/stackconfig"
)

func load(t testing.TB, stack string) stackconfig.Config {
	t.Helper()
	cfg, err := stackconfig.Load("../..", stack)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

var hex64 = regexp.MustCompile(`[0-9a-f]{64}`)

// noSecrets fails when a report could carry a nonce value (64 hex).
func noSecrets(t *testing.T, rep *report.Report) {
	t.Helper()
	var b bytes.Buffer
	_ = rep.WriteJSON(&b)
	_ = rep.WriteText(&b, false)
	_ = rep.WriteMarkdown(&b)
	if m := hex64.FindString(b.String()); m != "" {
		t.Errorf("the report contains a 64-hex value (a nonce?) %s...", m[:8])
	}
}

func TestRehearseShippedStacks(t *testing.T) {
	for _, stack := range []string{"staging", "production"} {
		t.Run(stack, func(t *testing.T) {
			res, err := Run(context.Background(), load(t, stack), Options{})
			if err != nil {
				t.Fatal(err)
			}
			rep := res.Report
			if rep.ExitCode() != report.ExitOK {
				var b bytes.Buffer
				_ = rep.WriteText(&b, false)
				t.Fatalf("exit %d:\n%s", rep.ExitCode(), b.String())
			}
			for _, c := range rep.Checks {
				switch {
				case c.Status == report.Pass:
				case c.Status == report.Warn && c.ID == "sns" && strings.Contains(c.Reason, "pending confirmation"):
					// E-mail confirmation is a human step (SPEC 2.3).
				case c.Status == report.Warn && c.ID == "alert" && !load(t, stack).VerificationQueue && strings.Contains(c.Reason, "no verification subscriber"):
					// Production has no verification subscriber by default
					// (SPEC 2.11): a person confirms the alert.
				case c.Status == report.Skip && c.ID == "data":
					// The E2E cycle removes what it wrote, so the tables
					// are empty when the data check samples them (SPEC 6).
				default:
					t.Errorf("%s is %s: %s", c.ID, c.Status, c.Reason)
				}
			}
			for _, id := range []string{"rehearse:provision", "gate:table-pitr", "nonce-bootstrap", "tables", "sse", "ttl", "pitr",
				"kms", "alarms", "sns", "alert", "oidc", "nonce", "rotation", "e2e", "baselines", "gate:baselines-tls-only", "drill"} {
				if _, ok := rep.Find(id); !ok {
					t.Errorf("the rehearsal did not report %s", id)
				}
			}
			// The stack's own subscriber, not one the rehearsal adds.
			alert, _ := rep.Find("alert")
			if q, _ := res.Outputs[spec.OutVerifyQueueURL].(string); load(t, stack).VerificationQueue && (q == "" || alert.Details["delivered"] != q) {
				t.Errorf("alert did not confirm delivery through the stack's queue %q: %+v", q, alert)
			}
			if alert.Details["fired"] == "" {
				t.Errorf("alert did not fire an alarm: %+v", alert)
			}
			noSecrets(t, rep)
		})
	}
}

func TestBreakEachDefect(t *testing.T) {
	cfg := load(t, "staging")
	for _, d := range Defects() {
		t.Run(d.Name, func(t *testing.T) {
			res, err := Run(context.Background(), cfg, Options{Break: d.Name})
			if err != nil {
				t.Fatal(err)
			}
			rep := res.Report
			if rep.ExitCode() != report.ExitFailed {
				t.Errorf("exit %d, want 1", rep.ExitCode())
			}
			for _, id := range d.CaughtBy {
				c, ok := rep.Find(id)
				if !ok || c.Status != d.want() {
					t.Errorf("%s did not report %s as %s: %+v", id, d.Name, d.want(), c)
				}
			}
			b, _ := rep.Find("rehearse:break")
			if !strings.HasPrefix(b.Reason, "injected defect "+d.Name) || !strings.Contains(b.Reason, "caught by") {
				t.Errorf("break check: %q", b.Reason)
			}
			noSecrets(t, rep)
		})
	}
}

func TestBreakUnknownDefect(t *testing.T) {
	_, err := Run(context.Background(), load(t, "staging"), Options{Break: "pitr"})
	if err == nil || !strings.Contains(err.Error(), `no defect "pitr"`) || !strings.Contains(err.Error(), "pitr-off") {
		t.Fatalf("error %v, want one naming the value and the known defects", err)
	}
}

// BenchmarkRehearseInProcess is the rehearsal without process start.
func BenchmarkRehearseInProcess(b *testing.B) {
	cfg := load(b, "staging")
	for b.Loop() {
		res, err := Run(context.Background(), cfg, Options{})
		if err != nil || res.Report.ExitCode() != 0 {
			b.Fatalf("%v exit %d", err, res.Report.ExitCode())
		}
	}
}

// BenchmarkRehearseProcess is `automation rehearse staging` as a whole
// process, after compilation (the measure).
func BenchmarkRehearseProcess(b *testing.B) {
	bin := filepath.Join(b.TempDir(), "automation")
	build := exec.Command("go", "build", "-o", bin, "./automation")
	build.Dir = "../.."
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("building the CLI: %v\n%s", err, out)
	}
	b.ResetTimer()
	for b.Loop() {
		cmd := exec.Command(bin, "rehearse", "staging", "--json")
		cmd.Dir = "../.."
		cmd.Stderr = nil
		if out, err := cmd.Output(); err != nil {
			b.Fatalf("rehearse: %v\n%s", err, out)
		}
	}
	_ = os.Remove(bin)
}
