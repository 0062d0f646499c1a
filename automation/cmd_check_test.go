package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mirror-dissonance/mirror-infra/internal/gate"
)

func cliRun(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, stdio{in: strings.NewReader(""), out: &out, err: &errb})
	return code, out.String(), errb.String()
}

func TestCheckShippedStacks(t *testing.T) {
	for _, stack := range []string{"staging", "production"} {
		code, out, errs := cliRun(t, "check", stack, "--json", "--project-dir", "..")
		if code != 0 {
			t.Fatalf("%s: exit %d\n%s", stack, code, errs)
		}
		var rep struct {
			Checks []struct {
				ID, Status string
			}
			Resources []struct {
				Type, Name string
			}
		}
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("%s: stdout is not the JSON report: %v", stack, err)
		}
		if len(rep.Checks) < 15 || len(rep.Resources) < gate.DefaultMinResources || len(rep.Resources) > gate.DefaultMaxResources {
			t.Errorf("%s: %d checks, %d resources", stack, len(rep.Checks), len(rep.Resources))
		}
		for _, c := range rep.Checks {
			if c.Status != "PASS" {
				t.Errorf("%s: %s is %s", stack, c.ID, c.Status)
			}
		}
		if !strings.Contains(errs, "passed") {
			t.Errorf("%s: human summary missing from stderr with --json: %q", stack, errs)
		}
	}
}

func TestCheckBrokenInputs(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Pulumi.yaml"), []byte("name: mirror-dissonance\nruntime: go\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := "config:\n  mirror-dissonance:environment: staging\n  mirror-dissonance:githubRepository: acme/infra\n  mirror-dissonance:createOidcProvider: \"true\"\n  mirror-dissonance:oracleSubjects: [\"repo:acme/oracle:ref:refs/heads/main\"]\n"
	stacks := map[string]string{
		"ok":        base,
		"yaml":      "config: [oops\n",
		"threshold": base + "  mirror-dissonance:throttleThreshold: \"-1\"\n",
		"proddel":   strings.Replace(base, "staging", "production", 1) + "  mirror-dissonance:deletionProtection: \"false\"\n",
		"typo":      base + "  mirror-dissonance:pitr: \"false\"\n",
		"noenv":     "config:\n  mirror-dissonance:githubRepository: acme/infra\n",
		"wildcard":  base + "  mirror-dissonance:githubSubjects: [\"repo:acme/infra:*\"]\n",
		"email":     base + "  mirror-dissonance:alertEmail: not-an-address\n",
		"window":    base + "  mirror-dissonance:kmsDeletionWindowDays: \"3\"\n",
		"prsubject": base + "  mirror-dissonance:githubSubjects: [\"repo:acme/infra:pull_request\"]\n",
		"badarn":    strings.Replace(base, `"true"`, `"false"`, 1) + "  mirror-dissonance:oidcProviderArn: arn:nope\n",
	}
	for name, body := range stacks {
		if err := os.WriteFile(filepath.Join(dir, "Pulumi."+name+".yaml"), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"valid temp stack", []string{"check", "ok"}, 0, ""},
		{"unknown stack", []string{"check", "qa"}, 2, `no Pulumi.qa.yaml (available stacks:`},
		{"malformed YAML", []string{"check", "yaml"}, 2, "not valid YAML"},
		{"negative threshold", []string{"check", "threshold"}, 2, "mirror-dissonance:throttleThreshold"},
		{"production without deletion protection", []string{"check", "proddel"}, 2, "mirror-dissonance:deletionProtection"},
		{"unknown key (a typo must not fall back to a default)", []string{"check", "typo"}, 2, "mirror-dissonance:pitr"},
		{"missing environment", []string{"check", "noenv"}, 2, "mirror-dissonance:environment"},
		{"wildcard subject", []string{"check", "wildcard"}, 2, "repo:acme/infra:*"},
		{"bad e-mail", []string{"check", "email"}, 2, "mirror-dissonance:alertEmail"},
		{"deletion window", []string{"check", "window"}, 2, "mirror-dissonance:kmsDeletionWindowDays"},
		{"deploy role trusting pull requests", []string{"check", "prsubject"}, 2, "never trusts pull_request"},
		{"malformed provider ARN", []string{"check", "badarn"}, 2, "mirror-dissonance:oidcProviderArn"},
		{"no stack", []string{"check"}, 2, "want exactly one stack name"},
		{"two stacks", []string{"check", "ok", "qa"}, 2, "want exactly one stack name"},
		{"unknown flag", []string{"check", "ok", "--frobnicate"}, 2, "unknown flag: --frobnicate"},
		{"path in stack name", []string{"check", "../ok"}, 2, "invalid"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errs := cliRun(t, append(tc.args, "--project-dir", dir)...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tc.code, errs)
			}
			if tc.want != "" && !strings.Contains(errs, tc.want) {
				t.Errorf("stderr does not mention %q:\n%s", tc.want, errs)
			}
		})
	}
}

func TestHelpDocumentsEveryCommand(t *testing.T) {
	code, out, _ := cliRun(t, "--help")
	if code != 0 {
		t.Fatalf("--help exit %d", code)
	}
	for _, c := range []string{"deploy <stack>", "preview <stack>", "check <stack>", "verify <stack>", "e2e <stack>",
		"nonce rotate <stack> --from N", "drift <stack>", "destroy <stack>", "rehearse <stack>",
		"--json", "--from-env", "--yes", "--approve", "--non-interactive"} {
		if !strings.Contains(out, c) {
			t.Errorf("--help does not document %q", c)
		}
	}
	for _, name := range commandNames(newRootCmd(newApp(stdio{}, environ{}, deps{}))) {
		code, out, _ := cliRun(t, "help", name)
		if code != 0 || !strings.Contains(out, "Usage: go run ./automation "+name) {
			t.Errorf("help %s: exit %d, %q", name, code, out)
		}
	}
	if code, _, errs := cliRun(t); code != 2 || !strings.Contains(errs, "Usage:") {
		t.Errorf("no arguments: exit %d, want 2 with usage", code)
	}
}

// BenchmarkCheckProcess is `automation check staging` as a whole process,
// after compilation; compare with driver's BenchmarkPreviewEmptyProgram.
func BenchmarkCheckProcess(b *testing.B) {
	bin := filepath.Join(b.TempDir(), "automation")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("building the CLI: %v\n%s", err, out)
	}
	b.ResetTimer()
	for b.Loop() {
		cmd := exec.Command(bin, "check", "staging", "--json", "--project-dir", "..")
		if out, err := cmd.Output(); err != nil {
			b.Fatalf("check: %v\n%s", err, out)
		}
	}
}
