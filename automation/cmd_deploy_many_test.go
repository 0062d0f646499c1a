package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/spf13/cobra"

	"github.com/mirror-dissonance/mirror-infra/internal/driver"
	"github.com/mirror-dissonance/mirror-infra/report"
)

// fakeCycle stands for each stack's real cycle: a preview with a
// per-stack fingerprint, then the real approval rules; stack "broken"
// fails in the engine.
type fakeCycle struct {
	mu       sync.Mutex
	ran      map[string]driver.Approval
	applied  []string
	failWith map[string]report.Check
}

func (f *fakeCycle) run(_ context.Context, s stackRun, r *report.Report) {
	f.mu.Lock()
	f.ran[s.stack] = s.approval
	f.mu.Unlock()
	fp := "sha256:" + s.stack
	r.Add(report.Check{ID: "preview", Status: report.Pass, Reason: "plan saved", Details: map[string]string{"fingerprint": fp}})
	if c, ok := f.failWith[s.stack]; ok {
		r.Add(c)
		return
	}
	ok, c := s.approval.Decide(s.stack, fp)
	r.Add(c)
	if ok {
		f.mu.Lock()
		f.applied = append(f.applied, s.stack)
		f.mu.Unlock()
		r.Add(report.Check{ID: "up", Status: report.Pass, Reason: "applied"})
	}
}

func TestDeployManyStacks(t *testing.T) {
	dir := deployProject(t)
	// An acc-<run> stack is its own environment (the template's config);
	// "broken" is a copy of staging.
	for s, from := range map[string]string{"acc-a": filepath.Join("..", "Pulumi.acc-example.yaml"), "broken": filepath.Join(dir, "Pulumi.staging.yaml")} {
		b, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "Pulumi."+s+".yaml"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	engineDown := report.Check{ID: "preview", Status: report.Fail, Infra: true, Reason: "the engine failed"}
	gateFail := report.Check{ID: "gate", Status: report.Fail, Reason: "a table would be replaced"}
	tests := []struct {
		name        string
		args        []string
		fail        map[string]report.Check
		wantExit    int
		wantRan     []string
		wantApplied []string
		wantStderr  string
	}{
		{name: "positional stacks, production needs its own fingerprint",
			args:     []string{"deploy", "staging", "production", "--yes"},
			wantExit: 0, wantRan: []string{"staging", "production"}, wantApplied: []string{"staging"}},
		{name: "per-stack fingerprints approve each",
			args:     []string{"deploy", "--stacks", "staging,production", "--approve", "production=sha256:production", "--approve", "staging=sha256:staging"},
			wantExit: 0, wantRan: []string{"staging", "production"}, wantApplied: []string{"production", "staging"}},
		{name: "a wrong fingerprint fails that stack only",
			args:     []string{"deploy", "staging", "production", "--yes", "--approve", "production=sha256:other"},
			wantExit: 1, wantRan: []string{"staging", "production"}, wantApplied: []string{"staging"}},
		{name: "one engine failure is the worst, others still applied",
			args: []string{"deploy", "--all", "--yes", "--parallel", "2"}, fail: map[string]report.Check{"broken": engineDown},
			wantExit: 3, wantRan: []string{"broken", "production", "staging"}, wantApplied: []string{"staging"}},
		{name: "an acceptance stack runs only when named (never with --all)",
			args: []string{"deploy", "acc-a", "staging", "--yes"}, fail: map[string]report.Check{"acc-a": gateFail},
			wantExit: 1, wantRan: []string{"acc-a", "staging"}, wantApplied: []string{"staging"}},
		{name: "bare fingerprint with several stacks is refused",
			args: []string{"deploy", "staging", "production", "--approve", "sha256:x"}, wantExit: 2, wantStderr: "name the stack of each fingerprint"},
		{name: "fingerprint for a stack not in the run",
			args: []string{"deploy", "staging", "production", "--approve", "prod=sha256:x"}, wantExit: 2, wantStderr: "stack(s) prod not in this run"},
		{name: "parallel zero", args: []string{"deploy", "staging", "production", "--parallel", "0"}, wantExit: 2, wantStderr: "--parallel 0: want 1 or more"},
		{name: "--all with names", args: []string{"deploy", "staging", "--all"}, wantExit: 2, wantStderr: "do not also name stacks"},
		{name: "unknown stack stops all before any run", args: []string{"deploy", "staging", "nope"}, wantExit: 2, wantStderr: "Pulumi.nope.yaml"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeCycle{ran: map[string]driver.Approval{}, failWith: tc.fail}
			var out, errb bytes.Buffer
			args := append(append([]string{}, tc.args...), "--project-dir", dir, "--json", "--non-interactive")
			code := execute(context.Background(), args, stdio{in: strings.NewReader(""), out: &out, err: &errb}, readEnviron(nil), deps{cycle: f.run})
			if code != tc.wantExit {
				t.Fatalf("exit = %d, want %d\nstdout %s\nstderr %s", code, tc.wantExit, out.String(), errb.String())
			}
			if tc.wantStderr != "" {
				if !strings.Contains(errb.String(), tc.wantStderr) {
					t.Errorf("stderr does not say %q: %s", tc.wantStderr, errb.String())
				}
				if len(f.ran) != 0 {
					t.Errorf("stacks ran despite the usage error: %v", f.ran)
				}
				return
			}
			var got combinedReport
			if err := json.Unmarshal(out.Bytes(), &got); err != nil {
				t.Fatalf("stdout is not the combined JSON: %v\n%s", err, out.String())
			}
			if got.ExitCode != tc.wantExit || strings.Join(got.Stacks, ",") != strings.Join(tc.wantRan, ",") {
				t.Errorf("combined report exit %d stacks %v; want %d %v", got.ExitCode, got.Stacks, tc.wantExit, tc.wantRan)
			}
			if len(got.Reports) != len(tc.wantRan) || len(got.Checks) != len(tc.wantRan) {
				t.Fatalf("combined report has %d reports and %d checks for %d stacks", len(got.Reports), len(got.Checks), len(tc.wantRan))
			}
			for i, r := range got.Reports {
				if r.Stack != tc.wantRan[i] || got.Checks[i].ID != tc.wantRan[i] || r.Fingerprint != "sha256:"+r.Stack {
					t.Errorf("section %d = stack %q check %q fingerprint %q; want %q with its own", i, r.Stack, got.Checks[i].ID, r.Fingerprint, tc.wantRan[i])
				}
				if _, ok := f.ran[r.Stack]; !ok {
					t.Errorf("stack %s has a section but never ran", r.Stack)
				}
			}
			for _, s := range tc.wantRan {
				if a := f.ran[s]; a.Interactive || a.Production != (s == "production") {
					t.Errorf("stack %s approval %+v: want no prompt and production only for production", s, a)
				}
			}
			applied := strings.Join(sorted(f.applied), ",")
			if applied != strings.Join(sorted(tc.wantApplied), ",") {
				t.Errorf("applied %s, want %v", applied, tc.wantApplied)
			}
			if !strings.Contains(errb.String(), "[staging] done: exit") {
				t.Errorf("stderr has no per-stack progress:\n%s", errb.String())
			}
		})
	}
}

func sorted(ss []string) []string {
	out := append([]string{}, ss...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func TestDeployManyMarkdownHasASectionPerStack(t *testing.T) {
	dir := deployProject(t)
	md := filepath.Join(t.TempDir(), "report.md")
	f := &fakeCycle{ran: map[string]driver.Approval{}}
	var out, errb bytes.Buffer
	code := execute(context.Background(), []string{"deploy", "staging", "production", "--project-dir", dir, "--markdown", md, "--non-interactive"},
		stdio{in: strings.NewReader(""), out: &out, err: &errb}, readEnviron(nil), deps{cycle: f.run})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	b, err := os.ReadFile(md)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"## deploy: 2 stacks, exit 0", "### deploy `staging`", "### deploy `production`", "--approve production=sha256:production"} {
		if !strings.Contains(string(b), w) {
			t.Errorf("Markdown does not have %q:\n%s", w, b)
		}
	}
	if !strings.Contains(out.String(), "exit 0 (the worst of 2 stacks)") {
		t.Errorf("text report has no summary line:\n%s", out.String())
	}
}

func TestApproveFlagForms(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr string
		plain   string
		named   map[string]string
	}{
		{args: []string{"--approve", "sha256:1"}, plain: "sha256:1"},
		{args: []string{"--approve=sha256:1"}, plain: "sha256:1"},
		{args: []string{"--approve", "staging=sha256:1", "--approve", "production=sha256:2"}, named: map[string]string{"staging": "sha256:1", "production": "sha256:2"}},
		{args: []string{"--approve", "=sha256:1"}, wantErr: "want FINGERPRINT or STACK=FINGERPRINT"},
		{args: []string{"--approve", "staging=sha256:1", "--approve", "staging=sha256:2"}, wantErr: "two fingerprints for stack staging"},
	}
	for _, tc := range tests {
		var f approvalFlags
		c := &cobra.Command{Use: "x"}
		f.add(c, environ{})
		err := c.ParseFlags(tc.args)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%v: err %v, want %q", tc.args, err, tc.wantErr)
			}
			continue
		}
		if err != nil || f.approve != tc.plain || len(f.approvals) != len(tc.named) {
			t.Errorf("%v: err %v flags %+v", tc.args, err, f)
		}
		for s, fp := range tc.named {
			if f.fingerprintFor(s) != fp {
				t.Errorf("%v: fingerprint of %s = %q, want %q", tc.args, s, f.fingerprintFor(s), fp)
			}
		}
	}
}
