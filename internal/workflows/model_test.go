package workflows

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/mirror-dissonance/mirror-infra/spec"
)

// The subset of the GitHub Actions workflow syntax the rules look at.
type workflow struct {
	Name        string            `yaml:"name"`
	On          yaml.Node         `yaml:"on"`
	Permissions yaml.Node         `yaml:"permissions"`
	Concurrency yaml.Node         `yaml:"concurrency"`
	Env         map[string]string `yaml:"env"`
	Jobs        map[string]*job   `yaml:"jobs"`
}

type job struct {
	Name           string            `yaml:"name"`
	If             string            `yaml:"if"`
	Permissions    yaml.Node         `yaml:"permissions"`
	Environment    yaml.Node         `yaml:"environment"`
	Concurrency    yaml.Node         `yaml:"concurrency"`
	TimeoutMinutes int               `yaml:"timeout-minutes"`
	Needs          yaml.Node         `yaml:"needs"`
	Env            map[string]string `yaml:"env"`
	Strategy       struct {
		Matrix yaml.Node `yaml:"matrix"`
	} `yaml:"strategy"`
	Uses  string `yaml:"uses"`
	Steps []step `yaml:"steps"`
}

type step struct {
	Name string            `yaml:"name"`
	ID   string            `yaml:"id"`
	If   string            `yaml:"if"`
	Uses string            `yaml:"uses"`
	Run  string            `yaml:"run"`
	With map[string]string `yaml:"with"`
	Env  map[string]string `yaml:"env"`
}

// file is one parsed workflow file.
type file struct {
	path string
	text string
	root yaml.Node
	wf   workflow
}

func parse(path, text string) (*file, error) {
	f := &file{path: path, text: text}
	if err := yaml.Unmarshal([]byte(text), &f.root); err != nil {
		return nil, fmt.Errorf("parsing %s: %w", path, err)
	}
	if err := f.root.Decode(&f.wf); err != nil {
		return nil, fmt.Errorf("decoding %s: %w", path, err)
	}
	if len(f.wf.Jobs) == 0 {
		return nil, fmt.Errorf("%s has no jobs", path)
	}
	return f, nil
}

func load(path string) (*file, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return parse(filepath.ToSlash(path), string(b))
}

// jobNames returns the job ids in a stable order.
func (f *file) jobNames() []string {
	names := make([]string, 0, len(f.wf.Jobs))
	for n := range f.wf.Jobs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// triggers returns the event names under `on:`.
func (f *file) triggers() []string {
	n := f.wf.On
	switch n.Kind {
	case yaml.ScalarNode:
		return []string{n.Value}
	case yaml.SequenceNode:
		var out []string
		for _, c := range n.Content {
			out = append(out, c.Value)
		}
		return out
	case yaml.MappingNode:
		var out []string
		for i := 0; i < len(n.Content); i += 2 {
			out = append(out, n.Content[i].Value)
		}
		return out
	}
	return nil
}

func (f *file) hasTrigger(name string) bool {
	for _, t := range f.triggers() {
		if t == name {
			return true
		}
	}
	return false
}

// permissions reads a permissions node: a map of scope to access, or a
// shorthand such as "read-all". ok is false when the node is absent.
func permissions(n yaml.Node) (scopes map[string]string, shorthand string, ok bool) {
	switch n.Kind {
	case yaml.MappingNode:
		scopes = map[string]string{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			scopes[n.Content[i].Value] = n.Content[i+1].Value
		}
		return scopes, "", true
	case yaml.ScalarNode:
		return nil, n.Value, true
	}
	return nil, "", false
}

// environmentName is the job's GitHub environment, "" for none.
func environmentName(n yaml.Node) string {
	switch n.Kind {
	case yaml.ScalarNode:
		return n.Value
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == "name" {
				return n.Content[i+1].Value
			}
		}
	}
	return ""
}

// concurrency reads a concurrency node; cancel is the raw
// cancel-in-progress value ("" when absent).
func concurrency(n yaml.Node) (group, cancel string) {
	switch n.Kind {
	case yaml.ScalarNode:
		return n.Value, ""
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			switch n.Content[i].Value {
			case "group":
				group = n.Content[i+1].Value
			case "cancel-in-progress":
				cancel = n.Content[i+1].Value
			}
		}
	}
	return group, cancel
}

// effectiveConcurrency is the job's concurrency, or the workflow's.
func (f *file) effectiveConcurrency(j *job) (group, cancel string) {
	if j.Concurrency.Kind != 0 {
		return concurrency(j.Concurrency)
	}
	return concurrency(f.wf.Concurrency)
}

// combos expands a job's matrix into its combinations: the cartesian product
// of the axes, then each include entry extends the combinations it matches or
// is added as its own. A job without a matrix has one empty combination.
func combos(j *job) []map[string]string {
	m := j.Strategy.Matrix
	out := []map[string]string{{}}
	if m.Kind != yaml.MappingNode {
		return out
	}
	var includes []map[string]string
	for i := 0; i+1 < len(m.Content); i += 2 {
		key, val := m.Content[i].Value, m.Content[i+1]
		switch key {
		case "include":
			for _, e := range val.Content {
				entry := map[string]string{}
				for k := 0; k+1 < len(e.Content); k += 2 {
					entry[e.Content[k].Value] = e.Content[k+1].Value
				}
				includes = append(includes, entry)
			}
		case "exclude":
		default:
			var next []map[string]string
			for _, c := range out {
				for _, v := range val.Content {
					nc := map[string]string{key: v.Value}
					for k, x := range c {
						nc[k] = x
					}
					next = append(next, nc)
				}
			}
			out = next
		}
	}
	if len(out) == 1 && len(out[0]) == 0 && len(includes) > 0 {
		out = nil
	}
	for _, inc := range includes {
		matched := false
		for _, c := range out {
			ok := true
			for k, v := range inc {
				if cv, has := c[k]; has && cv != v {
					ok = false
				}
			}
			if ok && len(c) > 0 {
				for k, v := range inc {
					c[k] = v
				}
				matched = true
			}
		}
		if !matched {
			out = append(out, inc)
		}
	}
	return out
}

var matrixExpr = regexp.MustCompile(`\$\{\{\s*matrix\.([A-Za-z0-9_-]+)\s*\}\}`)

// expandMatrix replaces ${{ matrix.k }} with the combination's value.
func expandMatrix(s string, combo map[string]string) string {
	return matrixExpr.ReplaceAllStringFunc(s, func(m string) string {
		k := matrixExpr.FindStringSubmatch(m)[1]
		if v, ok := combo[k]; ok {
			return v
		}
		return m
	})
}

var (
	roleVarExpr       = regexp.MustCompile(`^\$\{\{\s*vars\.([A-Z0-9_]+)\s*\}\}$`)
	roleMatrixVarExpr = regexp.MustCompile(`^\$\{\{\s*vars\[\s*matrix\.([A-Za-z0-9_-]+)\s*\]\s*\}\}$`)
)

const awsCredentialsAction = "aws-actions/configure-aws-credentials"

// assumption is one configure-aws-credentials step of one matrix combination.
type assumption struct {
	roleVar string // the repository variable holding the role ARN, "" if not one
	raw     string // role-to-assume as written
	region  string
}

// assumptions returns, per matrix combination, the roles the job assumes.
// roleUse is one role assumption of one job under one matrix combination.
type roleUse struct {
	job   string
	j     *job
	combo map[string]string
	a     assumption
}

// roleUses lists every role assumption of the file, job by job and matrix
// combination by combination.
func (f *file) roleUses() []roleUse {
	var out []roleUse
	for _, name := range f.jobNames() {
		j := f.wf.Jobs[name]
		for _, combo := range combos(j) {
			for _, a := range assumptions(j, combo) {
				out = append(out, roleUse{job: name, j: j, combo: combo, a: a})
			}
		}
	}
	return out
}

func assumptions(j *job, combo map[string]string) []assumption {
	var out []assumption
	for _, s := range j.Steps {
		if !strings.HasPrefix(s.Uses, awsCredentialsAction+"@") {
			continue
		}
		a := assumption{raw: s.With["role-to-assume"], region: expandMatrix(s.With["aws-region"], combo)}
		if m := roleVarExpr.FindStringSubmatch(a.raw); m != nil {
			a.roleVar = m[1]
		} else if m := roleMatrixVarExpr.FindStringSubmatch(a.raw); m != nil {
			a.roleVar = combo[m[1]]
		}
		out = append(out, a)
	}
	return out
}

var envRef = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?`)

// commands returns the driver invocations of one job combination with shell
// variables replaced by the values the step, job or workflow env gives them
// (a variable without a literal value is left as written).
func (f *file) commands(j *job, combo map[string]string) []Invocation {
	var out []Invocation
	for _, s := range j.Steps {
		if s.Run == "" {
			continue
		}
		env := map[string]string{}
		for _, m := range []map[string]string{f.wf.Env, j.Env, s.Env} {
			for k, v := range m {
				env[k] = runStackName(expandMatrix(v, combo))
			}
		}
		for _, inv := range FindInvocations(s.Run) {
			args := make([]string, len(inv.Args))
			for i, a := range inv.Args {
				args[i] = envRef.ReplaceAllStringFunc(a, func(m string) string {
					k := envRef.FindStringSubmatch(m)[1]
					if v, ok := env[k]; ok && !strings.Contains(v, "${{") {
						return v
					}
					return m
				})
			}
			out = append(out, Invocation{Line: inv.Line, Args: args})
		}
	}
	return out
}

var ghExpr = regexp.MustCompile(`\$\{\{[^}]*\}\}`)

// runStackName reads an acceptance stack name built from run expressions
// ("acc-${{ github.run_id }}-..." becomes "acc-<run>-..."), so the rules can
// see which stack family a command touches; other values are unchanged.
func runStackName(v string) string {
	if !strings.HasPrefix(v, spec.EphemeralPrefix) {
		return v
	}
	return ghExpr.ReplaceAllString(v, "<run>")
}

// isAcceptanceStack reports whether a command's stack is an ephemeral
// acceptance stack of a run.
func isAcceptanceStack(stack string) bool { return strings.HasPrefix(stack, spec.EphemeralPrefix) }

// Driver command names (SPEC 3.1) used to read a command line.
var driverCommands = map[string]bool{
	"deploy": true, "preview": true, "check": true, "verify": true, "e2e": true,
	"nonce": true, "drift": true, "destroy": true, "rehearse": true,
	"leftovers": true, "adopt": true, "unlock": true,
	"restore": true, "drill": true,
}

// stackOf returns the command and stack of an invocation: "deploy" for the
// bare `<stack>` form.
func stackOf(inv Invocation) (cmd, stack string) {
	var pos []string
	for i := 0; i < len(inv.Args); i++ {
		a := inv.Args[i]
		if strings.HasPrefix(a, "-") {
			// Flags that take a value: skip it.
			switch a {
			case "--markdown", "--approve", "--from", "--project-dir", "--table", "--to", "--into", "--read-budget":
				i++
			}
			continue
		}
		pos = append(pos, a)
	}
	if len(pos) == 0 {
		return "", ""
	}
	if !driverCommands[pos[0]] {
		return "deploy", pos[0]
	}
	cmd = pos[0]
	pos = pos[1:]
	if cmd == "nonce" && len(pos) > 0 && pos[0] == "rotate" {
		pos = pos[1:]
	}
	if len(pos) > 0 {
		stack = pos[0]
	}
	return cmd, stack
}

// usesNodes returns every `uses:` value node in the document with its line.
func usesNodes(n *yaml.Node) []*yaml.Node {
	var out []*yaml.Node
	var walk func(*yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == "uses" && n.Content[i+1].Kind == yaml.ScalarNode {
					out = append(out, n.Content[i+1])
				}
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(n)
	return out
}

// needs lists the jobs a job needs (a name or a list of names).
func needs(j *job) []string {
	switch j.Needs.Kind {
	case yaml.ScalarNode:
		return []string{j.Needs.Value}
	case yaml.SequenceNode:
		var out []string
		for _, n := range j.Needs.Content {
			out = append(out, n.Value)
		}
		return out
	}
	return nil
}
