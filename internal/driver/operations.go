package driver

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optrefresh"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"

	"github.com/mirror-dissonance/mirror-infra/internal/gate"
	"github.com/mirror-dissonance/mirror-infra/report"
)

// EngineError is a failed CLI operation with the engine's error diagnostics.
type EngineError struct {
	Op          string
	Diagnostics []string
	Err         error
}

func (e *EngineError) Error() string {
	msg := fmt.Sprintf("pulumi %s failed", e.Op)
	if len(e.Diagnostics) > 0 {
		return msg + ": " + strings.Join(e.Diagnostics, "; ")
	}
	return msg + ": " + engineMessage(e.Err.Error())
}

func (e *EngineError) Unwrap() error { return e.Err }

// ErrCancelled: the operation was interrupted (Ctrl-C or a deadline).
var ErrCancelled = errors.New("cancelled")

func opError(ctx context.Context, op string, err error, c *collector) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		// The CLI got one interrupt and stopped after the operations in
		// flight; its own complaints (unfinished plan) are consequences.
		return fmt.Errorf("pulumi %s %w (%v): the CLI finished the operations in flight, saved the state and released the lock; run again to continue", op, ErrCancelled, ctx.Err())
	}
	if cl := classify(err); cl != err {
		return cl
	}
	var diags []string
	if c != nil {
		diags = c.Errors()
	}
	if cl := classify(errors.New(strings.Join(diags, "\n"))); len(diags) > 0 && cl.Error() != strings.Join(diags, "\n") {
		return cl
	}
	return &EngineError{Op: op, Diagnostics: diags, Err: err}
}

// Preview is a saved update plan and what it would do.
type Preview struct {
	Stack       string `json:"stack"`
	PlanPath    string `json:"planPath"`
	Fingerprint string `json:"fingerprint"`
	// Counts are the engine's per-operation resource counts.
	Counts map[string]int `json:"counts"`
	// Changes are the resources the plan changes (op other than same).
	Changes []Change `json:"changes"`
	// Resources are all planned resources with their inputs, for the gate.
	Resources []gate.Resource `json:"-"`
	// SummaryJSON and SummaryMarkdown are the written summary files.
	SummaryJSON     string `json:"-"`
	SummaryMarkdown string `json:"-"`
}

// Change is one changed resource in a summary.
type Change struct {
	Op    gate.Op  `json:"op"`
	Type  string   `json:"type"`
	Name  string   `json:"name"`
	URN   string   `json:"urn"`
	Diffs []string `json:"diffs,omitempty"`
}

// HasChanges reports whether applying the plan would change anything.
func (p *Preview) HasChanges() bool { return len(p.Changes) > 0 }

func changesOf(rs []gate.Resource) []Change {
	var out []Change
	for _, r := range rs {
		if r.Op == gate.OpSame || r.Op == gate.OpRead {
			continue
		}
		out = append(out, Change{Op: r.Op, Type: r.Type, Name: r.Name, URN: r.URN, Diffs: r.Diffs})
	}
	return out
}

// PlanPath is where the stack's saved plan goes.
func (d *Driver) PlanPath() string { return filepath.Join(d.s.OutDir, d.s.Stack+".plan.json") }

// Preview runs `pulumi preview --refresh --save-plan`, renders progress,
// collects the planned resources, fingerprints the plan and writes the
// summaries. The refresh makes the plan diff the program against what is
// really there, so it reverts changes made outside Pulumi (without it a
// preview diffs against the recorded state and plans nothing for them:
// found by the engine rehearsal's engine:drift). CLI v3.274.1 combines
// refresh and saved plans in preview and up.
func (d *Driver) Preview(ctx context.Context) (*Preview, error) {
	if err := os.MkdirAll(d.s.OutDir, 0o755); err != nil {
		return nil, fmt.Errorf("creating %s: %w", d.s.OutDir, err)
	}
	plan := d.PlanPath()
	// A stale plan must never be mistaken for this preview's.
	if err := os.Remove(plan); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("removing the old plan %s: %w", plan, err)
	}
	c := newCollector(ctx, d.s.Progress, "preview of "+d.s.Stack, false)
	_, err := d.stack.Preview(ctx, optpreview.Plan(plan), optpreview.Refresh(), optpreview.EventStreams(c.ch))
	c.finish(err)
	if err != nil {
		err = opError(ctx, "preview", err, c)
		var pe *ProtectedReplaceError
		if errors.As(err, &pe) {
			pe.withPlan(c.Resources(), c.ReplaceKeys())
		}
		return nil, err
	}
	fp, err := FingerprintFile(plan)
	if err != nil {
		return nil, err
	}
	rs := c.Resources()
	p := &Preview{
		Stack:       d.s.Stack,
		PlanPath:    plan,
		Fingerprint: fp,
		Counts:      c.summary,
		Changes:     changesOf(rs),
		Resources:   rs,
	}
	if err := p.writeSummaries(d.s.OutDir); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *Preview) writeSummaries(dir string) error {
	p.SummaryJSON = filepath.Join(dir, p.Stack+".summary.json")
	p.SummaryMarkdown = filepath.Join(dir, p.Stack+".summary.md")
	js, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding the change summary: %w", err)
	}
	if err := os.WriteFile(p.SummaryJSON, append(js, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", p.SummaryJSON, err)
	}
	if err := os.WriteFile(p.SummaryMarkdown, []byte(p.Markdown()), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", p.SummaryMarkdown, err)
	}
	return nil
}

// Text is the human change summary.
func (p *Preview) Text() string {
	var b strings.Builder
	// Types, names and property paths come from the engine: control
	// characters in them are shown, never sent to the terminal.
	fmt.Fprintf(&b, "Plan for stack %s: %s\n", report.Terminal(p.Stack), countsLine(p.Counts))
	for _, c := range p.Changes {
		fmt.Fprintf(&b, "  %s %-8s %s %s", opSymbol(c.Op), report.Terminal(string(c.Op)), report.Terminal(c.Type), report.Terminal(c.Name))
		if len(c.Diffs) > 0 {
			fmt.Fprintf(&b, " (%s)", report.Terminal(strings.Join(c.Diffs, ", ")))
		}
		b.WriteByte('\n')
	}
	if len(p.Changes) == 0 {
		b.WriteString("  no changes\n")
	}
	fmt.Fprintf(&b, "Plan file:   %s\nFingerprint: %s\n", p.PlanPath, p.Fingerprint)
	return b.String()
}

// Markdown is the change summary for a PR comment.
func (p *Preview) Markdown() string {
	var b strings.Builder
	// Every value from the engine is escaped for GitHub's Markdown (a name
	// may hold HTML, pipes, backticks or @mentions).
	fmt.Fprintf(&b, "### Pulumi plan for %s\n\n%s\n\n", report.Markdown(p.Stack), report.Markdown(countsLine(p.Counts)))
	if len(p.Changes) == 0 {
		b.WriteString("No changes.\n\n")
	} else {
		b.WriteString("| op | type | name | changed properties |\n|---|---|---|---|\n")
		for _, c := range p.Changes {
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", report.Markdown(string(c.Op)), report.Markdown(c.Type), report.Markdown(c.Name), report.Markdown(strings.Join(c.Diffs, ", ")))
		}
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "Approve exactly this plan with `--approve %s`.\n", p.Fingerprint)
	return b.String()
}

func countsLine(counts map[string]int) string {
	if len(counts) == 0 {
		return "no resources"
	}
	ops := make([]string, 0, len(counts))
	for op := range counts {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	parts := make([]string, 0, len(ops))
	for _, op := range ops {
		parts = append(parts, fmt.Sprintf("%d %s", counts[op], op))
	}
	return strings.Join(parts, ", ")
}

// Applied is the result of an up.
type Applied struct {
	Resources []gate.Resource
	Outputs   map[string]any
	Counts    map[string]int
}

// Up applies exactly the saved plan at planPath, after checking that the
// file is the one whose fingerprint was approved. It refreshes first, as
// the preview did, so the plan's reverts of out-of-band changes apply; the
// CLI itself refuses when the program's changes (or what is really there)
// no longer match the plan (ErrPlanMismatch).
func (d *Driver) Up(ctx context.Context, planPath, approved string) (*Applied, error) {
	fp, err := FingerprintFile(planPath)
	if err != nil {
		return nil, err
	}
	if !SameFingerprint(fp, approved) {
		return nil, fmt.Errorf("%w: the plan %s has fingerprint %s, the approval names %q; preview again and approve the new fingerprint",
			ErrFingerprint, planPath, fp, approved)
	}
	c := newCollector(ctx, d.s.Progress, "up of "+d.s.Stack, true)
	res, err := d.stack.Up(ctx, optup.Plan(planPath), optup.Refresh(), optup.EventStreams(c.ch))
	c.finish(err)
	if err != nil {
		return nil, opError(ctx, "up", err, c)
	}
	out := &Applied{Resources: c.Resources(), Outputs: map[string]any{}, Counts: c.summary}
	for k, v := range res.Outputs {
		out.Outputs[k] = v.Value
	}
	return out, nil
}

// Drifted is one resource whose real state differs from the recorded one.
type Drifted struct {
	URN  string `json:"urn"`
	Type string `json:"type"`
	Name string `json:"name"`
	// Gone is true when the resource no longer exists.
	Gone bool `json:"gone,omitempty"`
	// Changed lists the output properties that differ.
	Changed []string `json:"changed,omitempty"`
}

// Drift runs a refresh in preview mode and reports every resource whose
// real state differs from the state Pulumi recorded.
func (d *Driver) Drift(ctx context.Context) ([]Drifted, error) {
	c := newCollector(ctx, d.s.Progress, "refresh of "+d.s.Stack, false)
	c.keepRefresh = true
	_, err := d.stack.PreviewRefresh(ctx, optrefresh.EventStreams(c.ch))
	c.finish(err)
	if err != nil {
		return nil, opError(ctx, "refresh --preview-only", err, c)
	}
	return driftOf(c.refreshes), nil
}

// driftOf decides drift from refresh step events: a resource drifted when
// the refresh would delete it (gone outside Pulumi), or its refreshed
// outputs differ from the recorded ones.
func driftOf(steps []apitype.StepEventMetadata) []Drifted {
	var out []Drifted
	for _, m := range steps {
		if m.Old == nil || !m.Old.Custom {
			continue // components and the stack have nothing to refresh
		}
		d := Drifted{URN: m.URN, Type: m.Type, Name: urnName(m.URN)}
		switch {
		case m.New == nil || m.Op == apitype.OpDelete:
			d.Gone = true
		default:
			d.Changed = changedKeys(m.Old.Outputs, m.New.Outputs)
			for p := range m.DetailedDiff {
				if !contains(d.Changed, p) {
					d.Changed = append(d.Changed, p)
				}
			}
			sort.Strings(d.Changed)
			if len(d.Changed) == 0 {
				continue
			}
		}
		out = append(out, d)
	}
	return out
}

func changedKeys(old, new map[string]any) []string {
	var out []string
	for k, v := range old {
		if nv, ok := new[k]; !ok || !reflect.DeepEqual(v, nv) {
			out = append(out, k)
		}
	}
	for k := range new {
		if _, ok := old[k]; !ok {
			out = append(out, k)
		}
	}
	return out
}

// StateResource is one resource recorded in the stack's state.
type StateResource struct {
	URN     string `json:"urn"`
	Type    string `json:"type"`
	Custom  bool   `json:"custom"`
	Protect bool   `json:"protect"`
}

// State lists the resources recorded in the stack's state.
func (d *Driver) State(ctx context.Context) ([]StateResource, error) {
	dep, err := d.stack.Export(ctx)
	if err != nil {
		return nil, fmt.Errorf("exporting the state of %s: %w", d.s.Stack, classify(err))
	}
	var doc struct {
		Resources []StateResource `json:"resources"`
	}
	if len(dep.Deployment) > 0 {
		if err := json.Unmarshal(dep.Deployment, &doc); err != nil {
			return nil, fmt.Errorf("decoding the state of %s: %w", d.s.Stack, err)
		}
	}
	return doc.Resources, nil
}

// DestroyPlan is what a destroy would delete.
type DestroyPlan struct {
	Stack string
	// Resources are the URNs to delete, sorted.
	Resources []StateResource
	// Protected are the protected ones among them.
	Protected []StateResource
	// Fingerprint covers the stack and the sorted URNs.
	Fingerprint string
}

// PlanDestroy lists what a destroy would delete and fingerprints the list,
// so a destroy is approved like an update.
func (d *Driver) PlanDestroy(ctx context.Context) (*DestroyPlan, error) {
	rs, err := d.State(ctx)
	if err != nil {
		return nil, err
	}
	p := &DestroyPlan{Stack: d.s.Stack}
	for _, r := range rs {
		if strings.HasPrefix(r.Type, "pulumi:pulumi:Stack") {
			continue
		}
		p.Resources = append(p.Resources, r)
	}
	sort.Slice(p.Resources, func(i, j int) bool { return p.Resources[i].URN < p.Resources[j].URN })
	h := sha256.New()
	fmt.Fprintf(h, "destroy\n%s\n", d.s.Stack)
	for _, r := range p.Resources {
		fmt.Fprintf(h, "%s\n", r.URN)
		if r.Protect {
			p.Protected = append(p.Protected, r)
		}
	}
	p.Fingerprint = FingerprintPrefix + hex.EncodeToString(h.Sum(nil))
	return p, nil
}

// Destroy deletes every resource of the stack. It refuses (ErrProtected)
// while a protected resource is not named in allow (by logical name or
// URN); named ones are unprotected in the state first. approved must be
// the fingerprint of the current DestroyPlan.
func (d *Driver) Destroy(ctx context.Context, allow []string, approved string) error {
	p, err := d.PlanDestroy(ctx)
	if err != nil {
		return err
	}
	if !SameFingerprint(p.Fingerprint, approved) {
		return fmt.Errorf("%w: the destroy plan of %s has fingerprint %s, the approval names %q", ErrFingerprint, d.s.Stack, p.Fingerprint, approved)
	}
	var refused, unprotect []string
	for _, r := range p.Protected {
		if contains(allow, r.URN) || contains(allow, urnName(r.URN)) {
			unprotect = append(unprotect, r.URN)
		} else {
			refused = append(refused, urnName(r.URN))
		}
	}
	if len(refused) > 0 {
		return fmt.Errorf("%w: %s; name each one with --allow-destroy to destroy it", ErrProtected, strings.Join(refused, ", "))
	}
	if len(unprotect) > 0 {
		if err := d.unprotect(ctx, unprotect); err != nil {
			return err
		}
	}
	c := newCollector(ctx, d.s.Progress, "destroy of "+d.s.Stack, true)
	_, err = d.stack.Destroy(ctx, optdestroy.EventStreams(c.ch))
	c.finish(err)
	return opError(ctx, "destroy", err, c)
}

// unprotect clears the protect flag of urns in the state (what
// `pulumi state unprotect` does), the operator having named each one.
func (d *Driver) unprotect(ctx context.Context, urns []string) error {
	dep, err := d.stack.Export(ctx)
	if err != nil {
		return fmt.Errorf("exporting the state of %s: %w", d.s.Stack, classify(err))
	}
	var doc map[string]any
	if err := json.Unmarshal(dep.Deployment, &doc); err != nil {
		return fmt.Errorf("decoding the state of %s: %w", d.s.Stack, err)
	}
	rs, _ := doc["resources"].([]any)
	for _, r := range rs {
		if m, ok := r.(map[string]any); ok {
			if u, _ := m["urn"].(string); contains(urns, u) {
				m["protect"] = false
			}
		}
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		return fmt.Errorf("encoding the state of %s: %w", d.s.Stack, err)
	}
	dep.Deployment = raw
	if err := d.stack.Import(ctx, dep); err != nil {
		return fmt.Errorf("importing the unprotected state of %s: %w", d.s.Stack, classify(err))
	}
	return nil
}

// PendingOperation is an operation the state records as started and never
// finished (the CLI was killed while it ran).
type PendingOperation struct {
	URN  string `json:"urn"`
	Type string `json:"type"` // creating, updating, deleting, reading
}

// PendingOperations lists the state's pending operations.
func (d *Driver) PendingOperations(ctx context.Context) ([]PendingOperation, error) {
	dep, err := d.stack.Export(ctx)
	if err != nil {
		return nil, fmt.Errorf("exporting the state of %s: %w", d.s.Stack, classify(err))
	}
	var doc struct {
		Pending []struct {
			Resource struct {
				URN string `json:"urn"`
			} `json:"resource"`
			Type string `json:"type"`
		} `json:"pending_operations"`
	}
	if len(dep.Deployment) > 0 {
		if err := json.Unmarshal(dep.Deployment, &doc); err != nil {
			return nil, fmt.Errorf("decoding the state of %s: %w", d.s.Stack, err)
		}
	}
	out := make([]PendingOperation, 0, len(doc.Pending))
	for _, p := range doc.Pending {
		out = append(out, PendingOperation{URN: p.Resource.URN, Type: p.Type})
	}
	return out, nil
}
