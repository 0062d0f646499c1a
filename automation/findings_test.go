package main

// Tests for the operator-facing findings of issues 21 and 24: each one
// failed on the command line before this change.

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/verify"
	"github.com/mirror-dissonance/mirror-infra/verify/e2e"
)

// Issue 24, finding 1: verify is read-only unless a writing check is named.
func TestVerifyDefaultIsReadOnly(t *testing.T) {
	e, _, dir := oracleEnv(t)
	ctx := context.Background()
	published := func() int {
		n := 0
		for op, c := range e.Counts().ByOperation {
			if strings.HasSuffix(op, ".Publish") || strings.HasSuffix(op, ".SetAlarmState") {
				n += c
			}
		}
		return n
	}
	e.ResetCounts()
	code, stdout, stderr := runVerifyCLI(ctx, "verify", "local", "--from-env", "--json", "--project-dir", dir)
	if code != report.ExitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var r report.Report
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatal(err)
	}
	if _, ok := r.Find(verify.IDAlert); ok {
		t.Errorf("verify ran the alert check without --checks alert")
	}
	if n := published(); n != 0 {
		t.Errorf("verify wrote %d time(s) (Publish/SetAlarmState) without being asked", n)
	}
	for _, id := range verify.DefaultIDs() {
		if _, ok := r.Find(id); !ok {
			t.Errorf("the default set lacks the read-only check %s", id)
		}
	}
	// Named, alert runs and publishes.
	code, stdout, stderr = runVerifyCLI(ctx, "verify", "local", "--from-env", "--json", "--checks", "alert", "--project-dir", dir)
	if code != report.ExitOK || !strings.Contains(stdout, `"id": "alert"`) || published() == 0 {
		t.Errorf("--checks alert: exit %d, published %d\n%s\n%s", code, published(), stdout, stderr)
	}
	// Help says so.
	_, help, _ := runVerifyCLI(ctx, "help", "verify")
	if !strings.Contains(help, "--checks alert") {
		t.Errorf("help verify does not say alert runs only with --checks alert:\n%s", help)
	}
}

// Issue 24, finding 6: a mistyped command is not taken as a deploy.
func TestUnknownCommandSuggests(t *testing.T) {
	dir := deployProject(t)
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"veriyf", "staging", "--project-dir", dir}, []string{"did you mean", "verify"}},
		{[]string{"stagign", "--project-dir", dir}, []string{"staging"}},
		{[]string{"deploi", "staging"}, []string{"did you mean", "deploy"}},
	} {
		code, _, stderr := runVerifyCLI(context.Background(), tc.args...)
		if code != report.ExitUsage {
			t.Errorf("%v: exit %d, want 2\n%s", tc.args, code, stderr)
		}
		for _, w := range tc.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%v: stderr does not say %q:\n%s", tc.args, w, stderr)
			}
		}
		if strings.Contains(stderr, "automation deploy: stack") {
			t.Errorf("%v: taken as a deploy:\n%s", tc.args, stderr)
		}
	}
}

// Issue 24, finding 6: flag errors and missing arguments are one clear
// line plus the command's usage, never Go's raw flag defaults.
func TestUsageErrorsAreClear(t *testing.T) {
	dir := verifyProject(t, "local")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"verify", "local", "--bogus", "--project-dir", dir}, "--bogus"},
		{[]string{"verify", "--project-dir", dir}, "stack"},
		{[]string{"nonce", "rotate", "--project-dir", dir}, "stack"},
		{[]string{"verify", "local", "--timeout", "soon", "--project-dir", dir}, "--timeout"},
	} {
		code, stdout, stderr := runVerifyCLI(context.Background(), tc.args...)
		if code != report.ExitUsage {
			t.Errorf("%v: exit %d, want 2", tc.args, code)
		}
		first, _, _ := strings.Cut(stderr, "\n")
		if !strings.Contains(first, tc.want) {
			t.Errorf("%v: first line %q does not name %q", tc.args, first, tc.want)
		}
		for _, bad := range []string{"(default MD_ALARM_WAIT)", "(default -1ns)", "argument(s): \n", "flag provided but not defined"} {
			if strings.Contains(stderr+stdout, bad) {
				t.Errorf("%v: output has %q:\n%s", tc.args, bad, stderr)
			}
		}
		if !strings.Contains(stderr, "Usage:") {
			t.Errorf("%v: no usage of the command:\n%s", tc.args, stderr)
		}
	}
}

// Issue 24, finding 6: no credentials is one line naming the SDK's
// sources, not an SDK error and a FAIL per check.
func TestNoCredentialsIsOneLine(t *testing.T) {
	dir := verifyProject(t, "local")
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
	for _, args := range [][]string{
		{"verify", "local", "--from-env"},
		{"e2e", "local", "--from-env"},
		{"nonce", "rotate", "local", "--from", "0", "--from-env"},
	} {
		code, stdout, stderr := runVerifyCLI(context.Background(), append(args, "--project-dir", dir)...)
		if code != report.ExitUsage {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
		out := stdout + stderr
		if strings.Count(strings.TrimSpace(stderr), "\n") > 0 || strings.Contains(out, "not run") {
			t.Errorf("%v: want one line, got:\n%s", args, out)
		}
		for _, w := range []string{"no AWS credentials", "AWS_ACCESS_KEY_ID", "AWS_PROFILE", "web identity"} {
			if !strings.Contains(stderr, w) {
				t.Errorf("%v: stderr does not name %q: %s", args, w, stderr)
			}
		}
	}
}

// Issue 24, finding 6: a passphrase secrets backend without a passphrase
// is exit 2 before the CLI runs, never the CLI's silent empty passphrase.
func TestPassphraseRequired(t *testing.T) {
	dir := deployProject(t)
	t.Setenv("PULUMI_CLI_PATH", filepath.Join(t.TempDir(), "no-pulumi-here"))
	t.Setenv("PULUMI_BACKEND_URL", "")
	t.Setenv("MD_SECRETS_PROVIDER", "")
	for _, k := range []string{"PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE_FILE"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	for _, args := range [][]string{{"preview", "staging"}, {"deploy", "staging"}, {"drift", "staging"}, {"destroy", "staging"}} {
		code, _, stderr := runVerifyCLI(context.Background(), append(args, "--project-dir", dir)...)
		if code != report.ExitUsage || !strings.Contains(stderr, "PULUMI_CONFIG_PASSPHRASE") {
			t.Errorf("%v: exit %d, stderr %q; want 2 naming PULUMI_CONFIG_PASSPHRASE", args, code, stderr)
		}
	}
	// A KMS secrets provider needs no passphrase: the run goes on to the
	// (missing) CLI, exit 3.
	code, _, stderr := runVerifyCLI(context.Background(), "preview", "staging", "--project-dir", dir, "--secrets-provider", "awskms://alias/x?region=us-east-1")
	if code != report.ExitEngine {
		t.Errorf("with awskms: exit %d, want 3 (no CLI)\n%s", code, stderr)
	}
}

// Issue 24, finding 7: help verify lists every check of the catalogue;
// e2e's --timeout default is the library's.
func TestHelpMatchesTheLibrary(t *testing.T) {
	_, help, _ := runVerifyCLI(context.Background(), "help", "verify")
	for _, id := range verify.IDs() {
		if !strings.Contains(help, "\n  "+id+" ") {
			t.Errorf("help verify does not list %s", id)
		}
	}
	_, help, _ = runVerifyCLI(context.Background(), "help", "e2e")
	want := "(default " + e2e.DefaultTimeout.String() + ")"
	for _, line := range strings.Split(help, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "--timeout") && !strings.Contains(line, want) {
			t.Errorf("help e2e: %q does not say %s", line, want)
		}
	}
}

// silentEndpoint accepts connections and never answers.
func silentEndpoint(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		<-done
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return "http://" + l.Addr().String()
}

// Issue 21, finding 3: every command has a deadline; hitting it is exit 3
// with a report naming the bound.
func TestCommandsGiveUpAtTheirTimeout(t *testing.T) {
	dir := verifyProject(t, "local")
	if err := os.WriteFile(filepath.Join(dir, "Pulumi.acc-t1.yaml"), []byte("config:\n  aws:region: us-east-1\n  mirror-dissonance:ephemeral: \"true\"\n  mirror-dissonance:githubRepository: mirror-dissonance/mirror-infra\n  mirror-dissonance:githubSubjects:\n    - repo:mirror-dissonance/mirror-infra:environment:sandbox\n  mirror-dissonance:oracleSubjects:\n    - repo:acme/oracle:environment:acc-t1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_ENDPOINT_URL", silentEndpoint(t))
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	for _, args := range [][]string{
		{"nonce", "rotate", "local", "--from", "1", "--from-env"},
		{"leftovers", "acc-t1"},
		{"adopt", "local"},
	} {
		start := time.Now()
		code, stdout, stderr := runVerifyCLI(context.Background(), append(args, "--timeout", "1s", "--json", "--project-dir", dir)...)
		if took := time.Since(start); took > 20*time.Second {
			t.Errorf("%v: took %s against a silent endpoint with --timeout 1s", args, took)
		}
		if code != report.ExitEngine {
			t.Errorf("%v: exit %d, want 3\n%s", args, code, stderr)
			continue
		}
		var r report.Report
		if err := json.Unmarshal([]byte(stdout), &r); err != nil {
			t.Errorf("%v: no JSON report: %v\n%s", args, err, stdout)
			continue
		}
		if c, ok := r.Find("timeout"); !ok || c.Status != report.Fail || !strings.Contains(c.Reason, "--timeout 1s") {
			t.Errorf("%v: no timeout check naming the bound: %+v", args, r.Checks)
		}
	}
}

// Issue 21: a panic is exit 3 with a report, never Go's exit 2.
func TestPanicIsExit3WithAReport(t *testing.T) {
	dir := verifyProject(t, "local")
	var out, errb strings.Builder
	// The outputs reader panics when verify reads the stack's outputs.
	d := deps{outputs: func(context.Context, string, string) (map[string]any, error) { panic("boom") }}
	t.Setenv("PULUMI_CONFIG_PASSPHRASE", "x")
	code := execute(context.Background(), []string{"verify", "local", "--json", "--project-dir", dir},
		stdio{in: strings.NewReader(""), out: &out, err: &errb}, readEnviron(os.Environ()), d)
	if code != report.ExitEngine {
		t.Fatalf("exit %d, want 3\n%s", code, errb.String())
	}
	var r report.Report
	if err := json.Unmarshal([]byte(out.String()), &r); err != nil {
		t.Fatalf("no JSON report after a panic: %v\n%s", err, out.String())
	}
	if c, ok := r.Find("panic"); !ok || c.Status != report.Fail || !strings.Contains(c.Reason, "boom") {
		t.Errorf("report %+v, want a panic FAIL naming the value", r.Checks)
	}
}

// Issue 21: past the memory bound the command ends with exit 3 and a
// report naming the bound (Go's own out-of-memory crash exits with 2).
func TestMemoryBoundIsExit3WithAReport(t *testing.T) {
	dir := verifyProject(t, "local")
	var out, errb strings.Builder
	exited := make(chan int, 1)
	release := make(chan struct{})
	d := deps{
		memoryLimit: 1, // any heap is past it
		exit:        func(code int) { exited <- code; close(release) },
		// The command blocks as a runaway read would, until the bound ends it.
		outputs: func(context.Context, string, string) (map[string]any, error) {
			<-release
			return nil, errors.New("ended")
		},
	}
	t.Setenv("PULUMI_CONFIG_PASSPHRASE", "x")
	go execute(context.Background(), []string{"verify", "local", "--json", "--project-dir", dir},
		stdio{in: strings.NewReader(""), out: &out, err: &errb}, readEnviron(os.Environ()), d)
	select {
	case code := <-exited:
		if code != report.ExitEngine {
			t.Errorf("exit %d, want 3", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the memory bound never ended the command")
	}
	if !strings.Contains(out.String(), `"id": "memory"`) || !strings.Contains(out.String(), "past its bound") {
		t.Errorf("no memory report:\n%s", out.String())
	}
}

func TestWatchMemory(t *testing.T) {
	var used atomicUint
	got := make(chan uint64, 1)
	stop := watchMemory(context.Background(), 100, used.load, time.Millisecond, func(u uint64) { got <- u })
	defer stop()
	select {
	case <-got:
		t.Fatal("called below the limit")
	case <-time.After(20 * time.Millisecond):
	}
	used.store(101)
	select {
	case u := <-got:
		if u != 101 {
			t.Errorf("over(%d), want 101", u)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("not called past the limit")
	}
}

type atomicUint struct{ v atomic.Uint64 }

func (a *atomicUint) load() uint64   { return a.v.Load() }
func (a *atomicUint) store(n uint64) { a.v.Store(n) }
