package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mirror-dissonance/mirror-infra/internal/awsclient"
	"github.com/mirror-dissonance/mirror-infra/internal/driver"
	"github.com/mirror-dissonance/mirror-infra/internal/gate"
	"github.com/mirror-dissonance/mirror-infra/internal/postdeploy"
	"github.com/mirror-dissonance/mirror-infra/oracle/e2e"
	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/stacks"
	"github.com/mirror-dissonance/mirror-infra/stacks/stackconfig"
	"github.com/mirror-dissonance/mirror-infra/verify"
	"github.com/mirror-dissonance/mirror-infra/verify/target"
)

const deployDetail = `The whole Phase 4 cycle, in this order; a step that fails stops the ones
after it (except the post-up checks, which all run):

  1. config   Pulumi.<stack>.yaml is validated (exit 2 on a bad value).
  2. preview  the stack is selected (or created) on the backend and
              "pulumi preview --save-plan" runs the program; progress is
              streamed to stderr; the plan, a JSON summary and a Markdown
              summary (for a PR comment) are written to out/<stack>/.
  3. gate     the SPEC 5 rules run on the planned resource inputs taken
              from the preview's engine events (exit 1 on a finding).
  4. approval production: only --approve <fingerprint>; other stacks:
              --approve, --yes, or "yes" at the prompt. --non-interactive
              without approval stops here: nothing applied, exit 0.
  5. up       "pulumi up --plan": exactly the reviewed plan; the CLI refuses
              if the program's changes no longer match it (exit 1). Ctrl-C
              cancels cleanly; a concurrent run is refused (the backend lock),
              naming its holder; "unlock <stack>" clears a stale one.
  6. post-up  against the new outputs: nonce bootstrap (v1 when none
              exists), the verifier catalogue (waiting up to 6m, or
              MD_ALARM_WAIT, for new alarms to leave INSUFFICIENT_DATA),
              the rotation policy (rotate when due, prune), the E2E cycle.

Against real AWS (credentials from the SDK's standard sources):

  make tools                                    # ./bin/pulumi
  pulumi plugin install resource aws v6.83.4    # once per machine
  export PULUMI_CONFIG_PASSPHRASE=...           # or PULUMI_BACKEND_URL + --secrets-provider awskms://...
  go run ./automation preview staging           # review out/staging/staging.summary.md
  go run ./automation staging --approve sha256:...

Several stacks at once: "deploy staging production", "--stacks a,b" or
"--all" (every Pulumi.<stack>.yaml) runs each stack's whole cycle, at most
--parallel N (default 4) at a time, each with its own plan, gate and
approval. Approve each plan by stack: --approve staging=sha256:... repeated
(production still needs its own fingerprint; --yes covers the others).
There is no prompt with several stacks: a stack without approval stops
after its preview. Progress lines start with [stack]; the report has one
section per stack and a summary (--json: "checks" has one entry per stack,
"reports" the full reports). One stack's failure never stops the others;
the exit code is the worst of them (3 > 2 > 1 > 0).

  go run ./automation deploy staging production --non-interactive --json
  go run ./automation deploy staging production --yes --approve production=sha256:...

Flags besides the common ones:
  --stacks LIST           deploy these stacks together (comma-separated, as
                          naming them: staging,production)
  --all                   every stack with a Pulumi.<stack>.yaml
  --parallel N            with several stacks, at most N cycles at once
  --skip-rotation         after up, leave the nonce versions alone
  --rotate                after up, rotate the nonce even when the newest
                          version is younger than nonceRotationDays (default
                          90); either way versions past their grace period
                          beyond the newest nonceKeepVersions are pruned
  --allow-stateful NAME   allow the plan to delete or replace this stateful
                          resource (table or key); repeat for each one
  --install-plugins=false do not try "pulumi plugin install" for a missing
                          plugin (the default tries, and reports how to
                          install it by hand when that fails, e.g. offline)
  --secrets-provider URL  e.g. awskms://alias/... for a shared backend
                          (default: $MD_SECRETS_PROVIDER, else the backend's)
  --skip-preflight        do not look for existing resources of the planned
                          creates' names (the pre-flight is on by default:
                          after the preview, a planned create whose name
                          already exists stops the run, exit 1, pointing to
                          "adopt <stack>")`

const previewDetail = `Preview with a saved plan and the gate, never applying anything. Prints
the change summary and the plan fingerprint a reviewer approves (pass it to
"deploy <stack> --approve"); writes out/<stack>/<stack>.plan.json,
.summary.json and .summary.md. Exit 1 when the gate refuses the plan, 3
when the engine fails (for example the AWS provider plugin is missing).
The pre-flight runs after the gate: a planned create whose name already
exists in the account (for example a Terraform-made table) stops with exit
1, listing type, name and where it was found; take them over with
"adopt <stack>". --skip-preflight turns it off.

  --secrets-provider URL  e.g. awskms://alias/<name>?region=<region> for a
                          shared S3 backend, on the stack's first preview
                          (default: $MD_SECRETS_PROVIDER, else the backend's)`

const driftDetail = `Refresh in preview mode: compares every resource's real state with the
state Pulumi recorded and lists what changed outside Pulumi (for example
PITR switched off in the console). Nothing is written. Exit 1 on drift.`

const destroyDetail = `Guarded destroy. Lists what would be deleted and the destroy fingerprint;
refuses while a protected resource (tables, the key) is not named with
--allow-destroy NAME (repeat for each one). Approval as for deploy:
production needs --approve <fingerprint>. DynamoDB deletion protection is
enforced by AWS as well: turn it off through config (non-production only)
and deploy before destroying tables.`

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error {
	if strings.TrimSpace(v) == "" {
		return errors.New("empty name")
	}
	*l = append(*l, v)
	return nil
}

// secretsProviderEnv is the driver's own MD_* variable: the state's secrets
// provider (the workflows set it from vars.PULUMI_SECRETS_PROVIDER).
const secretsProviderEnv = "MD_SECRETS_PROVIDER"

// driverFlags are the flags of the commands that run the Pulumi CLI.
type driverFlags struct {
	installPlugins  bool
	secretsProvider string
	// preflight checks planned creates against existing names (deploy
	// and preview; --skip-preflight turns it off).
	preflight bool
}

func (f *driverFlags) add(fs interface {
	BoolVar(*bool, string, bool, string)
	StringVar(*string, string, string, string)
}) {
	fs.BoolVar(&f.installPlugins, "install-plugins", true, "install a missing plugin through the workspace (`pulumi plugin install`); false: fail at once")
	fs.StringVar(&f.secretsProvider, "secrets-provider", os.Getenv(secretsProviderEnv), "state secrets provider (e.g. awskms://alias/...); default the backend's")
}

// openStack validates the stack's config (exit 2) and opens it with the
// driver (exit 3 with a report when the CLI, a plugin or the backend
// fails). existingOnly: a stack that was never deployed is exit 2 instead
// of being created. ok is false when the caller should return code.
func openStack(ctx context.Context, io stdio, o options, f driverFlags, cmd, stack string, existingOnly bool) (d *driver.Driver, cfg stackconfig.Config, code int, ok bool) {
	cfg, dir, code, ok := loadStackConfig(io, cmd, o, stack)
	if !ok {
		return nil, cfg, code, false
	}
	d, err := openDriver(ctx, f, dir, cfg, stack, io.err, existingOnly)
	if errors.Is(err, driver.ErrNoStack) {
		fmt.Fprintf(io.err, "automation %s: %v\n", cmd, err)
		return nil, cfg, report.ExitUsage, false
	}
	if err != nil {
		r := &report.Report{Command: cmd, Stack: stack, Started: time.Now()}
		r.Add(driver.ErrorCheck("preview", err))
		return nil, cfg, emit(io, o, r), false
	}
	return d, cfg, 0, true
}

// openDriver opens stack with the real program; progress receives the
// engine's events.
func openDriver(ctx context.Context, f driverFlags, dir string, cfg stackconfig.Config, stack string, progress io.Writer, existingOnly bool) (*driver.Driver, error) {
	var pre driver.PreFlight
	if f.preflight {
		pre = preflightHook(cfg)
	}
	return driver.Open(ctx, driver.Settings{
		PreFlight:       pre,
		ProjectDir:      dir,
		Stack:           stack,
		Program:         stacks.Program,
		SecretsProvider: f.secretsProvider,
		Plugins:         []driver.Plugin{driver.AWSPlugin()},
		InstallPlugins:  f.installPlugins,
		Progress:        progress,
		ExistingOnly:    existingOnly,
	})
}

func gateOptions(cfg stackconfig.Config, allow []string) gate.Options {
	return gate.OptionsFor(cfg, allow)
}

// driverRun is what deploy, preview, drift and destroy share: their flags,
// the stack, the opened driver and the report they fill.
type driverRun struct {
	name    string
	io      stdio
	fs      *flag.FlagSet
	o       options
	f       driverFlags
	allow   listFlag
	stack   string
	started time.Time
	d       *driver.Driver
	cfg     stackconfig.Config
	r       *report.Report
	// preflight, read after parsing, says whether to run the pre-flight.
	preflight func() bool
}

// newDriverRun registers the common and driver flags; allowFlag, when not
// empty, is the repeatable flag that names resources the operator allows.
func newDriverRun(io stdio, name string, withApproval bool, allowFlag, allowUsage string) *driverRun {
	c := &driverRun{name: name, io: io, fs: newFlagSet(name, io)}
	addCommon(c.fs, &c.o, withApproval, false)
	c.f.add(c.fs)
	if allowFlag != "" {
		c.fs.Var(&c.allow, allowFlag, allowUsage)
	}
	return c
}

// open parses the arguments and opens the stack; ok is false when the
// command should return code.
func (c *driverRun) open(ctx context.Context, args []string, existingOnly bool) (code int, ok bool) {
	if c.stack, code, ok = oneStack(c.io, c.fs, c.name, args); !ok {
		return code, false
	}
	return c.openNamed(ctx, existingOnly)
}

// openNamed opens c.stack, the arguments already parsed.
func (c *driverRun) openNamed(ctx context.Context, existingOnly bool) (code int, ok bool) {
	if err := c.o.checkApprovals([]string{c.stack}); err != nil {
		return usageErrorf(c.io, c.name, "%v", err), false
	}
	c.started = time.Now()
	c.f.preflight = c.preflight != nil && c.preflight()
	if c.d, c.cfg, code, ok = openStack(ctx, c.io, c.o, c.f, c.name, c.stack, existingOnly); !ok {
		return code, false
	}
	c.r = &report.Report{Command: c.name, Stack: c.stack, Started: c.started}
	return 0, true
}

// approval is the deploy rules of SPEC 5 for this stack.
func (c *driverRun) approval() driver.Approval {
	return driver.Approval{
		Production:  c.cfg.Environment == "production",
		Yes:         c.o.yes,
		Fingerprint: c.o.fingerprintFor(c.stack),
		Interactive: !c.o.nonInteractive,
		In:          c.io.in,
		Out:         c.io.err,
	}
}

// finish stamps the elapsed time and prints the report.
func (c *driverRun) finish() int {
	c.r.Elapsed = time.Since(c.started).Round(time.Millisecond).String()
	return emit(c.io, c.o, c.r)
}

// addPreflight registers --skip-preflight; the pre-flight is on by default.
func (c *driverRun) addPreflight() *bool {
	return c.fs.Bool("skip-preflight", false, "do not check planned creates against names that already exist in the account (only for an account known to be empty)")
}

func runDeploy(ctx context.Context, io stdio, args []string) int {
	return runDeployWith(ctx, io, args, nil)
}

// runDeployWith is deploy; cycle, when not nil, replaces the real cycle of
// each stack of a multi-stack run (tests).
func runDeployWith(ctx context.Context, io stdio, args []string, cycle stackCycle) int {
	c := newDriverRun(io, "deploy", true, "allow-stateful", "allow the plan to delete or replace this stateful resource (repeat)")
	var rot rotationFlags
	c.fs.BoolVar(&rot.skip, "skip-rotation", false, "after up, leave the nonce versions alone (no rotation, no prune)")
	c.fs.BoolVar(&rot.force, "rotate", false, "after up, rotate the nonce even when it is not due (nonceRotationDays)")
	skipPre := c.addPreflight()
	c.preflight = func() bool { return !*skipPre }
	var m multiFlags
	m.add(c.fs)
	pos, err := parseArgs(c.fs, args)
	if err != nil {
		if err == flag.ErrHelp {
			return report.ExitOK
		}
		return report.ExitUsage
	}
	if err := checkOutputs(c.fs); err != nil {
		return usageErrorf(io, "deploy", "%v", err)
	}
	names, code, ok := m.stacks(c, pos)
	if !ok {
		return code
	}
	if len(names) > 1 {
		mk := realCycle(rot)
		if cycle != nil {
			mk = func(driverFlags, []string) stackCycle { return cycle }
		}
		return c.deployMany(ctx, names, m.parallel, mk)
	}
	c.stack = names[0]
	if code, ok := c.openNamed(ctx, false); !ok {
		return code
	}
	c.d.Deploy(ctx, driver.CycleOptions{
		Gate:        gate.Evaluate,
		GateOptions: gateOptions(c.cfg, c.allow),
		Approval:    c.approval(),
		PostUp:      postUpHooks(c.cfg, rot),
		Summary:     io.err,
	}, c.r)
	return c.finish()
}

// e2eTimeout bounds the post-up E2E cycle (as `e2e`'s default --timeout).
const e2eTimeout = time.Minute

// postUpHooks are the steps after up, against the new outputs: the shared
// post-deploy stage (nonce bootstrap, verifier, rotation check, E2E cycle),
// the same function the rehearsal runs.
// deployAlarmWait bounds the post-up wait for new alarms to leave
// INSUFFICIENT_DATA (MD_ALARM_WAIT overrides it).
const deployAlarmWait = 6 * time.Minute

// rotationFlags are deploy's say over the nonce after up.
type rotationFlags struct{ skip, force bool }

func postUpHooks(cfg stackconfig.Config, rot rotationFlags) []driver.Hook {
	return []driver.Hook{func(ctx context.Context, outs map[string]any) []report.Check {
		tgt, err := target.FromOutputs(outs)
		if err != nil {
			return []report.Check{{ID: "outputs", Status: report.Fail, Reason: fmt.Sprintf("the stack outputs do not name every resource: %v", err),
				Fix: "the program must export the outputs of SPEC 2.8"}}
		}
		awsCfg, err := awsclient.Load(ctx, awsclient.Options{Region: tgt.Region})
		if err != nil {
			return []report.Check{{ID: "outputs", Status: report.Fail, Infra: true, Reason: fmt.Sprintf("loading the AWS configuration: %v", err)}}
		}
		run, err := verify.OptionsFromEnv(ctx, nil)
		if err != nil {
			return []report.Check{{ID: "outputs", Status: report.Fail, Reason: err.Error(), Fix: "fix the MD_* setting it names"}}
		}
		// New alarms sit in INSUFFICIENT_DATA until CloudWatch first
		// evaluates them (a few minutes): wait, bounded, so a fresh deploy
		// reports alarms and alert PASS or a precise reason, not a WARN.
		wait := cmp.Or(run.AlarmWait, deployAlarmWait)
		return postdeploy.Run(ctx, awsCfg, tgt, postdeploy.Options{
			Verify: verify.Options{ExpectedThreshold: float64(cfg.ThrottleThreshold),
				AlarmWait: wait, Timeout: wait + 2*time.Minute, NonceGrace: run.NonceGrace, FireAlarm: run.FireAlarm},
			E2E:          e2e.Options{Logger: slog.Default()},
			E2ETimeout:   e2eTimeout,
			SkipRotation: rot.skip,
			Rotation: postdeploy.RotationPolicy{
				Force:  rot.force,
				MaxAge: time.Duration(cfg.NonceRotationDays) * 24 * time.Hour,
				Keep:   cfg.NonceKeepVersions,
			},
		})
	}}
}

func runPreview(ctx context.Context, io stdio, args []string) int {
	c := newDriverRun(io, "preview", false, "allow-stateful", "allow the plan to delete or replace this stateful resource (repeat)")
	skipPre := c.addPreflight()
	c.preflight = func() bool { return !*skipPre }
	if code, ok := c.open(ctx, args, false); !ok {
		return code
	}
	c.d.PreviewAndGate(ctx, gate.Evaluate, gateOptions(c.cfg, c.allow), io.err, c.r)
	return c.finish()
}

func runDrift(ctx context.Context, io stdio, args []string) int {
	c := newDriverRun(io, "drift", false, "", "")
	if code, ok := c.open(ctx, args, true); !ok {
		return code
	}
	r, stack := c.r, c.stack
	drift, err := c.d.Drift(ctx)
	switch {
	case err != nil:
		r.Add(driver.ErrorCheck("drift", err))
	case len(drift) == 0:
		r.Add(report.Check{ID: "drift", Status: report.Pass, Reason: "no resource changed outside Pulumi"})
	default:
		for _, x := range drift {
			reason := fmt.Sprintf("%s %s changed outside Pulumi: %s", x.Type, x.Name, strings.Join(x.Changed, ", "))
			if x.Gone {
				reason = fmt.Sprintf("%s %s was deleted outside Pulumi", x.Type, x.Name)
			}
			r.Add(report.Check{ID: "drift", Status: report.Fail, Reason: reason,
				Fix: fmt.Sprintf("restore the declared state with `go run ./automation %s`, or change the program to adopt the change", stack)})
		}
	}
	return c.finish()
}

func runDestroy(ctx context.Context, io stdio, args []string) int {
	c := newDriverRun(io, "destroy", true, "allow-destroy", "destroy this protected resource (logical name or URN; repeat for each)")
	if code, ok := c.open(ctx, args, true); !ok {
		return code
	}
	r, stack, allow := c.r, c.stack, c.allow
	p, err := c.d.PlanDestroy(ctx)
	if err != nil {
		r.Add(driver.ErrorCheck("destroy", err))
		return c.finish()
	}
	if len(p.Resources) == 0 {
		r.Add(report.Check{ID: "destroy", Status: report.Pass, Reason: "the stack has no resources; nothing to destroy"})
		return c.finish()
	}
	fmt.Fprintf(io.err, "Destroy %s would delete %d resource(s):\n", stack, len(p.Resources))
	var refused []string
	for _, res := range p.Resources {
		mark := ""
		if res.Protect {
			mark = " (protected)"
			if !namedIn(allow, res.URN) {
				refused = append(refused, driver.URNName(res.URN))
			}
		}
		fmt.Fprintf(io.err, "  - %s %s%s\n", res.Type, driver.URNName(res.URN), mark)
	}
	fmt.Fprintf(io.err, "Fingerprint: %s\n", p.Fingerprint)
	if len(refused) > 0 {
		r.Add(report.Check{ID: "destroy", Status: report.Fail,
			Reason: "refused: protected resources not named: " + strings.Join(refused, ", "),
			Fix:    "name each protected resource to destroy with --allow-destroy NAME"})
		return c.finish()
	}
	approved, decision := c.approval().Decide(stack, p.Fingerprint)
	r.Add(decision)
	if !approved {
		return c.finish()
	}
	if err := c.d.Destroy(ctx, allow, p.Fingerprint); err != nil {
		r.Add(driver.ErrorCheck("destroy", err))
		return c.finish()
	}
	r.Add(report.Check{ID: "destroy", Status: report.Pass, Reason: fmt.Sprintf("destroyed %d resource(s)", len(p.Resources))})
	return c.finish()
}

// namedIn reports whether the operator named a resource by URN or by
// logical name.
func namedIn(names []string, urn string) bool {
	for _, n := range names {
		if n == urn || n == driver.URNName(urn) {
			return true
		}
	}
	return false
}

// multiFlags select several stacks for one deploy.
type multiFlags struct {
	list     string
	all      bool
	parallel int
}

// defaultParallel bounds concurrent stack cycles: each runs a pulumi CLI
// and its provider plugins, so more than a few mostly contend for CPU.
const defaultParallel = 4

func (m *multiFlags) add(fs *flag.FlagSet) {
	fs.StringVar(&m.list, "stacks", "", "deploy these stacks together (comma-separated), like naming them as arguments")
	fs.BoolVar(&m.all, "all", false, "deploy every stack that has a Pulumi.<stack>.yaml in the project directory")
	fs.IntVar(&m.parallel, "parallel", defaultParallel, "with several stacks: at most this many stack cycles at once")
}

// stacks are the stacks of this run, in the order given (arguments, then
// --stacks, or every Pulumi.<stack>.yaml sorted with --all), without
// duplicates.
func (m *multiFlags) stacks(c *driverRun, pos []string) ([]string, int, bool) {
	if m.parallel < 1 {
		return nil, usageErrorf(c.io, c.name, "--parallel %d: want 1 or more", m.parallel), false
	}
	names := append([]string{}, pos...)
	if m.list != "" {
		for _, s := range strings.Split(m.list, ",") {
			if s = strings.TrimSpace(s); s == "" {
				return nil, usageErrorf(c.io, c.name, "--stacks %q has an empty name; want a comma-separated list such as staging,production", m.list), false
			}
			names = append(names, s)
		}
	}
	if m.all {
		if len(names) > 0 {
			return nil, usageErrorf(c.io, c.name, "--all deploys every stack; do not also name stacks (%s)", strings.Join(names, ", ")), false
		}
		dir, err := projectDir(c.o.projectDir)
		if err != nil {
			return nil, usageErrorf(c.io, c.name, "%v", err), false
		}
		files, err := filepath.Glob(filepath.Join(dir, "Pulumi.*.yaml"))
		if err != nil {
			return nil, usageErrorf(c.io, c.name, "listing the stack files in %s: %v", dir, err), false
		}
		for _, f := range files {
			names = append(names, strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "Pulumi."), ".yaml"))
		}
		if len(names) == 0 {
			return nil, usageErrorf(c.io, c.name, "--all: no Pulumi.<stack>.yaml in %s", dir), false
		}
	}
	var out []string
	for _, n := range names {
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return nil, usageErrorf(c.io, c.name, "want exactly one stack name, or several (deploy staging production, --stacks a,b or --all); got none"), false
	}
	return out, 0, true
}

// stackRun is what one stack's cycle of a multi-stack deploy gets.
type stackRun struct {
	stack    string
	dir      string
	cfg      stackconfig.Config
	approval driver.Approval
	// progress is the stack's share of stderr, each line prefixed.
	progress io.Writer
}

// stackCycle runs one stack of a multi-stack deploy into r.
type stackCycle func(ctx context.Context, s stackRun, r *report.Report)

// realCycle is the single-stack deploy cycle for one stack of several.
func realCycle(rot rotationFlags) func(driverFlags, []string) stackCycle {
	return func(f driverFlags, allow []string) stackCycle {
		return func(ctx context.Context, s stackRun, r *report.Report) {
			d, err := openDriver(ctx, f, s.dir, s.cfg, s.stack, s.progress, false)
			if err != nil {
				r.Add(driver.ErrorCheck("preview", err))
				return
			}
			d.Deploy(ctx, driver.CycleOptions{
				Gate:        gate.Evaluate,
				GateOptions: gateOptions(s.cfg, allow),
				Approval:    s.approval,
				PostUp:      postUpHooks(s.cfg, rot),
				Summary:     s.progress,
			}, r)
		}
	}
}

// deployMany runs the cycle of each stack concurrently (at most parallel
// at once), each with its own plan, gate and approval, and prints one
// combined report; the exit code is the worst of the stacks'.
func (c *driverRun) deployMany(ctx context.Context, names []string, parallel int, mk func(driverFlags, []string) stackCycle) int {
	if err := c.o.checkApprovals(names); err != nil {
		return usageErrorf(c.io, c.name, "%v", err)
	}
	// Every stack's config is checked before any cloud call: a bad value
	// is exit 2 for the whole run, as for one stack.
	type loaded struct {
		dir string
		cfg stackconfig.Config
	}
	cfgs := map[string]loaded{}
	for _, s := range names {
		cfg, dir, code, ok := loadStackConfig(c.io, c.name, c.o, s)
		if !ok {
			return code
		}
		cfgs[s] = loaded{dir: dir, cfg: cfg}
	}
	c.f.preflight = c.preflight != nil && c.preflight()
	cycle := mk(c.f, c.allow)
	started := time.Now()
	fmt.Fprintf(c.io.err, "deploy: %d stacks (%s), at most %d at once; each line of a stack's progress starts with [stack]\n",
		len(names), strings.Join(names, ", "), parallel)
	var mu sync.Mutex
	reports := driver.RunStacks(ctx, names, parallel, func(ctx context.Context, stack string) *report.Report {
		pw := &prefixWriter{mu: &mu, w: c.io.err, prefix: "[" + stack + "] "}
		defer pw.flush()
		r := &report.Report{Command: c.name, Stack: stack, Started: time.Now()}
		l := cfgs[stack]
		cycle(ctx, stackRun{stack: stack, dir: l.dir, cfg: l.cfg, progress: pw, approval: driver.Approval{
			Production:  l.cfg.Environment == "production",
			Yes:         c.o.yes,
			Fingerprint: c.o.fingerprintFor(stack),
			// Concurrent stacks cannot share one terminal prompt: approve
			// with --yes or --approve STACK=FP, else each stops after its
			// preview awaiting approval.
			Interactive: false,
			Out:         pw,
		}}, r)
		r.Elapsed = time.Since(r.Started).Round(time.Millisecond).String()
		fmt.Fprintf(pw, "done: exit %d (%s)\n", r.ExitCode(), r.Summary())
		return r
	})
	return emitMany(c.io, c.o, c.name, reports, started)
}

// combinedReport is the JSON of a multi-stack run: a top-level checks
// array (one check per stack, as every report has) and each stack's full
// report under reports.
type combinedReport struct {
	Command  string           `json:"command"`
	Stacks   []string         `json:"stacks"`
	ExitCode int              `json:"exitCode"`
	Checks   []report.Check   `json:"checks"`
	Reports  []*report.Report `json:"reports"`
	Started  time.Time        `json:"started"`
	Elapsed  string           `json:"elapsed"`
}

// stackCheck sums one stack's report up as one check of the combined report.
func stackCheck(r *report.Report) report.Check {
	liftFingerprint(r)
	code := r.ExitCode()
	c := report.Check{ID: r.Stack, Reason: fmt.Sprintf("exit %d: %s", code, r.Summary()), Details: map[string]string{}}
	if r.Fingerprint != "" {
		c.Details["fingerprint"] = r.Fingerprint
	}
	a, hasApproval := r.Find("approval")
	switch {
	case code != report.ExitOK:
		c.Status, c.Infra = report.Fail, code == report.ExitEngine
		for _, x := range r.Checks {
			if x.Status == report.Fail {
				c.Reason += "; " + x.ID + ": " + x.Reason
				c.Fix = x.Fix
				break
			}
		}
	case hasApproval && a.Status == report.Skip:
		c.Status, c.Reason, c.Fix = report.Skip, c.Reason+"; "+a.Reason, a.Fix
		if c.Fix != "" && r.Fingerprint != "" {
			c.Fix = fmt.Sprintf("after review: --approve %s=%s", r.Stack, r.Fingerprint)
		}
	case r.Counts()[report.Warn] > 0:
		c.Status = report.Warn
	default:
		c.Status = report.Pass
	}
	return c
}

// emitMany prints each stack's report, then the combined one: text (on
// stderr with --json), JSON on stdout with --json, Markdown to --markdown.
// It returns the worst exit code.
func emitMany(io stdio, o options, cmd string, reports []*report.Report, started time.Time) int {
	names := make([]string, len(reports))
	sum := &report.Report{Command: cmd, Started: started, Elapsed: time.Since(started).Round(time.Millisecond).String()}
	for i, r := range reports {
		names[i] = r.Stack
		sum.Add(stackCheck(r))
	}
	sum.Stack = strings.Join(names, ", ")
	worst := driver.WorstExit(reports)
	human := io.out
	if o.json {
		human = io.err
	}
	colour := isTerminal(human)
	for _, r := range reports {
		_ = r.WriteText(human, colour)
		fmt.Fprintln(human)
	}
	_ = sum.WriteText(human, colour)
	fmt.Fprintf(human, "exit %d (the worst of %d stacks)\n", worst, len(reports))
	if o.json {
		enc := json.NewEncoder(io.out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(combinedReport{Command: cmd, Stacks: names, ExitCode: worst, Checks: sum.Checks,
			Reports: reports, Started: started, Elapsed: sum.Elapsed}); err != nil {
			fmt.Fprintf(io.err, "writing the JSON report: %v\n", err)
			return report.ExitEngine
		}
	}
	if o.markdown != "" {
		var b bytes.Buffer
		fmt.Fprintf(&b, "## %s: %d stacks, exit %d\n\n", cmd, len(reports), worst)
		_ = sum.WriteMarkdown(&b)
		for _, r := range reports {
			b.WriteString("\n")
			_ = r.WriteMarkdown(&b)
		}
		if err := os.WriteFile(o.markdown, b.Bytes(), 0o644); err != nil {
			fmt.Fprintf(io.err, "writing the Markdown report to %s: %v\n", o.markdown, err)
			return report.ExitEngine
		}
	}
	return worst
}

// prefixWriter prefixes every line a stack writes and writes whole lines
// only, under a lock shared by the stacks, so concurrent progress stays
// readable.
type prefixWriter struct {
	mu     *sync.Mutex
	w      io.Writer
	prefix string
	buf    []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			return len(b), nil
		}
		p.mu.Lock()
		_, err := fmt.Fprintf(p.w, "%s%s\n", p.prefix, p.buf[:i])
		p.mu.Unlock()
		p.buf = p.buf[i+1:]
		if err != nil {
			return len(b), err
		}
	}
}

// flush writes a last unterminated line.
func (p *prefixWriter) flush() {
	if len(p.buf) > 0 {
		_, _ = p.Write([]byte("\n"))
	}
}
