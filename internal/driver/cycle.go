package driver

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/mirror-dissonance/mirror-infra/internal/gate"
	"github.com/mirror-dissonance/mirror-infra/report"
)

// Hook is a step after a successful up (nonce bootstrap, verifier, E2E).
// It gets the new stack outputs and returns its checks; a hook never
// stops the hooks after it.
type Hook func(ctx context.Context, outputs map[string]any) []report.Check

// GateFunc evaluates the gate rules on planned resources (gate.Evaluate).
type GateFunc func(resources []gate.Resource, opts gate.Options) []gate.Finding

// Approval is how the operator approves a plan.
type Approval struct {
	// Production plans need Fingerprint; Yes is not enough.
	Production bool
	// Yes approves without asking (non-production only).
	Yes bool
	// Fingerprint approves exactly the plan with this fingerprint.
	Fingerprint string
	// Interactive shows the summary and asks on In.
	Interactive bool
	In          io.Reader
	Out         io.Writer
}

// Decide says whether the plan with fingerprint fp may be applied. The
// check is the "approval" step of the report: PASS to apply, FAIL when a
// given fingerprint does not match (exit 1), SKIP when the run stops after
// the preview awaiting approval (exit 0, nothing applied).
func (a Approval) Decide(stack, fp string) (bool, report.Check) {
	c := report.Check{ID: "approval", Details: map[string]string{"fingerprint": fp}}
	switch {
	case a.Fingerprint != "" && SameFingerprint(a.Fingerprint, fp):
		c.Status, c.Reason = report.Pass, "the approved fingerprint matches the saved plan"
		return true, c
	case a.Fingerprint != "":
		c.Status = report.Fail
		c.Reason = fmt.Sprintf("refused: --approve %s does not match the saved plan's fingerprint %s (the plan changed since it was reviewed)", a.Fingerprint, fp)
		c.Fix = "review the new summary and approve its fingerprint"
		return false, c
	case a.Production:
		c.Status = report.Skip
		c.Reason = "not applied: production always needs --approve <fingerprint> (--yes or an interactive answer is not enough)"
		c.Fix = fmt.Sprintf("after review: --approve %s", fp)
		return false, c
	case a.Yes:
		c.Status, c.Reason = report.Pass, "approved with --yes"
		return true, c
	case a.Interactive && a.In != nil:
		if a.Out != nil {
			fmt.Fprintf(a.Out, "Apply this plan to %s? Type \"yes\" to apply: ", stack)
		}
		line, _ := bufio.NewReader(a.In).ReadString('\n')
		if strings.TrimSpace(strings.ToLower(line)) == "yes" {
			c.Status, c.Reason = report.Pass, "approved interactively"
			return true, c
		}
		c.Status, c.Reason = report.Skip, "not applied: declined at the prompt"
		return false, c
	default:
		c.Status = report.Skip
		c.Reason = "not applied: stopped after the preview, awaiting approval"
		c.Fix = fmt.Sprintf("after review: --approve %s (or --yes outside production)", fp)
		return false, c
	}
}

// CycleOptions configure Deploy.
type CycleOptions struct {
	Gate        GateFunc
	GateOptions gate.Options
	Approval    Approval
	// PostUp run in order after a successful up (or when there was
	// nothing to apply) against the stack outputs.
	PostUp []Hook
	// Summary receives the human change summary (stderr in the CLI).
	Summary io.Writer
}

// Deploy is the whole cycle: preview with a saved plan, gate, approval, up
// with exactly that plan, then the post-up hooks. It never returns an
// error: every outcome is a check in r, whose ExitCode is SPEC 3.1's.
func (d *Driver) Deploy(ctx context.Context, o CycleOptions, r *report.Report) {
	p, ok := d.PreviewAndGate(ctx, o.Gate, o.GateOptions, o.Summary, r)
	if !ok {
		return
	}
	if !p.HasChanges() {
		r.Add(report.Check{ID: "up", Status: report.Skip, Reason: "the plan has no changes; nothing to apply"})
		d.runHooks(ctx, o.PostUp, r)
		return
	}
	approved, c := o.Approval.Decide(d.s.Stack, p.Fingerprint)
	r.Add(c)
	if !approved {
		return
	}
	start := time.Now()
	applied, err := d.Up(ctx, p.PlanPath, p.Fingerprint)
	if err != nil {
		r.Add(ErrorCheck("up", err))
		return
	}
	r.Add(report.Check{ID: "up", Status: report.Pass, Duration: time.Since(start),
		Reason:  fmt.Sprintf("applied exactly the approved plan: %s", countsLine(applied.Counts)),
		Details: map[string]string{"fingerprint": p.Fingerprint}})
	d.runHooksWith(ctx, o.PostUp, applied.Outputs, r)
}

// PreviewAndGate previews, writes the summary to w, and evaluates the gate.
// ok is false when the preview failed or the gate refused the plan.
func (d *Driver) PreviewAndGate(ctx context.Context, g GateFunc, gopts gate.Options, w io.Writer, r *report.Report) (*Preview, bool) {
	start := time.Now()
	p, err := d.Preview(ctx)
	if err != nil {
		r.Add(ErrorCheck("preview", err))
		return nil, false
	}
	if w != nil {
		fmt.Fprint(w, p.Text())
	}
	for _, res := range p.Resources {
		r.Resources = append(r.Resources, res)
	}
	r.Add(report.Check{ID: "preview", Status: report.Pass, Duration: time.Since(start),
		Reason: fmt.Sprintf("plan saved: %s", countsLine(p.Counts)),
		Details: map[string]string{
			"fingerprint": p.Fingerprint,
			"plan":        p.PlanPath,
			"summary":     p.SummaryJSON,
			"markdown":    p.SummaryMarkdown,
		}})
	if g == nil {
		r.Add(report.Check{ID: "gate", Status: report.Fail, Reason: "no gate rules were given; refusing to apply an unchecked plan"})
		return p, false
	}
	findings := g(p.Resources, gopts)
	r.Add(gate.Checks(findings)...)
	failed := gate.Failed(findings)
	if !d.runPreFlight(ctx, p, r) {
		failed = true
	}
	return p, !failed
}

func (d *Driver) runHooks(ctx context.Context, hooks []Hook, r *report.Report) {
	if len(hooks) == 0 {
		return
	}
	outs, err := d.Outputs(ctx)
	if err != nil {
		r.Add(ErrorCheck("outputs", err))
		return
	}
	d.runHooksWith(ctx, hooks, outs, r)
}

func (d *Driver) runHooksWith(ctx context.Context, hooks []Hook, outs map[string]any, r *report.Report) {
	for _, h := range hooks {
		r.Add(h(ctx, outs)...)
	}
}

// ErrorCheck turns a driver error into a failed check: refusals (plan or
// fingerprint mismatch, protected resources) are exit 1, everything else
// (CLI or plugin missing, locked stack, engine failure) exit 3.
func ErrorCheck(id string, err error) report.Check {
	c := report.Check{ID: id, Status: report.Fail, Reason: err.Error()}
	var pm *PluginMissingError
	switch {
	case errors.Is(err, ErrPlanMismatch), errors.Is(err, ErrFingerprint), errors.Is(err, ErrProtected), errors.Is(err, ErrProtectedReplace):
		c.Fix = "preview again, review, and approve the new plan"
		switch {
		case errors.Is(err, ErrProtected):
			c.Fix = "name each protected resource to destroy with --allow-destroy"
		case errors.Is(err, ErrProtectedReplace):
			c.Fix = "change the program so the resource is updated in place (revert the property that forces a new resource, or add an alias for a rename); replacing a stateful resource deletes its data"
		}
	case errors.As(err, &pm):
		c.Infra = true
		c.Fix = pm.Plugin.InstallCommand()
	case errors.Is(err, ErrCLIMissing):
		c.Infra = true
		c.Fix = "run `make tools` (builds ./bin/pulumi) or set PULUMI_CLI_PATH"
	case errors.Is(err, ErrCancelled):
		c.Infra = true
		c.Fix = "run the same command again; it continues from the saved state"
	case errors.Is(err, ErrLocked):
		c.Infra = true
		c.Fix = "wait for the other update to finish and run again; if it was killed and none is running, `go run ./automation unlock <stack>` shows the lock and removes it with --yes"
	default:
		c.Infra = true
	}
	return c
}
