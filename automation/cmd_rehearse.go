package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mirror-dissonance/mirror-infra/internal/driver"
	"github.com/mirror-dissonance/mirror-infra/internal/rehearse"
	"github.com/mirror-dissonance/mirror-infra/report"
)

func rehearseDetailText() string {
	var b strings.Builder
	b.WriteString(`Runs the whole Phase 4 cycle offline, with nothing but Go: the stack program
runs under Pulumi mocks whose resources are created in an in-process AWS
emulator with the inputs the program declared; the gate rules judge the plan;
then exactly what the driver runs after "up" (nonce bootstrap, the verifier,
the rotation check, the E2E cycle) runs through the real AWS SDK against the
emulator. No credentials, no network, no pulumi CLI, no plugin.

The report has the same format as the driver's (--json, --markdown) and the
same exit codes. Inputs the emulator cannot hold are listed, never dropped.

--break DEFECT injects one realistic defect to watch the gate and the
verifier catch it (the run then exits 1 on purpose). --from terraform
starts from the environment the original Terraform modules made (their
names, settings and known defects, items in the tables): pre-flight, adopt
(discover, plan, import with the program's parents, adoption gate rule),
the in-place fixes, verify, E2E, then the proof that every item written
before is still there and no table was recreated (creation time unchanged).

--engine rehearses with the real Pulumi engine instead of mocks: the same
driver deploy runs (internal/driver), the pulumi CLI (./bin/pulumi, built by
` + "`make tools`" + `; PULUMI_CLI_PATH overrides it), a temporary local backend,
the inline stack program, the stand-in AWS provider (md-provider, attached
through PULUMI_DEBUG_PROVIDERS) and the in-process emulator. Each scenario
is a check engine:<name>: ` + strings.Join(rehearse.EngineScenarios, ", ") + `.
It costs about a minute or two on two cores (the CLI previews and applies
the 31 resources several times) and nothing outside the machine: no
credentials, no network, no AWS provider plugin. Without the CLI it exits 3
naming ` + "`make tools`" + `. --scenarios narrows it (comma-separated).

Defects:
`)
	for _, d := range rehearse.Defects() {
		fmt.Fprintf(&b, "  %-20s %s (caught by %s)\n", d.Name, d.Description, strings.Join(d.CaughtBy, ", "))
	}
	b.WriteString("\nDefects with --from terraform:\n")
	for _, d := range rehearse.AdoptionDefects() {
		fmt.Fprintf(&b, "  %-20s %s: %s\n", d.Name, d.Description, d.Expect)
	}
	return b.String()
}

type rehearseOptions struct {
	common
	brk       string
	from      string
	engine    bool
	scenarios []string
}

var rehearseSpec = commandSpec{use: "rehearse <stack>", short: "the whole cycle offline against an in-process AWS emulator", long: rehearseDetailText(),
	timeout: 15 * time.Minute, bounds: "the whole rehearsal"}

func (o *rehearseOptions) flags(c *cobra.Command, env environ) {
	c.Flags().StringVar(&o.brk, "break", "", "inject one `DEFECT` (listed above)")
	c.Flags().StringVar(&o.from, "from", "", "start from an existing environment: `SOURCE` terraform")
	c.Flags().BoolVar(&o.engine, "engine", false, "the real engine (pulumi CLI, driver, stand-in provider) through its scenarios, not mocks")
	c.Flags().StringSliceVar(&o.scenarios, "scenarios", nil, "with --engine: only these `SCENARIOS` (default all)")
	_ = c.RegisterFlagCompletionFunc("break", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		var names []string
		for _, d := range rehearse.Defects() {
			names = append(names, d.Name)
		}
		return names, cobra.ShellCompDirectiveNoFileComp
	})
}

func (o *rehearseOptions) run(ctx context.Context, a *app, c *cobra.Command, stack string) (*report.Report, error) {
	if o.engine {
		return o.runEngine(ctx, a, c, stack)
	}
	switch {
	case len(o.scenarios) > 0:
		return nil, usageErrorf("--scenarios needs --engine")
	case o.from != "" && o.from != rehearse.FromTerraform:
		return nil, usageErrorf("--from %q is not known (allowed: %s)", o.from, rehearse.FromTerraform)
	case o.brk != "" && o.from == rehearse.FromTerraform:
		if _, err := rehearse.FindAdoptionDefect(o.brk); err != nil {
			return nil, usageErrorf("--break: %v", err)
		}
	case o.brk != "":
		if _, err := rehearse.FindDefect(o.brk); err != nil {
			return nil, usageErrorf("--break: %v", err)
		}
	}
	cfg, _, err := stackOf(c, stack)
	if err != nil {
		return nil, err
	}
	progress := slog.New(slog.NewTextHandler(a.io.err, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if o.out.json {
		progress = slog.New(slog.DiscardHandler)
	}
	res, err := rehearse.Run(ctx, cfg, rehearse.Options{Break: o.brk, Logger: progress, From: o.from})
	if err != nil {
		return nil, &engineError{err: err}
	}
	return res.Report, nil
}

// runEngine is rehearse --engine: rehearse.Engine on the stack's project.
// A missing pulumi CLI is a report whose one check names `make tools`
// (exit 3).
func (o *rehearseOptions) runEngine(ctx context.Context, a *app, c *cobra.Command, stack string) (*report.Report, error) {
	if o.brk != "" || o.from != "" {
		return nil, usageErrorf("--engine takes neither --break nor --from")
	}
	for _, s := range o.scenarios {
		if !slices.Contains(rehearse.EngineScenarios, s) {
			return nil, usageErrorf("--scenarios: no engine scenario %q (known: %s)", s, strings.Join(rehearse.EngineScenarios, ", "))
		}
	}
	_, dir, err := stackOf(c, stack)
	if err != nil {
		return nil, err
	}
	logger := slog.New(slog.NewTextHandler(a.io.err, &slog.HandlerOptions{Level: slog.LevelInfo}))
	var progress io.Writer = progressTo(a.io.err)
	if o.out.json {
		logger, progress = slog.New(slog.DiscardHandler), nil
	}
	rep, err := rehearse.Engine(ctx, rehearse.EngineOptions{Stack: stack, ProjectDir: dir, CLIPath: a.env.get("PULUMI_CLI_PATH"),
		Scenarios: o.scenarios, Logger: logger, Progress: progress})
	if err != nil {
		r := &report.Report{Command: "rehearse --engine", Stack: stack, Started: time.Now()}
		r.Add(driver.ErrorCheck("engine", err))
		return r, nil
	}
	return rep, nil
}
