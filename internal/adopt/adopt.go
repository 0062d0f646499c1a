// Package adopt takes over an environment the original Terraform modules
// made (SPEC 3.2): it finds, read-only and by name, each resource the
// program declares, and builds the adoption plan: what is imported (Pulumi
// type, logical name under its component, import id, where it was found,
// the in-place updates the first deploy will make), what is created, what
// stops the adoption (a table whose key schema differs, a name taken by a
// foreign resource), what the original made that stays alone, and the
// `terraform state rm` commands of the hand-off. It never writes to the
// account: the import itself goes through the driver.
package adopt

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/mirror-dissonance/mirror-infra/internal/mockrun"
	"github.com/mirror-dissonance/mirror-infra/report"
)

// Actions of an Entry.
const (
	// ActionImport: the resource exists; it is imported into the state.
	ActionImport = "import"
	// ActionCreate: nothing of that name exists; the deploy creates it.
	ActionCreate = "create"
)

// FingerprintPrefix marks an adoption fingerprint, as the driver marks a
// plan's, so `--approve` takes either the same way.
const FingerprintPrefix = "sha256:"

// Planned is one resource the program declares, as the mock run saw it.
type Planned struct {
	Type string `json:"type"`
	Name string `json:"name"`
	// ParentType and ParentName identify the parent component; empty for
	// a top-level component (its parent is the stack).
	ParentType string         `json:"parentType,omitempty"`
	ParentName string         `json:"parentName,omitempty"`
	Custom     bool           `json:"-"`
	Inputs     map[string]any `json:"-"`
}

// FromMockRun lists the program's resources (components and AWS
// resources) with their parents, in the mock run's order.
func FromMockRun(res mockrun.Result) []Planned {
	var out []Planned
	for _, r := range res.Resources {
		if strings.HasPrefix(r.Type, "pulumi:") {
			continue
		}
		pt, pn := urnTypeName(res.Parents[r.URN])
		if pt == "pulumi:pulumi:Stack" {
			pt, pn = "", ""
		}
		out = append(out, Planned{Type: r.Type, Name: r.Name, ParentType: pt, ParentName: pn,
			Custom: strings.HasPrefix(r.Type, "aws:"), Inputs: r.Inputs})
	}
	return out
}

// urnTypeName splits urn:pulumi:<stack>::<project>::<parent$type>::<name>.
func urnTypeName(urn string) (string, string) {
	parts := strings.SplitN(urn, "::", 4)
	if len(parts) != 4 {
		return "", ""
	}
	typ := parts[2]
	if i := strings.LastIndex(typ, "$"); i >= 0 {
		typ = typ[i+1:]
	}
	return typ, parts[3]
}

// Entry is one AWS resource of the program in the adoption plan.
type Entry struct {
	Type string `json:"type"`
	Name string `json:"name"`
	// Component is the parent component, "<type>::<name>".
	Component string `json:"component"`
	// Physical is the name the resource has in the account.
	Physical string `json:"physical"`
	Action   string `json:"action"`
	ImportID string `json:"importId,omitempty"`
	// Where says which read-only call found it.
	Where string `json:"where,omitempty"`
	// Updates are the properties the first deploy after the import will
	// change in place (from what discovery read; the preview after the
	// import is the authority).
	Updates []string `json:"updates,omitempty"`
	// Terraform is the original modules' address of the resource.
	Terraform string `json:"terraformAddress,omitempty"`

	parentType, parentName string
	outputs                map[string]any
}

// Conflict stops an adoption before anything is imported.
type Conflict struct {
	Type     string `json:"type"`
	Name     string `json:"name"`
	Physical string `json:"physical"`
	Kind     string `json:"kind"` // key-schema, foreign
	Reason   string `json:"reason"`
	Fix      string `json:"fix"`
}

// Conflict kinds.
const (
	ConflictKeySchema = "key-schema"
	ConflictForeign   = "foreign"
)

// Plan is the adoption plan of one stack.
type Plan struct {
	Stack       string      `json:"stack"`
	Environment string      `json:"environment"`
	Account     string      `json:"account"`
	Region      string      `json:"region"`
	Entries     []Entry     `json:"resources"`
	Conflicts   []Conflict  `json:"conflicts,omitempty"`
	LeftAlone   []LeftAlone `json:"leftAlone"`
	// StateRm are the Terraform hand-off commands; adopt only prints them.
	StateRm     []string `json:"terraformStateRm"`
	Fingerprint string   `json:"fingerprint"`

	components []Planned
}

// Imports returns the entries that are imported.
func (p *Plan) Imports() []Entry { return p.with(ActionImport) }

// Creates returns the entries the deploy creates.
func (p *Plan) Creates() []Entry { return p.with(ActionCreate) }

func (p *Plan) with(action string) []Entry {
	var out []Entry
	for _, e := range p.Entries {
		if e.Action == action {
			out = append(out, e)
		}
	}
	return out
}

// ImportIDs maps mockrun.ImportKey(type, name) to the import id of every
// imported entry, for the program under mocks.
func (p *Plan) ImportIDs() map[string]string {
	out := map[string]string{}
	for _, e := range p.Imports() {
		out[mockrun.ImportKey(e.Type, e.Name)] = e.ImportID
	}
	return out
}

// ImportedNames are the logical names of the imported entries.
func (p *Plan) ImportedNames() []string {
	var out []string
	for _, e := range p.Imports() {
		out = append(out, e.Name)
	}
	return out
}

// Components are the program's components (the parents of the imports),
// parents first.
func (p *Plan) Components() []Planned { return p.components }

// fingerprint is the SHA-256 of the canonical JSON of what an approval
// covers: the stack, the account and every entry and conflict.
func (p *Plan) fingerprint() error {
	doc := struct {
		Stack, Environment, Account, Region string
		Entries                             []Entry
		Conflicts                           []Conflict
	}{p.Stack, p.Environment, p.Account, p.Region, p.Entries, p.Conflicts}
	b, err := json.Marshal(doc)
	if err != nil {
		return fmt.Errorf("encoding the adoption plan for its fingerprint: %w", err)
	}
	sum := sha256.Sum256(b)
	p.Fingerprint = FingerprintPrefix + hex.EncodeToString(sum[:])
	return nil
}

// Text renders the plan for a person.
func (p *Plan) Text() string {
	// Values from the account have their control characters shown.
	v := report.Terminal
	var b strings.Builder
	fmt.Fprintf(&b, "Adoption plan for stack %s (account %s, %s): %d to import, %d to create, %d conflict(s)\n",
		v(p.Stack), v(p.Account), v(p.Region), len(p.Imports()), len(p.Creates()), len(p.Conflicts))
	for _, e := range p.Entries {
		fmt.Fprintf(&b, "  %-6s %s %s (under %s)", e.Action, v(e.Type), v(e.Name), v(e.Component))
		switch e.Action {
		case ActionImport:
			fmt.Fprintf(&b, "\n         id %s, found by %s", v(e.ImportID), v(e.Where))
			if len(e.Updates) > 0 {
				fmt.Fprintf(&b, "\n         then updated in place: %s", v(strings.Join(e.Updates, ", ")))
			}
		case ActionCreate:
			fmt.Fprintf(&b, "\n         %s does not exist", v(e.Physical))
		}
		b.WriteByte('\n')
	}
	for _, c := range p.Conflicts {
		fmt.Fprintf(&b, "  CONFLICT %s %s (%s): %s\n           fix: %s\n", v(c.Type), v(c.Name), v(c.Physical), v(c.Reason), v(c.Fix))
	}
	b.WriteString("Left alone (made by the original modules, not managed by this program):\n")
	for _, l := range p.LeftAlone {
		fmt.Fprintf(&b, "  %s %s (%s): %s\n", v(l.Kind), v(l.Name), v(l.Terraform), v(l.Why))
	}
	b.WriteString("Terraform hand-off (run by hand after the import; adopt never runs Terraform):\n")
	for _, c := range p.StateRm {
		fmt.Fprintf(&b, "  %s\n", c)
	}
	fmt.Fprintf(&b, "Fingerprint: %s\n", p.Fingerprint)
	return b.String()
}

// Markdown renders the plan for a PR comment or a change record.
func (p *Plan) Markdown() string {
	// Names, ids and reasons come from the account: each is escaped for
	// GitHub's Markdown (report.Markdown), never put in raw.
	m := report.Markdown
	var b strings.Builder
	fmt.Fprintf(&b, "### Adoption plan for %s\n\nAccount %s, region %s: %d to import, %d to create, %d conflict(s).\n\n",
		m(p.Stack), m(p.Account), m(p.Region), len(p.Imports()), len(p.Creates()), len(p.Conflicts))
	b.WriteString("| action | type | logical name | component | import id | in-place updates | Terraform address |\n|---|---|---|---|---|---|---|\n")
	for _, e := range p.Entries {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n", m(string(e.Action)), m(e.Type), m(e.Name), m(e.Component),
			m(e.ImportID), m(strings.Join(e.Updates, ", ")), m(e.Terraform))
	}
	if len(p.Conflicts) > 0 {
		b.WriteString("\n**Conflicts (nothing is imported until they are resolved):**\n\n")
		for _, c := range p.Conflicts {
			fmt.Fprintf(&b, "- %s %s: %s Fix: %s\n", m(c.Type), m(c.Physical), m(c.Reason), m(c.Fix))
		}
	}
	b.WriteString("\n**Left alone:**\n\n")
	for _, l := range p.LeftAlone {
		fmt.Fprintf(&b, "- %s %s (%s): %s\n", m(l.Kind), m(l.Name), m(l.Terraform), m(l.Why))
	}
	// A fenced block shows its text as it is; the commands are ours,
	// built from the environment's Terraform addresses.
	b.WriteString("\n**Terraform hand-off** (by hand, after the import):\n\n```sh\n")
	for _, c := range p.StateRm {
		b.WriteString(strings.ReplaceAll(c, "`", "'") + "\n")
	}
	fmt.Fprintf(&b, "```\n\nApprove exactly this adoption with `--approve %s`.\n", p.Fingerprint)
	return b.String()
}

// finish sorts the entries, derives the hand-off and fingerprints.
func (p *Plan) finish(ownsOIDC bool) error {
	sort.SliceStable(p.Entries, func(i, j int) bool {
		if p.Entries[i].Component != p.Entries[j].Component {
			return p.Entries[i].Component < p.Entries[j].Component
		}
		return p.Entries[i].Name < p.Entries[j].Name
	})
	var addrs []string
	for _, e := range p.Entries {
		if e.Terraform != "" && e.Action == ActionImport {
			addrs = append(addrs, e.Terraform)
		}
	}
	p.LeftAlone = leftAlone(p.Environment, ownsOIDC)
	if !ownsOIDC {
		addrs = append(addrs, "aws_iam_openid_connect_provider.github")
	}
	p.StateRm = stateRm(p.Environment, dedupe(addrs))
	return p.fingerprint()
}

func dedupe(ss []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
