package rehearse

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"gopkg.in/yaml.v3"

	"github.com/mirror-dissonance/mirror-infra/emulator"
	"github.com/mirror-dissonance/mirror-infra/internal/driver"
	"github.com/mirror-dissonance/mirror-infra/internal/gate"
	"github.com/mirror-dissonance/mirror-infra/internal/postdeploy"
	"github.com/mirror-dissonance/mirror-infra/internal/provider"
	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/stacks"
	"github.com/mirror-dissonance/mirror-infra/stacks/stackconfig"
	"github.com/mirror-dissonance/mirror-infra/verify/target"
)

// EngineOptions configure an engine rehearsal.
type EngineOptions struct {
	// Stack is the stack whose Pulumi.<stack>.yaml in ProjectDir is
	// rehearsed (copied into a temporary project: nothing of the real
	// project or its state is touched).
	Stack      string
	ProjectDir string
	// CLIPath is the pulumi binary (default as the driver finds it:
	// PULUMI_CLI_PATH, else <module root>/bin/pulumi). Without one, Engine
	// returns an error wrapping driver.ErrCLIMissing (exit 3, `make tools`).
	CLIPath string
	// Scenarios run, in order; empty for EngineScenarios.
	Scenarios []string
	Logger    *slog.Logger
	// Progress receives the engine's progress; nil for none.
	Progress io.Writer
}

// The engine rehearsal's scenarios, each a check "engine:<name>".
const (
	ScenarioFresh        = "fresh"
	ScenarioNoop         = "noop"
	ScenarioUpdate       = "update"
	ScenarioPlanMismatch = "plan-mismatch"
	ScenarioDrift        = "drift"
)

// EngineScenarios are the scenarios in the order they build on each
// other (each starts from the state the one before left).
var EngineScenarios = []string{ScenarioFresh, ScenarioNoop, ScenarioUpdate, ScenarioPlanMismatch, ScenarioDrift, ScenarioReplaceRefused,
	ScenarioKilled, ScenarioDestroy, ScenarioBackend, ScenarioAdopt}

// engineRun is one engine rehearsal: the emulator, the stand-in provider
// serving it, a temporary project and backend, and the driver on them.
type engineRun struct {
	o      EngineOptions
	log    *slog.Logger
	emu    *emulator.Emulator
	awsCfg aws.Config
	prov   *Provisioner
	pause  *pausingBackend
	calls  *provider.Calls
	srv    *provider.Server
	sp     *provider.Provider
	dir    string
	cfg    stackconfig.Config
	cli    string
	rep    *report.Report
	// program replaces stacks.Program for one scenario; nil for it.
	program pulumi.RunFunc
	// plan is the last approved preview (update leaves it for
	// plan-mismatch).
	plan *driver.Preview
}

// Engine runs the real driver with the real CLI, a temporary local
// backend, the inline stacks.Program, the stand-in AWS provider and the
// in-process emulator through the scenarios; each is a check
// "engine:<name>" in the report, followed by the checks it gathered. The
// error is for a rehearsal that could not start (no CLI: wraps
// driver.ErrCLIMissing).
func Engine(ctx context.Context, o EngineOptions) (*report.Report, error) {
	start := time.Now()
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if len(o.Scenarios) == 0 {
		o.Scenarios = EngineScenarios
	}
	for _, s := range o.Scenarios {
		if !slices.Contains(EngineScenarios, s) {
			return nil, fmt.Errorf("no engine scenario %q (known: %s)", s, strings.Join(EngineScenarios, ", "))
		}
	}
	cli, err := driver.FindCLI(o.CLIPath, o.ProjectDir)
	if err != nil {
		return nil, err
	}
	cfg, err := stackconfig.Load(o.ProjectDir, o.Stack)
	if err != nil {
		return nil, err
	}
	r := &engineRun{o: o, log: o.Logger, cfg: cfg, cli: cli,
		rep: &report.Report{Command: "rehearse --engine", Stack: o.Stack, Started: start}}
	if err := r.start(ctx); err != nil {
		r.stop()
		return nil, err
	}
	defer r.stop()
	for _, s := range o.Scenarios {
		began := time.Now()
		c := r.scenario(ctx, s)
		c.ID, c.Duration = "engine:"+s, time.Since(began)
		r.rep.Add(c)
		r.log.Info("engine scenario", "scenario", s, "status", c.Status, "reason", c.Reason)
	}
	r.rep.Add(r.callsCheck(), r.fidelityCheck())
	r.rep.Elapsed = time.Since(start).Round(time.Millisecond).String()
	return r.rep, nil
}

func (r *engineRun) start(ctx context.Context) error {
	e, awsCfg, err := startEmulator(ctx)
	if err != nil {
		return err
	}
	r.emu, r.awsCfg = e, awsCfg
	r.calls = provider.NewCalls()
	provCfg := awsCfg.Copy()
	r.calls.Attach(&provCfg)
	r.prov = NewProvisioner(provCfg, emulator.AccountID)
	r.pause = &pausingBackend{Backend: r.prov}
	r.sp = provider.New(r.pause, r.calls, r.log)
	r.srv, err = provider.Serve(r.sp, "127.0.0.1:0")
	if err != nil {
		return err
	}
	r.dir, err = os.MkdirTemp("", "md-engine-")
	if err != nil {
		return fmt.Errorf("creating the rehearsal's project directory: %w", err)
	}
	for _, f := range []string{"Pulumi.yaml", "Pulumi." + r.o.Stack + ".yaml"} {
		b, err := os.ReadFile(filepath.Join(r.o.ProjectDir, f))
		if err != nil {
			return fmt.Errorf("copying %s into the rehearsal's project: %w", f, err)
		}
		if err := os.WriteFile(filepath.Join(r.dir, f), b, 0o644); err != nil {
			return fmt.Errorf("copying %s into the rehearsal's project: %w", f, err)
		}
	}
	if !r.cfg.CreateOIDCProvider {
		if err := r.prov.AccountOIDCProvider(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (r *engineRun) stop() {
	if r.srv != nil {
		r.srv.Close()
	}
	if r.prov != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		if err := r.prov.Teardown(ctx); err != nil {
			r.log.Warn("removing the engine rehearsal's resources from the emulator", "err", err)
		}
		if err := removeExtras(ctx, r.awsCfg, r.cfg); err != nil {
			r.log.Warn("removing the engine rehearsal's nonce versions", "err", err)
		}
		cancel()
	}
	if r.emu != nil {
		r.emu.Close()
	}
	if r.dir != "" {
		_ = os.RemoveAll(r.dir)
	}
}

// open opens the driver on the rehearsal's project, backend and provider:
// the same driver.Open deploy runs, with the program deploy runs.
func (r *engineRun) open(ctx context.Context) (*driver.Driver, error) {
	return r.openStack(ctx, r.o.Stack)
}

// openStack opens stack (its Pulumi.<stack>.yaml in the rehearsal's
// project) on the rehearsal's backend.
func (r *engineRun) openStack(ctx context.Context, stack string) (*driver.Driver, error) {
	return r.openOn(ctx, stack, nil)
}

// openOn opens stack on sb (the emulated S3 backend with awskms://
// secrets), or on the rehearsal's local backend when sb is nil.
func (r *engineRun) openOn(ctx context.Context, stack string, sb *emulator.StateBackend) (*driver.Driver, error) {
	program := stacks.Program
	if r.program != nil {
		program = r.program
	}
	st := driver.Settings{
		ProjectDir: r.dir, Stack: stack, Program: program, CLIPath: r.cli,
		BackendURL: "file://" + filepath.ToSlash(filepath.Join(r.dir, "state")),
		PulumiHome: filepath.Join(r.dir, "home"),
		Progress:   r.o.Progress, Logger: r.log,
		EnvVars: map[string]string{
			"PULUMI_DEBUG_PROVIDERS":   r.srv.DebugProviders(),
			"PULUMI_CONFIG_PASSPHRASE": r.passphrase(),
		},
	}
	if sb != nil {
		st.BackendURL, st.SecretsProvider = sb.URL, sb.SecretsProvider
		// No passphrase: the KMS key is the only way to the secrets.
		st.EnvVars = maps.Clone(sb.Env)
		st.EnvVars["PULUMI_DEBUG_PROVIDERS"] = r.srv.DebugProviders()
	}
	return driver.Open(ctx, st)
}

// passphrase is the temporary state's passphrase, random per rehearsal.
func (r *engineRun) passphrase() string {
	p := filepath.Join(r.dir, ".passphrase")
	if b, err := os.ReadFile(p); err == nil {
		return string(b)
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	s := hex.EncodeToString(b)
	_ = os.WriteFile(p, []byte(s), 0o600)
	return s
}

// setConfig changes keys of the rehearsal's Pulumi.<stack>.yaml (the
// driver copies it into the workspace at every Open) and reloads cfg.
func (r *engineRun) setConfig(kv map[string]string) error {
	path := filepath.Join(r.dir, "Pulumi."+r.o.Stack+".yaml")
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	doc := map[string]any{}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return err
	}
	c, _ := doc["config"].(map[string]any)
	if c == nil {
		c = map[string]any{}
		doc["config"] = c
	}
	for k, v := range kv {
		c[k] = v
	}
	out, err := yaml.Marshal(doc)
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		return err
	}
	r.cfg, err = stackconfig.Load(r.dir, r.o.Stack)
	return err
}

func (r *engineRun) scenario(ctx context.Context, s string) report.Check {
	switch s {
	case ScenarioFresh:
		return r.fresh(ctx)
	case ScenarioNoop:
		return r.noop(ctx)
	case ScenarioUpdate:
		return r.update(ctx)
	case ScenarioPlanMismatch:
		return r.planMismatch(ctx)
	case ScenarioDrift:
		return r.drift(ctx)
	case ScenarioReplaceRefused:
		return r.replaceRefused(ctx)
	case ScenarioDestroy:
		return r.destroy(ctx)
	case ScenarioKilled:
		return r.killed(ctx)
	case ScenarioBackend:
		return r.backend(ctx)
	case ScenarioAdopt:
		return r.adopt(ctx)
	}
	return fail("no such scenario", "")
}

func fail(reason, fix string) report.Check {
	return report.Check{Status: report.Fail, Reason: reason, Fix: fix}
}

// sub runs the driver steps of a scenario into their own report, whose
// checks are added after the scenario's (prefixed), and says whether all
// of them passed (WARN counts: an unverifiable input is not a failure).
type sub struct {
	rep    *report.Report
	prefix string
}

func (r *engineRun) sub(name string) *sub {
	return &sub{rep: &report.Report{Command: r.rep.Command, Stack: r.o.Stack, Started: time.Now()}, prefix: "engine:" + name + ":"}
}

func (s *sub) failed() []string {
	var out []string
	for _, c := range s.rep.Checks {
		if c.Status == report.Fail {
			out = append(out, c.ID+": "+c.Reason)
		}
	}
	return out
}

func (r *engineRun) keep(s *sub) {
	for _, c := range s.rep.Checks {
		c.ID = s.prefix + c.ID
		r.rep.Add(c)
	}
}

// previewApproveUp is the deploy cycle's preview, gate, approval by
// fingerprint and up with that plan, then the post-deploy stage.
func (r *engineRun) previewApproveUp(ctx context.Context, d *driver.Driver, s *sub) (*driver.Preview, *driver.Applied, bool) {
	return r.cycle(ctx, d, r.cfg, s)
}

// cycle is previewApproveUp for the stack of cfg.
func (r *engineRun) cycle(ctx context.Context, d *driver.Driver, cfg stackconfig.Config, s *sub) (*driver.Preview, *driver.Applied, bool) {
	p, ok := d.PreviewAndGate(ctx, gate.Evaluate, gate.OptionsFor(cfg, nil), nil, s.rep)
	if !ok {
		return p, nil, false
	}
	approved, c := driver.Approval{Fingerprint: p.Fingerprint}.Decide(d.Stack(), p.Fingerprint)
	s.rep.Add(c)
	if !approved {
		return p, nil, false
	}
	applied, err := d.Up(ctx, p.PlanPath, p.Fingerprint)
	if err != nil {
		s.rep.Add(driver.ErrorCheck("up", err))
		return p, nil, false
	}
	s.rep.Add(report.Check{ID: "up", Status: report.Pass, Reason: "applied exactly the approved plan"})
	return p, applied, true
}

func (r *engineRun) postDeploy(ctx context.Context, outs map[string]any, s *sub) {
	tgt, err := target.FromOutputs(outs)
	if err != nil {
		s.rep.Add(report.Check{ID: "outputs", Status: report.Fail, Reason: err.Error()})
		return
	}
	s.rep.Add(postdeploy.Run(ctx, r.awsCfg, tgt, postdeployOptions(r.cfg))...)
}

// unknownARNs lists the planned creates whose ARN-bearing inputs (a
// table's key, a topic's key, the alarm actions) the preview did not know.
func unknownARNs(rs []gate.Resource) (unknown, known []string) {
	probe := map[string][]string{
		gate.TypeTable: {"serverSideEncryption"}, gate.TypeTopic: {"kmsMasterKeyId"}, gate.TypeAlarm: {"alarmActions"},
		gate.TypeAlias: {"targetKeyId"}, gate.TypeTopicPolicy: {"arn"},
	}
	for _, res := range rs {
		keys, ok := probe[res.Type]
		if !ok || res.Op != gate.OpCreate {
			continue
		}
		for _, k := range keys {
			if strings.Contains(fmt.Sprint(res.Inputs[k]), gate.UnknownValue) {
				unknown = append(unknown, res.Name+"."+k)
			} else {
				known = append(known, res.Name+"."+k)
			}
		}
	}
	return unknown, known
}

func (r *engineRun) fresh(ctx context.Context) report.Check {
	s := r.sub(ScenarioFresh)
	defer r.keep(s)
	d, err := r.open(ctx)
	if err != nil {
		s.rep.Add(driver.ErrorCheck("open", err))
		return fail("opening the stack: "+err.Error(), "")
	}
	p, applied, ok := r.previewApproveUp(ctx, d, s)
	if p == nil {
		return fail("the preview failed: "+strings.Join(s.failed(), "; "), "")
	}
	unknown, known := unknownARNs(p.Resources)
	if !ok {
		return fail("the fresh cycle stopped: "+strings.Join(s.failed(), "; "), "")
	}
	r.postDeploy(ctx, applied.Outputs, s)
	var problems []string
	if len(known) > 0 {
		problems = append(problems, "inputs the preview should not know: "+strings.Join(known, ", "))
	}
	if len(unknown) == 0 {
		problems = append(problems, "no ARN was unknown in the preview")
	}
	problems = append(problems, s.failed()...)
	if len(problems) > 0 {
		return fail(strings.Join(problems, "; "), "")
	}
	return report.Check{Status: report.Pass, Reason: fmt.Sprintf("preview with a saved plan (%d ARN inputs unknown until apply, e.g. %s), gate, approval by fingerprint, up with that plan and the post-deploy stage all passed (%s)",
		len(unknown), unknown[0], s.rep.Summary()), Details: map[string]string{"fingerprint": p.Fingerprint}}
}

func (r *engineRun) noop(ctx context.Context) report.Check {
	s := r.sub(ScenarioNoop)
	defer r.keep(s)
	d, err := r.open(ctx)
	if err != nil {
		return fail("opening the stack: "+err.Error(), "")
	}
	var fps []string
	var plans [][]byte
	for range 2 {
		p, err := d.Preview(ctx)
		if err != nil {
			s.rep.Add(driver.ErrorCheck("preview", err))
			return fail("preview: "+err.Error(), "")
		}
		if p.HasChanges() {
			var ch []string
			for _, c := range p.Changes {
				ch = append(ch, fmt.Sprintf("%s %s (%s)", c.Op, c.Name, strings.Join(c.Diffs, ", ")))
			}
			return fail("a preview right after up plans changes: "+strings.Join(ch, "; "), "the provider's read or diff disagrees with what it applied")
		}
		fps = append(fps, p.Fingerprint)
		b, _ := os.ReadFile(p.PlanPath)
		plans = append(plans, b)
	}
	if fps[0] != fps[1] {
		return fail(fmt.Sprintf("two previews of the same state have different fingerprints (%s and %s); the plans differ at %s",
			fps[0], fps[1], strings.Join(jsonDiff(plans[0], plans[1]), ", ")), "the fingerprint must leave out what differs between previews of the same state")
	}
	return report.Check{Status: report.Pass, Reason: "a second preview shows no change, twice with the same fingerprint " + fps[0]}
}

func (r *engineRun) update(ctx context.Context) report.Check {
	s := r.sub(ScenarioUpdate)
	defer r.keep(s)
	if err := r.setConfig(map[string]string{"mirror-dissonance:throttleThreshold": "20", "mirror-dissonance:alertEmail": "ops@example.com"}); err != nil {
		return fail("changing the stack configuration: "+err.Error(), "")
	}
	d, err := r.open(ctx)
	if err != nil {
		return fail("opening the stack: "+err.Error(), "")
	}
	p, applied, ok := r.previewApproveUp(ctx, d, s)
	if p == nil || !ok {
		return fail("the update cycle stopped: "+strings.Join(s.failed(), "; "), "")
	}
	var updates, other []string
	for _, c := range p.Changes {
		switch {
		case c.Op == gate.OpUpdate && c.Type == gate.TypeAlarm && slices.Equal(c.Diffs, []string{"threshold"}):
			updates = append(updates, c.Name)
		case c.Op == gate.OpCreate && c.Type == gate.TypeSubscription:
			updates = append(updates, c.Name+" (new e-mail subscription)")
		default:
			other = append(other, fmt.Sprintf("%s %s (%s)", c.Op, c.Name, strings.Join(c.Diffs, ", ")))
		}
	}
	r.postDeploy(ctx, applied.Outputs, s)
	var problems []string
	if len(other) > 0 {
		problems = append(problems, "changes besides the six thresholds and the subscription: "+strings.Join(other, "; "))
	}
	if len(updates) != 7 {
		problems = append(problems, fmt.Sprintf("want six threshold updates and one subscription, got %d: %s", len(updates), strings.Join(updates, ", ")))
	}
	problems = append(problems, s.failed()...)
	if len(problems) > 0 {
		return fail(strings.Join(problems, "; "), "")
	}
	r.plan = p
	return report.Check{Status: report.Pass, Reason: "threshold 10 to 20 and an alert e-mail: six in-place threshold updates and one new subscription, applied with the saved plan; the verifier sees threshold 20"}
}

// planMismatch previews (and approves) a plan, changes the program, and
// ups the old plan: the engine must refuse and apply nothing.
func (r *engineRun) planMismatch(ctx context.Context) report.Check {
	s := r.sub(ScenarioPlanMismatch)
	defer r.keep(s)
	if err := r.setConfig(map[string]string{"mirror-dissonance:throttleThreshold": "25"}); err != nil {
		return fail("changing the stack configuration: "+err.Error(), "")
	}
	d, err := r.open(ctx)
	if err != nil {
		return fail("opening the stack: "+err.Error(), "")
	}
	p, err := d.Preview(ctx)
	if err != nil {
		return fail("preview: "+err.Error(), "")
	}
	// The program changes after review: threshold 30 instead of 25.
	if err := r.setConfig(map[string]string{"mirror-dissonance:throttleThreshold": "30"}); err != nil {
		return fail("changing the stack configuration: "+err.Error(), "")
	}
	d, err = r.open(ctx)
	if err != nil {
		return fail("opening the stack: "+err.Error(), "")
	}
	_, err = d.Up(ctx, p.PlanPath, p.Fingerprint)
	if err == nil {
		return fail("up applied a plan the program no longer matches", "the driver must pass --plan to up")
	}
	c := driver.ErrorCheck("up", err)
	rep := &report.Report{Checks: []report.Check{c}}
	if !errors.Is(err, driver.ErrPlanMismatch) {
		s.rep.Add(c)
		return fail("up failed, but not as a plan mismatch: "+err.Error(), "")
	}
	// The refusal is this scenario's expected result.
	s.rep.Add(report.Check{ID: "up", Status: report.Pass, Reason: "refused as expected: " + c.Reason})
	th, err := r.alarmThresholds(ctx)
	if err != nil {
		return fail("reading the alarms: "+err.Error(), "")
	}
	for name, v := range th {
		if v != 20 {
			return fail(fmt.Sprintf("the refused up still changed alarm %s to threshold %v", name, v), "")
		}
	}
	// Put the configuration back to what is deployed.
	if err := r.setConfig(map[string]string{"mirror-dissonance:throttleThreshold": "20"}); err != nil {
		return fail("restoring the stack configuration: "+err.Error(), "")
	}
	return report.Check{Status: report.Pass, Reason: fmt.Sprintf("the engine refused the stale plan (exit %d: %s); every alarm still has threshold 20", rep.ExitCode(), firstN(c.Reason, 200))}
}

func firstN(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// jsonDiff lists up to eight paths where two JSON documents differ.
func jsonDiff(a, b []byte) []string {
	var x, y any
	_ = json.Unmarshal(a, &x)
	_ = json.Unmarshal(b, &y)
	var out []string
	var walk func(path string, x, y any)
	walk = func(path string, x, y any) {
		if len(out) >= 8 {
			return
		}
		xm, okx := x.(map[string]any)
		ym, oky := y.(map[string]any)
		if okx && oky {
			for _, k := range slices.Sorted(maps.Keys(xm)) {
				walk(path+"."+k, xm[k], ym[k])
			}
			for k := range ym {
				if _, ok := xm[k]; !ok {
					out = append(out, path+"."+k)
				}
			}
			return
		}
		xl, okx := x.([]any)
		yl, oky := y.([]any)
		if okx && oky && len(xl) == len(yl) {
			for i := range xl {
				walk(fmt.Sprintf("%s[%d]", path, i), xl[i], yl[i])
			}
			return
		}
		if !reflect.DeepEqual(x, y) {
			out = append(out, path)
		}
	}
	walk("", x, y)
	return out
}

// fidelityCheck lists what the endpoint accepted but could not return
// (refresh and import cannot see those properties change there).
func (r *engineRun) fidelityCheck() report.Check {
	gaps := append(r.sp.NotKept(), r.prov.Unreadable()...)
	c := report.Check{ID: "engine:endpoint", Status: report.Pass, Reason: "the endpoint returned every property the stand-in applied"}
	if len(gaps) > 0 {
		c.Status = report.Warn
		c.Reason = "the endpoint does not return (refresh keeps the recorded value): " + strings.Join(gaps, "; ")
		c.Fix = "only a real account proves these properties are read back"
	}
	return c
}
