package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

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

Flags:
  --break DEFECT   inject one realistic defect and watch the gate and the
                   verifier catch it (the run then exits 1 on purpose)
  --from SOURCE    SOURCE terraform: start from the environment the original Terraform modules
                   made (their names, settings and known defects, items in
                   the tables): pre-flight, adopt (discover, plan, import
                   with the program's parents, adoption gate rule), the
                   in-place fixes, verify, E2E, then the proof that every
                   item written before is still there and no table was
                   recreated (creation time unchanged)
  --json, --markdown FILE, --project-dir DIR

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

var rehearseDetail = rehearseDetailText()

func runRehearse(ctx context.Context, io stdio, args []string) int {
	var o options
	var brk string
	fs := newFlagSet("rehearse", io)
	addCommon(fs, &o, false, false)
	var from string
	fs.StringVar(&brk, "break", "", "inject one defect (see `help rehearse`)")
	fs.StringVar(&from, "from", "", "start from an existing environment: terraform (see `help rehearse`)")
	stack, code, ok := oneStack(io, fs, "rehearse", args)
	if !ok {
		return code
	}
	switch {
	case from != "" && from != rehearse.FromTerraform:
		return usageErrorf(io, "rehearse", "--from %q is not known (allowed: %s)", from, rehearse.FromTerraform)
	case brk != "" && from == rehearse.FromTerraform:
		if _, err := rehearse.FindAdoptionDefect(brk); err != nil {
			return usageErrorf(io, "rehearse", "--break: %v", err)
		}
	case brk != "":
		if _, err := rehearse.FindDefect(brk); err != nil {
			return usageErrorf(io, "rehearse", "--break: %v", err)
		}
	}
	cfg, _, code, ok := loadStackConfig(io, "rehearse", o, stack)
	if !ok {
		return code
	}
	progress := slog.New(slog.NewTextHandler(io.err, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if o.json {
		progress = slog.New(slog.DiscardHandler)
	}
	res, err := rehearse.Run(ctx, cfg, rehearse.Options{Break: brk, Logger: progress, From: from})
	if err != nil {
		fmt.Fprintf(io.err, "automation rehearse: %v\n", err)
		return report.ExitEngine
	}
	return emit(io, o, res.Report)
}
