package driver

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/mirror-dissonance/mirror-infra/emulator"
	"github.com/mirror-dissonance/mirror-infra/internal/gate"
	"github.com/mirror-dissonance/mirror-infra/report"
)

// These tests drive the real pulumi CLI (built by `make tools`) with a local
// file backend and provider-free inline programs (component resources
// only), so they need neither a cloud account nor any plugin.

// testCLI returns the pulumi binary or fails telling how to get it.
func testCLI(t testing.TB) string {
	t.Helper()
	p, err := FindCLI("", ".")
	if err != nil {
		t.Fatalf("the driver tests need the real pulumi CLI: %v (run `make tools` first)", err)
	}
	return p
}

// backendKind is where a fixture keeps its state: a local directory, or
// an S3 bucket with awskms:// secrets served by the in-process emulator
// (what a team shares).
type backendKind string

const (
	fileBackend backendKind = "file"
	s3Backend   backendKind = "s3"
	// fileKMSBackend is the file backend with the emulator's awskms://
	// secrets: the benchmark's like-for-like baseline for s3 (the
	// passphrase provider derives its key on every CLI run).
	fileKMSBackend backendKind = "file+kms"
)

// bothBackends is the matrix of the tests that must hold on each backend;
// the rest run on the file backend only, to keep `make test` short.
var bothBackends = []backendKind{fileBackend, s3Backend}

// onBothBackends runs test as a parallel subtest on each backend, in
// parallel with the other tests.
func onBothBackends(t *testing.T, test func(*testing.T, backendKind)) {
	t.Parallel()
	for _, kind := range bothBackends {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			test(t, kind)
		})
	}
}

// fixture is one isolated project: its own stack file, backend, home and
// output directory.
type fixture struct {
	dir, cli string
	kind     backendKind
	// backendURL, secrets and env configure the CLI for the backend.
	backendURL, secrets string
	env                 map[string]string
	// emu and sb are the emulator and its bucket and key (s3 only).
	emu *emulator.Emulator
	sb  emulator.StateBackend
}

func newFixture(t testing.TB, stacks ...string) fixture {
	t.Helper()
	return newFixtureOn(t, fileBackend, stacks...)
}

// newFixtureOn is newFixture on the given backend.
func newFixtureOn(t testing.TB, kind backendKind, stacks ...string) fixture {
	t.Helper()
	cli := testCLI(t)
	dir := t.TempDir()
	for _, s := range stacks {
		// A config value proves the project's stack file reaches the CLI.
		body := "config:\n  test:greeting: hello-" + s + "\n"
		if err := os.WriteFile(filepath.Join(dir, "Pulumi."+s+".yaml"), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f := fixture{dir: dir, cli: cli, kind: kind,
		backendURL: "file://" + filepath.Join(dir, "state"),
		env:        map[string]string{"PULUMI_CONFIG_PASSPHRASE": "driver-test"}}
	if kind == s3Backend || kind == fileKMSBackend {
		f.emu = emulator.Start()
		t.Cleanup(f.emu.Close)
		// kumo's buckets are per process, not per emulator: a unique name.
		sb, err := f.emu.NewStateBackend(context.Background(), uniqueBucket(), "teams/infra")
		if err != nil {
			t.Fatal(err)
		}
		f.sb, f.backendURL, f.secrets = sb, sb.URL, sb.SecretsProvider
		if kind == fileKMSBackend {
			f.backendURL = "file://" + filepath.Join(dir, "state")
		}
		// No passphrase: the KMS key is the only way to the secrets.
		f.env = sb.Env
	}
	return f
}

func uniqueBucket() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "state-" + hex.EncodeToString(b[:])
}

func (f fixture) settings(stack string, prog pulumi.RunFunc) Settings {
	env := map[string]string{}
	for k, v := range f.env {
		env[k] = v
	}
	return Settings{
		ProjectDir:      f.dir,
		Stack:           stack,
		Program:         prog,
		ProjectName:     "drivertest",
		BackendURL:      f.backendURL,
		SecretsProvider: f.secrets,
		CLIPath:         f.cli,
		PulumiHome:      filepath.Join(f.dir, "home"),
		EnvVars:         env,
	}
}

// locks are the stack's locks on the fixture's backend, read as `unlock`
// reads them.
func (f fixture) locks(t testing.TB, stack string) []Lock {
	t.Helper()
	lt, err := LockTargetFor(f.settings(stack, nil))
	if err != nil {
		t.Fatal(err)
	}
	ls, err := Locks(context.Background(), lt)
	if err != nil {
		t.Fatalf("listing locks: %v", err)
	}
	return ls
}

func (f fixture) open(t testing.TB, stack string, prog pulumi.RunFunc) *Driver {
	t.Helper()
	d, err := Open(context.Background(), f.settings(stack, prog))
	if err != nil {
		t.Fatalf("opening stack %s: %v", stack, err)
	}
	return d
}

// thing is a provider-free component resource.
type thing struct{ pulumi.ResourceState }

// things declares one component per name (protected when listed in
// protect) and exports the names and the stack's greeting config.
func things(names []string, protect ...string) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		for _, n := range names {
			c := &thing{}
			var opts []pulumi.ResourceOption
			if contains(protect, n) {
				opts = append(opts, pulumi.Protect(true))
			}
			if err := ctx.RegisterComponentResource("drivertest:index:Thing", n, c, opts...); err != nil {
				return err
			}
			if err := ctx.RegisterResourceOutputs(c, pulumi.Map{"name": pulumi.String(n)}); err != nil {
				return err
			}
		}
		ctx.Export("count", pulumi.Int(len(names)))
		ctx.Export("greeting", pulumi.String(configValue(ctx, "test:greeting")))
		return nil
	}
}

func configValue(ctx *pulumi.Context, key string) string {
	v, _ := ctx.GetConfig(key)
	return v
}

func stateNames(t testing.TB, d *Driver) []string {
	t.Helper()
	rs, err := d.State(context.Background())
	if err != nil {
		t.Fatalf("reading state: %v", err)
	}
	var out []string
	for _, r := range rs {
		if r.Type == "drivertest:index:Thing" {
			out = append(out, urnName(r.URN))
		}
	}
	return out
}

func opsOf(p *Preview) map[string]gate.Op {
	m := map[string]gate.Op{}
	for _, c := range p.Changes {
		m[c.Name] = c.Op
	}
	return m
}

func TestPreviewSavesPlanAndUpAppliesExactlyIt(t *testing.T) {
	onBothBackends(t, testPreviewAndUp)
}

func testPreviewAndUp(t *testing.T, kind backendKind) {
	f := newFixtureOn(t, kind, "dev")
	ctx := context.Background()
	var progress bytes.Buffer
	s := f.settings("dev", things([]string{"a", "b"}))
	s.Progress = &progress
	d, err := Open(ctx, s)
	if err != nil {
		t.Fatal(err)
	}

	p, err := d.Preview(ctx)
	if err != nil {
		t.Fatalf("preview: %v", err)
	}
	if _, err := os.Stat(p.PlanPath); err != nil {
		t.Fatalf("preview saved no plan: %v", err)
	}
	if got := opsOf(p); got["a"] != gate.OpCreate || got["b"] != gate.OpCreate {
		t.Fatalf("planned ops = %v, want a and b created", got)
	}
	if !strings.Contains(progress.String(), "drivertest:index:Thing a") {
		t.Errorf("progress did not render the planned resource a:\n%s", progress.String())
	}
	for _, path := range []string{p.SummaryJSON, p.SummaryMarkdown} {
		b, err := os.ReadFile(path)
		if err != nil || !strings.Contains(string(b), p.Fingerprint) {
			t.Errorf("summary %s missing or without the fingerprint (err %v)", path, err)
		}
	}
	if len(stateNames(t, d)) != 0 {
		t.Fatal("preview changed the state")
	}

	// A second preview of the same program and state gives the same
	// fingerprint, so an approval survives a re-preview.
	p2, err := d.Preview(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if p2.Fingerprint != p.Fingerprint {
		t.Fatalf("fingerprint not reproducible: %s then %s", p.Fingerprint, p2.Fingerprint)
	}

	applied, err := d.Up(ctx, p2.PlanPath, p.Fingerprint)
	if err != nil {
		t.Fatalf("up with the saved plan: %v", err)
	}
	if got := stateNames(t, d); strings.Join(got, ",") != "a,b" {
		t.Fatalf("state after up = %v, want a,b", got)
	}
	if applied.Outputs["greeting"] != "hello-dev" {
		t.Errorf("outputs = %v, want greeting from the project's stack file", applied.Outputs)
	}
	outs, err := d.Outputs(ctx)
	if err != nil || fmt.Sprint(outs["count"]) != "2" {
		t.Errorf("Outputs = %v, %v; want count 2", outs, err)
	}

	p3, err := d.Preview(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if p3.HasChanges() {
		t.Errorf("after up the preview still has changes: %+v", p3.Changes)
	}
	if p3.Fingerprint == p.Fingerprint {
		t.Error("a no-change plan has the fingerprint of the create plan")
	}
}

func TestUpRefusesPlanOfChangedProgram(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "dev")
	ctx := context.Background()
	p, err := f.open(t, "dev", things([]string{"a"})).Preview(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The program changes after the plan was approved.
	changed := f.open(t, "dev", things([]string{"a", "sneaky"}))
	_, err = changed.Up(ctx, p.PlanPath, p.Fingerprint)
	if !errors.Is(err, ErrPlanMismatch) {
		t.Fatalf("up of a changed program = %v, want ErrPlanMismatch", err)
	}
	if !strings.Contains(err.Error(), "sneaky") {
		t.Errorf("the refusal does not name the unplanned resource: %v", err)
	}
	// The CLI enforces the plan resource by resource: what the reviewer
	// approved (a) may have been applied before the violation stopped the
	// update; what nobody approved never is.
	if got := stateNames(t, changed); contains(got, "sneaky") || len(got) > 1 {
		t.Fatalf("state after the refused up = %v; only the approved a may be there", got)
	}
	if c := ErrorCheck("up", err); c.Infra || c.Status != report.Fail {
		t.Errorf("plan mismatch check = %+v, want a non-infra FAIL (exit 1)", c)
	}
}

func TestUpRefusesFingerprintMismatch(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "dev")
	ctx := context.Background()
	d := f.open(t, "dev", things([]string{"a"}))
	p, err := d.Preview(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		approved string
		tamper   bool
	}{
		{name: "other fingerprint", approved: FingerprintPrefix + strings.Repeat("0", 64)},
		{name: "empty approval", approved: ""},
		{name: "plan file edited after approval", approved: p.Fingerprint, tamper: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			plan := p.PlanPath
			if tc.tamper {
				b, err := os.ReadFile(p.PlanPath)
				if err != nil {
					t.Fatal(err)
				}
				plan = filepath.Join(t.TempDir(), "edited.plan.json")
				edited := strings.Replace(string(b), `"protect": false`, `"protect": true`, 1)
				if edited == string(b) {
					t.Fatalf("test cannot edit the plan: %s", b)
				}
				if err := os.WriteFile(plan, []byte(edited), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			_, err := d.Up(ctx, plan, tc.approved)
			if !errors.Is(err, ErrFingerprint) {
				t.Fatalf("up = %v, want ErrFingerprint", err)
			}
			if got := stateNames(t, d); len(got) != 0 {
				t.Fatalf("refused up changed the state: %v", got)
			}
		})
	}
}

// blocking is a program whose update (not its preview) waits until
// released, so a test can act while an up is running.
func blocking(names []string, started chan<- struct{}, release <-chan struct{}) pulumi.RunFunc {
	var once sync.Once
	return func(ctx *pulumi.Context) error {
		if !ctx.DryRun() {
			once.Do(func() { close(started) })
			<-release
		}
		return things(names)(ctx)
	}
}

func TestConcurrentUpIsRefusedAndStateStaysIntact(t *testing.T) {
	onBothBackends(t, testConcurrentUp)
}

func testConcurrentUp(t *testing.T, kind backendKind) {
	f := newFixtureOn(t, kind, "dev")
	ctx := context.Background()
	started, release := make(chan struct{}), make(chan struct{})
	first := f.open(t, "dev", blocking([]string{"a", "b"}, started, release))
	second := f.open(t, "dev", things([]string{"a", "b"}))
	p1, err := first.Preview(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := second.Preview(ctx)
	if err != nil {
		t.Fatal(err)
	}
	done := upInBackground(ctx, first, p1)
	select {
	case <-started:
	case err := <-done:
		t.Fatalf("first up ended before its program ran: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("first up never started its program")
	}
	locks := f.locks(t, "dev")
	if len(locks) != 1 {
		t.Fatalf("while an up runs, locks %v; want exactly one (the lock checks look in the wrong place?)", locks)
	}
	_, err = second.Up(ctx, p2.PlanPath, p2.Fingerprint)
	close(release)
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("concurrent up = %v, want ErrLocked", err)
	}
	// The refusal names who holds the lock and since when.
	host, _ := os.Hostname()
	held := locks[0]
	for _, want := range []string{"another update", fmt.Sprintf("%s@%s (pid %d)", held.User, host, held.PID),
		"since " + held.Since.UTC().Format(time.RFC3339), "unlock"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("lock message does not say %q: %v", want, err)
		}
	}
	if held.Since.IsZero() || time.Since(held.Since) > time.Minute {
		t.Errorf("lock since %v; want the start of the running up", held.Since)
	}
	if c := ErrorCheck("up", err); !c.Infra {
		t.Errorf("lock check %+v should be an engine failure (exit 3)", c)
	}
	if err := <-done; err != nil {
		t.Fatalf("first up failed: %v", err)
	}
	if got := stateNames(t, second); strings.Join(got, ",") != "a,b" {
		t.Fatalf("state after the concurrent attempt = %v, want a,b", got)
	}
	p3, err := second.Preview(ctx)
	if err != nil || p3.HasChanges() {
		t.Fatalf("after both runs: preview %v changes %+v; want a clean stack", err, p3)
	}
}

// upInBackground applies a preview's plan in a goroutine; the channel gets
// its error.
func upInBackground(ctx context.Context, d *Driver, p *Preview) <-chan error {
	done := make(chan error, 1)
	go func() {
		_, err := d.Up(ctx, p.PlanPath, p.Fingerprint)
		done <- err
	}()
	return done
}

func TestCancelledUpLeavesAStackTheNextRunCanUpdate(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "dev")
	started, release := make(chan struct{}), make(chan struct{})
	d := f.open(t, "dev", blocking([]string{"a"}, started, release))
	p, err := d.Preview(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := upInBackground(ctx, d, p)
	select {
	case <-started:
	case <-time.After(60 * time.Second):
		t.Fatal("up never started its program")
	}
	cancel() // what Ctrl-C does: the CLI gets SIGINT
	close(release)
	if err := <-done; err == nil {
		t.Log("the cancelled up finished before the interrupt landed")
	} else if !errors.Is(err, ErrCancelled) {
		t.Fatalf("cancelled up = %v, want ErrCancelled", err)
	}
	// The CLI stopped by itself (one interrupt), so it released the lock.
	if locks := f.locks(t, "dev"); len(locks) > 0 {
		t.Fatalf("the cancelled up left a lock behind: %v", locks)
	}

	next := f.open(t, "dev", things([]string{"a", "b"}))
	np, err := next.Preview(context.Background())
	if err != nil {
		t.Fatalf("preview after a cancelled up: %v", err)
	}
	if _, err := next.Up(context.Background(), np.PlanPath, np.Fingerprint); err != nil {
		t.Fatalf("up after a cancelled up: %v", err)
	}
	if got := stateNames(t, next); strings.Join(got, ",") != "a,b" {
		t.Fatalf("state = %v, want a,b", got)
	}
}

func TestDestroyIsGuarded(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "dev")
	ctx := context.Background()
	d := f.open(t, "dev", things([]string{"table", "alarm"}, "table"))
	p, err := d.Preview(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Up(ctx, p.PlanPath, p.Fingerprint); err != nil {
		t.Fatal(err)
	}
	dp, err := d.PlanDestroy(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(dp.Protected) != 1 || urnName(dp.Protected[0].URN) != "table" {
		t.Fatalf("protected = %+v, want table", dp.Protected)
	}
	if err := d.Destroy(ctx, nil, "sha256:bogus"); !errors.Is(err, ErrFingerprint) {
		t.Fatalf("destroy with a wrong fingerprint = %v, want ErrFingerprint", err)
	}
	if err := d.Destroy(ctx, []string{"alarm"}, dp.Fingerprint); !errors.Is(err, ErrProtected) || !strings.Contains(err.Error(), "table") {
		t.Fatalf("destroy without naming table = %v, want ErrProtected naming table", err)
	}
	if got := stateNames(t, d); len(got) != 2 {
		t.Fatalf("refused destroy changed the state: %v", got)
	}
	if err := d.Destroy(ctx, []string{"table"}, dp.Fingerprint); err != nil {
		t.Fatalf("destroy naming table: %v", err)
	}
	if got := stateNames(t, d); len(got) != 0 {
		t.Fatalf("after destroy the state still has %v", got)
	}
}

func TestMissingPluginFailsFastNamingIt(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "dev")
	s := f.settings("dev", things(nil))
	s.Plugins = []Plugin{AWSPlugin()}
	_, err := Open(context.Background(), s)
	var pm *PluginMissingError
	if !errors.As(err, &pm) {
		t.Fatalf("Open with a missing plugin = %v, want PluginMissingError", err)
	}
	for _, want := range []string{"resource plugin aws v6.83.4", "pulumi plugin install resource aws v6.83.4"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if c := ErrorCheck("preview", err); !c.Infra {
		t.Errorf("plugin check %+v should be exit 3", c)
	}
	// Nothing was created: the check runs before the stack is selected.
	if _, err := os.Stat(filepath.Join(f.dir, "state", ".pulumi", "stacks")); err == nil {
		t.Error("a stack was created although the plugin check failed")
	}
}

func TestDeployCycle(t *testing.T) {
	t.Parallel()
	noFindings := func([]gate.Resource, gate.Options) []gate.Finding { return nil }
	refuseB := func(rs []gate.Resource, _ gate.Options) []gate.Finding {
		for _, r := range rs {
			if r.Name == "b" && r.Op == gate.OpCreate {
				return []gate.Finding{{Rule: "no-b", Resource: r.Name, Message: "b is not allowed"}}
			}
		}
		return nil
	}
	unverified := func(rs []gate.Resource, _ gate.Options) []gate.Finding {
		return []gate.Finding{{Rule: "unverifiable-inputs", Resource: "a", Message: "known after apply", Unverified: true}}
	}
	tests := []struct {
		name     string
		gate     GateFunc
		approval Approval
		wantExit int
		wantUp   bool
		wantHook bool
		wantGate report.Status
	}{
		{name: "yes applies and runs hooks", gate: noFindings, approval: Approval{Yes: true}, wantExit: 0, wantUp: true, wantHook: true, wantGate: report.Pass},
		{name: "non-interactive without approval stops after preview", gate: noFindings, approval: Approval{}, wantExit: 0},
		{name: "production with --yes is not enough", gate: noFindings, approval: Approval{Production: true, Yes: true}, wantExit: 0},
		{name: "wrong fingerprint refused", gate: noFindings, approval: Approval{Fingerprint: "sha256:beef"}, wantExit: 1},
		{name: "gate finding refuses", gate: refuseB, approval: Approval{Yes: true}, wantExit: 1, wantGate: report.Fail},
		{name: "unverifiable input only warns", gate: unverified, approval: Approval{Yes: true}, wantExit: 0, wantUp: true, wantHook: true, wantGate: report.Warn},
		{name: "no gate refuses", gate: nil, approval: Approval{Yes: true}, wantExit: 1, wantGate: report.Fail},
		{name: "interactive yes applies", gate: noFindings, approval: Approval{Interactive: true, In: strings.NewReader("yes\n")}, wantExit: 0, wantUp: true, wantHook: true},
		{name: "interactive no declines", gate: noFindings, approval: Approval{Interactive: true, In: strings.NewReader("no\n")}, wantExit: 0},
	}
	f := newFixture(t)
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stack := fmt.Sprintf("cycle%d", i)
			if err := os.WriteFile(filepath.Join(f.dir, "Pulumi."+stack+".yaml"), []byte("config: {}\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			d := f.open(t, stack, things([]string{"a", "b"}))
			var hookOutputs map[string]any
			hook := func(_ context.Context, outs map[string]any) []report.Check {
				hookOutputs = outs
				return []report.Check{{ID: "verify", Status: report.Pass, Reason: "hook ran"}}
			}
			r := &report.Report{Command: "deploy", Stack: stack}
			d.Deploy(context.Background(), CycleOptions{Gate: tc.gate, Approval: tc.approval, PostUp: []Hook{hook}}, r)
			if got := r.ExitCode(); got != tc.wantExit {
				t.Fatalf("exit = %d, want %d; report %+v", got, tc.wantExit, r.Checks)
			}
			_, upRan := r.Find("up")
			if upRan != tc.wantUp {
				t.Errorf("up check present = %v, want %v", upRan, tc.wantUp)
			}
			if applied := len(stateNames(t, d)) > 0; applied != tc.wantUp {
				t.Errorf("resources applied = %v, want %v", applied, tc.wantUp)
			}
			if (hookOutputs != nil) != tc.wantHook {
				t.Errorf("hook ran = %v, want %v", hookOutputs != nil, tc.wantHook)
			}
			if tc.wantHook && fmt.Sprint(hookOutputs["count"]) != "2" {
				t.Errorf("hook got outputs %v, want count 2", hookOutputs)
			}
			if g := gateVerdict(r); tc.wantGate != "" && g != tc.wantGate {
				t.Errorf("gate checks are at worst %s, want %s: %+v", g, tc.wantGate, r.Checks)
			}
			if len(r.Resources) == 0 && tc.gate != nil {
				t.Error("the report lists no planned resources")
			}
		})
	}
}

// gateVerdict is the worst status of the report's gate checks.
func gateVerdict(r *report.Report) report.Status {
	rank := map[report.Status]int{report.Pass: 1, report.Warn: 2, report.Fail: 3}
	var worst report.Status
	for _, c := range r.Checks {
		if strings.HasPrefix(c.ID, "gate") && rank[c.Status] > rank[worst] {
			worst = c.Status
		}
	}
	return worst
}

func TestOutputsReadsAnExistingStackOnly(t *testing.T) {
	// Not parallel: Outputs uses the default settings, which come from the
	// environment.
	f := newFixture(t, "dev")
	t.Setenv("PULUMI_CLI_PATH", f.cli)
	t.Setenv("PULUMI_HOME", filepath.Join(f.dir, "home"))
	t.Setenv("PULUMI_CONFIG_PASSPHRASE", "driver-test")
	t.Setenv("PULUMI_BACKEND_URL", "")
	ctx := context.Background()
	if _, err := Outputs(ctx, f.dir, "dev"); !errors.Is(err, ErrNoStack) {
		t.Fatalf("Outputs of a stack never deployed = %v, want ErrNoStack", err)
	}
	if m, _ := filepath.Glob(filepath.Join(f.dir, ".pulumi-state", ".pulumi", "stacks", "*", "dev.json*")); len(m) > 0 {
		t.Fatalf("Outputs created the stack: %v", m)
	}
	d, err := Open(ctx, Settings{ProjectDir: f.dir, Stack: "dev", Program: things([]string{"a", "b", "c"})})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	p, err := d.Preview(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Up(ctx, p.PlanPath, p.Fingerprint); err != nil {
		t.Fatal(err)
	}
	if m, _ := filepath.Glob(filepath.Join(f.dir, ".pulumi-state", ".pulumi", "stacks", "*", "dev.json*")); len(m) == 0 {
		t.Fatal("the stack-file check above looks in the wrong place: no stack file after up")
	}
	outs, err := Outputs(ctx, f.dir, "dev")
	if err != nil {
		t.Fatalf("Outputs after up: %v", err)
	}
	if fmt.Sprint(outs["count"]) != "3" || outs["greeting"] != "hello-dev" {
		t.Fatalf("Outputs = %v, want count 3 and the greeting", outs)
	}
}

// TestDriftSeesAChangeMadeOutsideTheStack uses the one custom resource
// that needs no plugin, a StackReference (served by the engine's built-in
// provider): when the referenced stack's outputs change, a refresh of the
// referencing stack sees its recorded state differ from the real one.
func TestDriftSeesAChangeMadeOutsideTheStack(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "src", "dev")
	ctx := context.Background()
	source := func(v string) pulumi.RunFunc {
		return func(ctx *pulumi.Context) error {
			ctx.Export("pitr", pulumi.String(v))
			return nil
		}
	}
	apply := func(d *Driver) {
		t.Helper()
		p, err := d.Preview(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.Up(ctx, p.PlanPath, p.Fingerprint); err != nil {
			t.Fatal(err)
		}
	}
	apply(f.open(t, "src", source("enabled")))
	dev := f.open(t, "dev", func(ctx *pulumi.Context) error {
		_, err := pulumi.NewStackReference(ctx, "organization/drivertest/src", nil)
		return err
	})
	apply(dev)
	if drift, err := dev.Drift(ctx); err != nil || len(drift) != 0 {
		t.Fatalf("drift right after up = %+v, %v; want none", drift, err)
	}
	// "Someone switches PITR off in the console."
	apply(f.open(t, "src", source("disabled")))
	drift, err := dev.Drift(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(drift) != 1 || drift[0].Type != "pulumi:pulumi:StackReference" || !contains(drift[0].Changed, "outputs") {
		t.Fatalf("drift = %+v, want the stack reference's outputs changed", drift)
	}
	// A refresh in preview mode wrote nothing: the drift is still there.
	if again, err := dev.Drift(ctx); err != nil || len(again) != 1 {
		t.Fatalf("second drift = %+v, %v; want the same drift (preview must not write)", again, err)
	}
}
