// Package gate holds the deploy gate rules of SPEC section 5 over planned
// resources. The same rules run in the stack's unit tests (Pulumi mocks),
// in the offline `check` command and on the real preview's engine events
// before `up`. Each rule is one Rule value, declared with its id,
// description and check in the file of its family; Checks is the one
// conversion of findings into report checks.
package gate

import (
	"fmt"
	"sort"
	"strings"

	"github.com/mirror-dissonance/mirror-infra/spec"
)

// Op is what the plan does to a resource.
type Op string

const (
	OpCreate  Op = "create"
	OpUpdate  Op = "update"
	OpReplace Op = "replace"
	OpDelete  Op = "delete"
	OpSame    Op = "same"
	OpRead    Op = "read"
)

// Resource is one planned resource: its Pulumi type token (for example
// "aws:dynamodb/table:Table"), logical name, operation and planned inputs
// in Pulumi's property names (camelCase, as engine events and mocks give
// them). Inputs of a delete are the old inputs.
type Resource struct {
	URN     string         `json:"urn"`
	Type    string         `json:"type"`
	Name    string         `json:"name"`
	Op      Op             `json:"op"`
	Inputs  map[string]any `json:"inputs,omitempty"`
	Protect bool           `json:"protect,omitempty"`
	// Diffs are the changed property paths of an update or replace.
	Diffs []string `json:"diffs,omitempty"`
}

// Options are the facts the rules need beyond the plan.
type Options struct {
	// Environment is the stack's environment (production is stricter).
	Environment string
	// Stack is the stack's name; Ephemeral is its ephemeral flag, allowed
	// only on acc-<run> stacks, which then must carry no protect.
	Stack     string
	Ephemeral bool
	// DeletionProtection is the configured table deletion protection.
	DeletionProtection bool
	// AllowStateful names the stateful resources (logical name or URN) the
	// operator allows to be deleted or replaced.
	AllowStateful []string
	// MinResources and MaxResources bound the AWS resource count; zero
	// means DefaultMinResources and DefaultMaxResources.
	MinResources, MaxResources int
}

// Finding is one violated rule.
type Finding struct {
	Rule     string `json:"rule"`
	Resource string `json:"resource,omitempty"`
	Message  string `json:"message"`
	// Unverified marks a value the rule could not read because it is not
	// known until apply (or is a secret the preview does not show): it is
	// reported as a WARN and does not fail the gate; the verifier checks
	// the result after up.
	Unverified bool `json:"unverified,omitempty"`
	// Note marks what a passing rule saw (the resource count): it neither
	// fails nor warns, and the rule's PASS states it.
	Note bool `json:"note,omitempty"`
}

// Rule is one gate rule.
type Rule struct {
	// ID is stable for reports ("gate:<id>"), tests and docs.
	ID string
	// Description says what the rule protects: the PASS reason, and what a
	// fix must restore.
	Description string
	// Fix, when set, replaces the default fix ("change the program or
	// Pulumi.<stack>.yaml so that <description>").
	Fix string
	// AfterImport marks a rule that judges the preview after an import
	// (Adoption) rather than every plan (Evaluate).
	AfterImport bool
	// Check records the rule's findings on a plan.
	Check func(p *Plan)
}

// registry holds every rule. Each rule file adds its rules from init, the
// way image formats register; nothing changes it after package
// initialisation, and Rules hands out a copy.
var registry = map[string]Rule{}

func register(rules ...Rule) {
	for _, r := range rules {
		if _, dup := registry[r.ID]; dup || r.ID == "" || r.Check == nil || r.Description == "" {
			panic(fmt.Sprintf("gate: rule %q registered twice or without a description or check", r.ID))
		}
		registry[r.ID] = r
	}
}

// Rules lists every rule, sorted by id, for help, docs and tests.
func Rules() []Rule {
	out := make([]Rule, 0, len(registry))
	for _, r := range registry {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// planRules are the ids of the rules Evaluate runs.
func planRules() []string {
	var ids []string
	for _, r := range Rules() {
		if !r.AfterImport {
			ids = append(ids, r.ID)
		}
	}
	return ids
}

// Failed reports whether any finding fails the gate (unverifiable values
// are reported but do not fail it).
func Failed(fs []Finding) bool {
	for _, f := range fs {
		if !f.Unverified && !f.Note {
			return true
		}
	}
	return false
}

// Evaluate applies every plan rule to the planned resources.
func Evaluate(res []Resource, opts Options) []Finding {
	return run(newPlan(res, opts, nil), planRules())
}

// Adoption applies the adoption rule to the preview that follows an
// import; imported are the logical names of the resources it imported.
func Adoption(res []Resource, imported []string) []Finding {
	return run(newPlan(res, Options{}, imported), []string{RuleAdoption})
}

func run(p *Plan, ids []string) []Finding {
	for _, id := range ids {
		p.rule = id
		registry[id].Check(p)
	}
	sort.SliceStable(p.out, func(i, j int) bool { return p.out[i].Rule < p.out[j].Rule })
	return p.out
}

// Plan is what a rule's check reads (the planned resources, the options,
// the environment's names) and where it records findings.
type Plan struct {
	// All are every planned resource, deletes included; Kept are those the
	// plan keeps (neither deleted nor only read).
	All, Kept []Resource
	Opts      Options
	Names     spec.Names
	// Imported are the logical names an adoption imported.
	Imported map[string]bool

	rule string
	out  []Finding
	seen map[string]bool // unverified findings already recorded
}

func newPlan(res []Resource, opts Options, imported []string) *Plan {
	if opts.MinResources == 0 {
		opts.MinResources = DefaultMinResources
	}
	if opts.MaxResources == 0 {
		opts.MaxResources = DefaultMaxResources
	}
	p := &Plan{All: res, Opts: opts, Names: spec.For(opts.Environment), Imported: map[string]bool{}, seen: map[string]bool{}}
	for _, n := range imported {
		p.Imported[n] = true
	}
	for _, r := range res {
		if r.Op != OpDelete && r.Op != OpRead {
			p.Kept = append(p.Kept, r)
		}
	}
	return p
}

// Of returns the kept resources of a type.
func (p *Plan) Of(typ string) []Resource {
	var out []Resource
	for _, r := range p.Kept {
		if r.Type == typ {
			out = append(out, r)
		}
	}
	return out
}

// Fail records a violation of the running rule by r (a zero Resource for
// the plan as a whole).
func (p *Plan) Fail(r Resource, format string, a ...any) {
	p.out = append(p.out, Finding{Rule: p.rule, Resource: label(r), Message: fmt.Sprintf(format, a...)})
}

// Note records what the running rule saw when it passed.
func (p *Plan) Note(format string, a ...any) {
	p.out = append(p.out, Finding{Rule: p.rule, Note: true, Message: fmt.Sprintf(format, a...)})
}

// Unverified records that the running rule could not read r's value at
// path, for the reason given (unknown until apply, or a hidden secret).
func (p *Plan) Unverified(r Resource, path string, why unreadable) {
	key := p.rule + "\x00" + label(r) + "\x00" + path
	if p.seen[key] {
		return
	}
	p.seen[key] = true
	p.out = append(p.out, Finding{Rule: p.rule, Resource: label(r), Unverified: true, Message: why.message(path)})
}

func label(r Resource) string {
	if r.Name == "" {
		return ""
	}
	return r.Name + " (" + r.Type + ")"
}

// inputIs reports whether r's input at key is known and equal to want.
func inputIs(r Resource, key, want string) bool {
	v, st := read(r.Inputs, key)
	s, _ := v.(string)
	return st == known && s == want
}

// Input returns the planned input at a dotted path
// ("pointInTimeRecovery.enabled"), nil when any part is missing; it does
// not look through unknown values or secrets.
func Input(inputs map[string]any, path string) any {
	var cur any = inputs
	for _, part := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		if cur, ok = m[part]; !ok {
			return nil
		}
	}
	return cur
}
