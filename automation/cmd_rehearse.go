package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/spf13/cobra"

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
	brk  string
	from string
}

var rehearseSpec = commandSpec{use: "rehearse <stack>", short: "the whole cycle offline against an in-process AWS emulator", long: rehearseDetailText(),
	timeout: 15 * time.Minute, bounds: "the whole rehearsal"}

func (o *rehearseOptions) flags(c *cobra.Command, env environ) {
	c.Flags().StringVar(&o.brk, "break", "", "inject one `DEFECT` (listed above)")
	c.Flags().StringVar(&o.from, "from", "", "start from an existing environment: `SOURCE` terraform")
	_ = c.RegisterFlagCompletionFunc("break", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		var names []string
		for _, d := range rehearse.Defects() {
			names = append(names, d.Name)
		}
		return names, cobra.ShellCompDirectiveNoFileComp
	})
}

func (o *rehearseOptions) run(ctx context.Context, a *app, c *cobra.Command, stack string) (*report.Report, error) {
	switch {
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
