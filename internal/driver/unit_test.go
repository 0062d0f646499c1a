package driver

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/mirror-dissonance/mirror-infra/internal/gate"
	"github.com/mirror-dissonance/mirror-infra/report"
)

const basePlan = `{"version":1,"plan":{"manifest":{"time":"2026-11-26T20:00:00Z","magic":"m","version":"v3.274.1",
"plugins":[{"name":"aws","path":"/home/a/.pulumi/plugins","type":"resource","version":"6.83.4"}]},
"config":{"aws:region":"us-east-1"},
"resourcePlans":{"urn:pulumi:s::p::t::a":{"goal":{"type":"t","name":"a","custom":true,"protect":true},"steps":["create"],"state":{"x":1},"seed":"AAAA"}}}}`

func TestFingerprintIgnoresOnlyNondeterministicParts(t *testing.T) {
	base, err := Fingerprint([]byte(basePlan))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(base, FingerprintPrefix) || len(base) != len(FingerprintPrefix)+64 {
		t.Fatalf("fingerprint %q is not sha256:<64 hex>", base)
	}
	tests := []struct {
		name, old, new string
		same           bool
	}{
		{"time", `"time":"2026-11-26T20:00:00Z"`, `"time":"2027-01-01T00:00:00Z"`, true},
		{"seed", `"seed":"AAAA"`, `"seed":"BBBB"`, true},
		{"plugin path", `"/home/a/.pulumi/plugins"`, `"/root/.pulumi/plugins"`, true},
		{"whitespace and key order", `{"type":"t","name":"a"`, `{ "name" : "a", "type":"t"`, true},
		{"secret ciphertext", `"state":{"x":1}`, `"state":{"x":{"4dabf18193072939515e22adb298388d":"1b47061264138c4ac30d75fd1eb44270","ciphertext":"v2"}}`, false},
		{"step", `"steps":["create"]`, `"steps":["create","delete"]`, false},
		{"protect", `"protect":true`, `"protect":false`, false},
		{"config", `"us-east-1"`, `"eu-west-1"`, false},
		{"outputs", `"state":{"x":1}`, `"state":{"x":2}`, false},
		{"plugin version", `"6.83.4"`, `"6.83.5"`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			changed := strings.Replace(basePlan, tc.old, tc.new, 1)
			if changed == basePlan {
				t.Fatalf("replacement %q not found", tc.old)
			}
			fp, err := Fingerprint([]byte(changed))
			if err != nil {
				t.Fatal(err)
			}
			if (fp == base) != tc.same {
				t.Errorf("changing %s: same fingerprint = %v, want %v", tc.name, fp == base, tc.same)
			}
		})
	}
	// Two secrets with different ciphertexts of the same value are equal.
	s1 := strings.Replace(basePlan, `"state":{"x":1}`, `"state":{"x":{"4dabf18193072939515e22adb298388d":"1b47061264138c4ac30d75fd1eb44270","ciphertext":"v1"}}`, 1)
	s2 := strings.Replace(basePlan, `"state":{"x":1}`, `"state":{"x":{"4dabf18193072939515e22adb298388d":"1b47061264138c4ac30d75fd1eb44270","ciphertext":"other"}}`, 1)
	f1, _ := Fingerprint([]byte(s1))
	f2, _ := Fingerprint([]byte(s2))
	if f1 != f2 {
		t.Error("re-encrypted secrets change the fingerprint")
	}
	for _, bad := range []string{"", "[]", `{"plan":{}}`, "not json"} {
		if _, err := Fingerprint([]byte(bad)); err == nil {
			t.Errorf("Fingerprint(%q) accepted a non-plan", bad)
		}
	}
}

func TestSameFingerprint(t *testing.T) {
	fp := FingerprintPrefix + strings.Repeat("ab", 32)
	tests := []struct {
		a, b string
		want bool
	}{
		{fp, fp, true},
		{fp, strings.Repeat("AB", 32), true},
		{fp, " " + fp + "\n", true},
		{fp, FingerprintPrefix + strings.Repeat("ab", 31) + "ac", false},
		{fp, "", false},
		{"", "", false},
	}
	for _, tc := range tests {
		if got := SameFingerprint(tc.a, tc.b); got != tc.want {
			t.Errorf("SameFingerprint(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

func pre(op apitype.OpType, urn string, old, new map[string]any, diffs ...string) events.EngineEvent {
	m := apitype.StepEventMetadata{Op: op, URN: urn, Type: "aws:dynamodb/table:Table", Diffs: diffs}
	if old != nil {
		m.Old = &apitype.StepEventStateMetadata{Inputs: old, Protect: true, Custom: true}
	}
	if new != nil {
		m.New = &apitype.StepEventStateMetadata{Inputs: new, Custom: true}
	}
	return events.EngineEvent{EngineEvent: apitype.EngineEvent{ResourcePreEvent: &apitype.ResourcePreEvent{Metadata: m}}}
}

func TestCollectorFoldsEventsIntoGateResources(t *testing.T) {
	var progress strings.Builder
	c := newCollector(context.Background(), &progress, "preview of staging", false)
	const u = "urn:pulumi:staging::mirror-dissonance::aws:dynamodb/table:Table::fp-events"
	const gone = "urn:pulumi:staging::mirror-dissonance::aws:kms/key:Key::old-key"
	const alarm = "urn:pulumi:staging::mirror-dissonance::aws:cloudwatch/metricAlarm:MetricAlarm::a1"
	for _, ev := range []events.EngineEvent{
		pre(apitype.OpReplace, u, map[string]any{"name": "old"}, map[string]any{"name": "new"}, "name"),
		pre(apitype.OpCreateReplacement, u, map[string]any{"name": "old"}, map[string]any{"name": "new"}),
		pre(apitype.OpDeleteReplaced, u, map[string]any{"name": "old"}, nil),
		pre(apitype.OpDelete, gone, map[string]any{"enableKeyRotation": true}, nil),
		pre(apitype.OpUpdate, alarm, map[string]any{"threshold": 10}, map[string]any{"threshold": 20}, "threshold"),
		{EngineEvent: apitype.EngineEvent{DiagnosticEvent: &apitype.DiagnosticEvent{Severity: "error", Message: "\x1b[31mboom<{%reset%}>\n"}}},
		{EngineEvent: apitype.EngineEvent{SummaryEvent: &apitype.SummaryEvent{ResourceChanges: map[apitype.OpType]int{"replace": 1, "delete": 1, "update": 1}}}},
	} {
		c.ch <- ev
	}
	close(c.ch)
	c.finish(nil)
	rs := c.Resources()
	if len(rs) != 3 {
		t.Fatalf("resources = %+v, want 3", rs)
	}
	want := []struct {
		name    string
		op      gate.Op
		input   string
		protect bool
	}{
		{"fp-events", gate.OpReplace, "new", true},
		{"old-key", gate.OpDelete, "", true},
		{"a1", gate.OpUpdate, "", true},
	}
	for i, w := range want {
		r := rs[i]
		if r.Name != w.name || r.Op != w.op || r.Protect != w.protect {
			t.Errorf("resource %d = %+v, want %s %s protect=%v", i, r, w.name, w.op, w.protect)
		}
		if w.input != "" && r.Inputs["name"] != w.input {
			t.Errorf("%s inputs = %v, want the new inputs", r.Name, r.Inputs)
		}
	}
	if rs[1].Inputs["enableKeyRotation"] != true {
		t.Errorf("a delete must carry the old inputs, got %v", rs[1].Inputs)
	}
	if strings.Join(rs[2].Diffs, ",") != "threshold" {
		t.Errorf("update diffs = %v, want threshold", rs[2].Diffs)
	}
	if errs := c.Errors(); len(errs) != 1 || errs[0] != "boom" {
		t.Errorf("errors = %q, want [boom] without colour codes", errs)
	}
	if c.summary["replace"] != 1 {
		t.Errorf("summary = %v", c.summary)
	}
	for _, want := range []string{"± replace", "- delete", "~ update", "(threshold)"} {
		if !strings.Contains(progress.String(), want) {
			t.Errorf("progress lacks %q:\n%s", want, progress.String())
		}
	}
}

// A preview with refresh reads each resource (a refresh step) before its
// real step: the refresh must not hide a resource's "same" from the gate
// (found by engine:drift once the deploy's preview refreshed: the gate saw
// 3 of 31 resources kept).
func TestCollectorIgnoresRefreshSteps(t *testing.T) {
	c := newCollector(context.Background(), nil, "preview of staging", false)
	const u = "urn:pulumi:staging::mirror-dissonance::aws:dynamodb/table:Table::fp-events"
	c.ch <- pre(apitype.OpRefresh, u, map[string]any{"name": "t"}, map[string]any{"name": "t"})
	c.ch <- pre(apitype.OpSame, u, map[string]any{"name": "t"}, map[string]any{"name": "t"})
	close(c.ch)
	c.finish(nil)
	if rs := c.Resources(); len(rs) != 1 || rs[0].Op != gate.OpSame {
		t.Errorf("resources = %+v, want fp-events same", rs)
	}
}

func TestCollectorStopsWhenStreamNeverStarted(t *testing.T) {
	c := newCollector(context.Background(), nil, "preview of staging", false)
	c.finish(errors.New("CLI failed before streaming"))
	if len(c.Resources()) != 0 {
		t.Fatal("resources from nowhere")
	}
}

func TestDriftOf(t *testing.T) {
	custom := func(out map[string]any) *apitype.StepEventStateMetadata {
		return &apitype.StepEventStateMetadata{Custom: true, Outputs: out}
	}
	steps := []apitype.StepEventMetadata{
		{Op: apitype.OpRefresh, URN: "u::same", Old: custom(map[string]any{"pitr": true}), New: custom(map[string]any{"pitr": true})},
		{Op: apitype.OpRefresh, URN: "u::pitr-off", Old: custom(map[string]any{"pitr": true, "a": 1}), New: custom(map[string]any{"pitr": false, "a": 1})},
		{Op: apitype.OpRefresh, URN: "u::gone", Old: custom(map[string]any{"x": 1}), New: nil},
		{Op: apitype.OpRefresh, URN: "u::component", Old: &apitype.StepEventStateMetadata{Outputs: map[string]any{"x": 1}}, New: &apitype.StepEventStateMetadata{Outputs: map[string]any{"x": 2}}},
		{Op: apitype.OpRefresh, URN: "u::detailed", Old: custom(map[string]any{}), New: custom(map[string]any{}), DetailedDiff: map[string]apitype.PropertyDiff{"tags.Owner": {}}},
	}
	got := driftOf(steps)
	if len(got) != 3 {
		t.Fatalf("drift = %+v, want pitr-off, gone, detailed", got)
	}
	if got[0].Name != "pitr-off" || strings.Join(got[0].Changed, ",") != "pitr" {
		t.Errorf("drift[0] = %+v", got[0])
	}
	if got[1].Name != "gone" || !got[1].Gone {
		t.Errorf("drift[1] = %+v", got[1])
	}
	if got[2].Name != "detailed" || strings.Join(got[2].Changed, ",") != "tags.Owner" {
		t.Errorf("drift[2] = %+v", got[2])
	}
}

func TestApprovalDecide(t *testing.T) {
	const fp = "sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	tests := []struct {
		name   string
		a      Approval
		apply  bool
		status report.Status
	}{
		{"matching fingerprint", Approval{Fingerprint: fp}, true, report.Pass},
		{"matching fingerprint in production", Approval{Production: true, Fingerprint: fp}, true, report.Pass},
		{"mismatching fingerprint", Approval{Fingerprint: "sha256:00", Yes: true}, false, report.Fail},
		{"production --yes", Approval{Production: true, Yes: true}, false, report.Skip},
		{"production interactive", Approval{Production: true, Interactive: true, In: strings.NewReader("yes\n")}, false, report.Skip},
		{"--yes", Approval{Yes: true}, true, report.Pass},
		{"interactive yes", Approval{Interactive: true, In: strings.NewReader("YES\n")}, true, report.Pass},
		{"interactive empty", Approval{Interactive: true, In: strings.NewReader("")}, false, report.Skip},
		{"non-interactive", Approval{}, false, report.Skip},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out strings.Builder
			tc.a.Out = &out
			apply, c := tc.a.Decide("staging", fp)
			if apply != tc.apply || c.Status != tc.status || c.ID != "approval" {
				t.Fatalf("Decide = %v %+v, want %v %s", apply, c, tc.apply, tc.status)
			}
			if !apply && c.Status == report.Skip && !strings.Contains(c.Reason, "not applied") {
				t.Errorf("reason %q does not say nothing was applied", c.Reason)
			}
		})
	}
}

func TestErrorCheckExitCodes(t *testing.T) {
	tests := []struct {
		err  error
		exit int
	}{
		{ErrPlanMismatch, report.ExitFailed},
		{ErrFingerprint, report.ExitFailed},
		{ErrProtected, report.ExitFailed},
		{&ProtectedReplaceError{Replaced: []ProtectedReplacement{{Name: "consent", Keys: []string{"rangeKey"}}}}, report.ExitFailed},
		{&PluginMissingError{Plugin: AWSPlugin()}, report.ExitEngine},
		{ErrCLIMissing, report.ExitEngine},
		{ErrLocked, report.ExitEngine},
		{ErrCancelled, report.ExitEngine},
		{&EngineError{Op: "up", Err: errors.New("x")}, report.ExitEngine},
	}
	for _, tc := range tests {
		r := report.Report{}
		r.Add(ErrorCheck("up", tc.err))
		if got := r.ExitCode(); got != tc.exit {
			t.Errorf("%v: exit %d, want %d", tc.err, got, tc.exit)
		}
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		msg  string
		want error
	}{
		{"error: the stack is currently locked by 1 lock(s). Either wait", ErrLocked},
		{"error: resource urn:x violates plan: properties changed", ErrPlanMismatch},
		{"error: create is not allowed by the plan: no steps were expected for this resource", ErrPlanMismatch},
		{"error: unable to replace resource \"urn:pulumi:staging::p::aws:dynamodb/table:Table::consent\"\nas it is currently marked for protection. To unprotect the resource, remove the `protect` flag", ErrProtectedReplace},
		{"error: something else", nil},
	}
	for _, tc := range tests {
		got := classify(errors.New(tc.msg))
		if tc.want == nil {
			if errors.Is(got, ErrLocked) || errors.Is(got, ErrPlanMismatch) || errors.Is(got, ErrProtectedReplace) {
				t.Errorf("%q classified as %v", tc.msg, got)
			}
			continue
		}
		if !errors.Is(got, tc.want) {
			t.Errorf("classify(%q) = %v, want %v", tc.msg, got, tc.want)
		}
	}
}

func TestWriteStackSettingsKeepsEncryptionSalt(t *testing.T) {
	proj, work := t.TempDir(), t.TempDir()
	write := func(dir, body string) {
		if err := os.WriteFile(filepath.Join(dir, "Pulumi.dev.yaml"), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(proj, "config:\n  aws:region: eu-west-1\n")
	write(work, "encryptionsalt: v1:salt\nconfig:\n  aws:region: us-east-1\n")
	if err := writeStackSettings(proj, work, "dev"); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(work, "Pulumi.dev.yaml"))
	if !strings.Contains(string(b), "encryptionsalt: v1:salt") || !strings.Contains(string(b), "eu-west-1") || strings.Contains(string(b), "us-east-1") {
		t.Fatalf("work stack file = %s; want the project's config and the kept salt", b)
	}
	if b, _ := os.ReadFile(filepath.Join(proj, "Pulumi.dev.yaml")); strings.Contains(string(b), "salt") {
		t.Fatal("the project's stack file was modified")
	}
	if err := writeStackSettings(proj, work, "missing"); err == nil {
		t.Fatal("a missing stack file was accepted")
	}
}

func TestFindCLI(t *testing.T) {
	t.Setenv("PULUMI_CLI_PATH", filepath.Join(t.TempDir(), "bin", "pulumi"))
	_, err := FindCLI("", ".")
	if !errors.Is(err, ErrCLIMissing) || !strings.Contains(err.Error(), "make tools") {
		t.Fatalf("FindCLI with a missing PULUMI_CLI_PATH = %v, want ErrCLIMissing telling to run make tools", err)
	}
	t.Setenv("PULUMI_CLI_PATH", "")
	_, err = FindCLI("", t.TempDir())
	if !errors.Is(err, ErrCLIMissing) {
		t.Fatalf("FindCLI outside a module = %v, want ErrCLIMissing", err)
	}
}

func TestAWSPluginMatchesSDK(t *testing.T) {
	p := AWSPlugin()
	if p.Version != fallbackAWSVersion || p.Name != "aws" || p.Kind != "resource" {
		t.Fatalf("AWSPlugin = %+v; go.mod pins %s (update fallbackAWSVersion with the SDK)", p, fallbackAWSVersion)
	}
	if p.InstallCommand() != "pulumi plugin install resource aws "+fallbackAWSVersion {
		t.Fatalf("install command %q", p.InstallCommand())
	}
}

func TestBackendSelection(t *testing.T) {
	withURL, plain := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(withURL, "Pulumi.yaml"), []byte("name: x\nruntime: go\nbackend:\n  url: s3://bucket/state\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(plain, "Pulumi.yaml"), []byte("name: x\nruntime: go\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	noop := func(*pulumi.Context) error { return nil }
	tests := []struct {
		name, dir, env, explicit, want string
	}{
		{"explicit wins", withURL, "file:///env", "file:///explicit", "file:///explicit"},
		{"environment next", withURL, "file:///env", "", "file:///env"},
		{"project file next", withURL, "", "", "s3://bucket/state"},
		{"local default", plain, "", "", DefaultBackendURL(plain)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("PULUMI_BACKEND_URL", tc.env)
			s := Settings{ProjectDir: tc.dir, Stack: "dev", Program: noop, BackendURL: tc.explicit}
			if err := s.defaults(); err != nil {
				t.Fatal(err)
			}
			if s.BackendURL != tc.want {
				t.Fatalf("backend = %q, want %q", s.BackendURL, tc.want)
			}
		})
	}
}
