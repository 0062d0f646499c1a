package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mirror-dissonance/mirror-infra/internal/adopt"
	"github.com/mirror-dissonance/mirror-infra/internal/awsclient"
	"github.com/mirror-dissonance/mirror-infra/internal/driver"
	"github.com/mirror-dissonance/mirror-infra/internal/gate"
	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/stacks"
	"github.com/mirror-dissonance/mirror-infra/stacks/stackconfig"
)

const adoptDetail = `Takes over an environment the original Terraform modules made (SPEC 3.2),
without recreating anything: the tables keep their items and their
point-in-time-recovery history.

  1. discover  the program runs under Pulumi mocks (no CLI, no plugin) for
               the names it declares; each one is looked up in the account
               with read-only calls (tables, the key through its alias, the
               alias, topic, topic policy and subscription, alarms,
               dashboard, OIDC provider, roles and their policies, the
               baselines bucket and its settings).
  2. plan      printed as text (stderr with --json), as JSON (--json: the
               resources array lists type, logical name, component, import
               id, action and the in-place updates) and as Markdown
               (--markdown FILE); also written to out/<stack>/<stack>.adopt.json
               and .adopt.md. Conflicts stop here (exit 1): a table whose key
               schema differs from the program's, or a name taken by a
               foreign resource (another project's or another stack's tags).
  3. approval  as for deploy: --yes (not production) or --approve <fingerprint>
               of this adoption plan; without it adopt stops here, exit 0,
               having changed nothing.
  4. import    "pulumi import --file" through the Automation API, with the
               program's components as parents, every resource protected.
  5. preview   the program's preview with its saved plan, the gate rules and
               the rule "adoption": no create of an imported table, key or
               bucket and no replace or delete of one. What remains are
               in-place updates (alarms' missing-data treatment, the key
               policy's CloudWatch statement, ...): apply them with
               "go run ./automation <stack> --approve <fingerprint>".

It prints the "terraform state rm" commands that hand the adopted resources
over (run them by hand, in the Terraform workspace of the environment); it
never runs Terraform and never deletes anything. Resources the original made
that this program does not manage are listed as left alone.

Flags besides the common ones:
  --install-plugins=false, --secrets-provider URL   as for deploy (import only)`

func runAdopt(ctx context.Context, io stdio, args []string) int {
	c := newDriverRun(io, "adopt", true, "", "")
	stack, cfg, dir, code, ok := oneStackConfig(io, c.fs, "adopt", &c.o, args)
	if !ok {
		return code
	}
	c.stack, c.cfg, c.started = stack, cfg, time.Now()
	c.r = &report.Report{Command: "adopt", Stack: stack, Started: c.started}
	r := c.r
	awsCfg, err := awsclient.Load(ctx, awsclient.Options{Region: cfg.Region})
	if err != nil {
		r.Add(report.Check{ID: "discover", Status: report.Fail, Infra: true, Reason: fmt.Sprintf("loading the AWS configuration: %v", err)})
		return c.finish()
	}
	fmt.Fprintf(io.err, "Discovering %s's resources by name (read-only)...\n", stack)
	plan, err := adopt.Discover(ctx, awsCfg, cfg, slog.Default())
	if err != nil {
		r.Add(report.Check{ID: "discover", Status: report.Fail, Infra: true, Reason: err.Error(),
			Fix: "check the credentials and region (AWS_PROFILE, AWS_ENDPOINT_URL); discovery needs describe/get/list rights only"})
		return c.finish()
	}
	human := io.out
	if c.o.json {
		human = io.err
	}
	fmt.Fprint(human, plan.Text())
	files, err := writePlanFiles(dir, plan)
	if err != nil {
		r.Add(report.Check{ID: "discover", Status: report.Fail, Infra: true, Reason: err.Error()})
		return c.finish()
	}
	if c.o.markdown != "" {
		if err := os.WriteFile(c.o.markdown, []byte(plan.Markdown()), 0o644); err != nil {
			fmt.Fprintf(io.err, "writing the Markdown plan to %s: %v\n", c.o.markdown, err)
			return report.ExitEngine
		}
		c.o.markdown = "" // the plan is the Markdown of adopt
	}
	r.Fingerprint = plan.Fingerprint
	for _, e := range plan.Entries {
		r.Resources = append(r.Resources, e)
	}
	r.Add(report.Check{ID: "discover", Status: report.Pass,
		Reason:  fmt.Sprintf("%d to import, %d to create, %d left alone (in %s, account %s)", len(plan.Imports()), len(plan.Creates()), len(plan.LeftAlone), plan.Region, plan.Account),
		Details: map[string]string{"fingerprint": plan.Fingerprint, "plan": files[0], "markdown": files[1]}})
	r.Add(handoffCheck(plan))
	for _, x := range plan.Conflicts {
		r.Add(report.Check{ID: "adopt:conflict", Status: report.Fail, Reason: fmt.Sprintf("%s %s (%s): %s", x.Type, x.Name, x.Physical, x.Reason), Fix: x.Fix})
	}
	if len(plan.Conflicts) > 0 {
		return c.finish()
	}
	approved, decision := c.approval().Decide(stack, plan.Fingerprint)
	r.Add(decision)
	if !approved {
		return c.finish()
	}
	if len(plan.Imports()) == 0 {
		r.Add(report.Check{ID: "import", Status: report.Skip, Reason: "nothing of this stack exists in the account; run the normal deploy"})
		return c.finish()
	}
	d, err := driver.Open(ctx, driver.Settings{ProjectDir: dir, Stack: stack, Program: stacks.Program,
		SecretsProvider: c.f.secretsProvider, Plugins: []driver.Plugin{driver.AWSPlugin()}, InstallPlugins: c.f.installPlugins, Progress: io.err})
	if err != nil {
		r.Add(driver.ErrorCheck("import", err))
		return c.finish()
	}
	start := time.Now()
	if err := d.Import(ctx, importSpecs(plan)); err != nil {
		r.Add(driver.ErrorCheck("import", err))
		return c.finish()
	}
	r.Add(report.Check{ID: "import", Status: report.Pass, Duration: time.Since(start),
		Reason: fmt.Sprintf("imported %d resources under the program's components, protected; nothing in the account changed", len(plan.Imports()))})
	imported := plan.ImportedNames()
	g := func(res []gate.Resource, o gate.Options) []gate.Finding {
		return append(gate.Adoption(res, imported), gate.Evaluate(res, o)...)
	}
	if p, ok := d.PreviewAndGate(ctx, g, gateOptions(cfg, nil), io.err, r); ok {
		r.Add(report.Check{ID: "next", Status: report.Pass,
			Reason: fmt.Sprintf("the remaining changes are in place or creates of what did not exist; apply them with `go run ./automation %s --approve %s`, then run the terraform state rm commands", stack, p.Fingerprint)})
	}
	return c.finish()
}

// handoffCheck carries the Terraform hand-off and the left-alone list in
// the report.
func handoffCheck(plan *adopt.Plan) report.Check {
	c := report.Check{ID: "terraform-handoff", Status: report.Pass, Details: map[string]string{},
		Reason: "run by hand after the import (adopt never runs Terraform): " + strings.Join(plan.StateRm, " && ")}
	for _, l := range plan.LeftAlone {
		c.Details["left alone: "+l.Terraform] = l.Kind + " " + l.Name + ": " + l.Why
	}
	return c
}

// importSpecs lists the program's components (parents first) and the
// resources to import under them.
func importSpecs(plan *adopt.Plan) []driver.ImportSpec {
	var out []driver.ImportSpec
	for _, comp := range plan.Components() {
		out = append(out, driver.ImportSpec{Type: comp.Type, Name: comp.Name, Component: true, ParentType: comp.ParentType, ParentName: comp.ParentName})
	}
	for _, e := range plan.Imports() {
		pt, pn, _ := strings.Cut(e.Component, "::")
		out = append(out, driver.ImportSpec{Type: e.Type, Name: e.Name, ID: e.ImportID, ParentType: pt, ParentName: pn})
	}
	return out
}

// writePlanFiles writes the plan as JSON and Markdown next to the saved
// plans, for review and the change record.
func writePlanFiles(dir string, plan *adopt.Plan) ([]string, error) {
	out := filepath.Join(dir, "out", plan.Stack)
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, fmt.Errorf("creating %s: %w", out, err)
	}
	js, err := json.MarshalIndent(plan, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding the adoption plan: %w", err)
	}
	files := []string{filepath.Join(out, plan.Stack+".adopt.json"), filepath.Join(out, plan.Stack+".adopt.md")}
	for i, body := range [][]byte{append(js, '\n'), []byte(plan.Markdown())} {
		if err := os.WriteFile(files[i], body, 0o644); err != nil {
			return nil, fmt.Errorf("writing %s: %w", files[i], err)
		}
	}
	return files, nil
}

// preflightHook is the deploy's and preview's pre-flight (SPEC 3.2): a
// planned create whose name exists in the account stops the run, listing
// each one and pointing to adopt. A pre-flight that cannot read stops it
// too: a second key or topic must never be made beside an existing one.
func preflightHook(cfg stackconfig.Config) driver.PreFlight {
	return func(ctx context.Context, planned []gate.Resource) []report.Check {
		awsCfg, err := awsclient.Load(ctx, awsclient.Options{Region: cfg.Region})
		if err == nil {
			var coll []adopt.Collision
			if coll, err = adopt.Preflight(ctx, awsCfg, cfg, planned); err == nil {
				return preflightChecks(cfg.Stack, coll)
			}
		}
		return []report.Check{{ID: "preflight", Status: report.Fail, Infra: true,
			Reason: fmt.Sprintf("could not check whether the planned creates already exist: %v", err),
			Fix:    "give the credentials describe/get/list rights, or pass --skip-preflight when the account is known to be empty"}}
	}
}

func preflightChecks(stack string, coll []adopt.Collision) []report.Check {
	if len(coll) == 0 {
		return []report.Check{{ID: "preflight", Status: report.Pass, Reason: "no planned create has a name that already exists"}}
	}
	c := report.Check{ID: "preflight", Status: report.Fail, Details: map[string]string{},
		Fix: fmt.Sprintf("take them over instead of creating them: go run ./automation adopt %s", stack)}
	var names []string
	for _, x := range coll {
		names = append(names, fmt.Sprintf("%s %s (found by %s)", x.Type, x.Physical, x.Where))
		c.Details[x.Type+" "+x.Name] = x.Physical + " (" + x.Where + ")"
	}
	c.Reason = fmt.Sprintf("stopped before anything is applied: %d planned creates already exist: %s", len(coll), strings.Join(names, "; "))
	return []report.Check{c}
}
