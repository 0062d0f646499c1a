package driver

import (
	"context"
	"fmt"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto/optimport"

	"github.com/mirror-dissonance/mirror-infra/internal/gate"
	"github.com/mirror-dissonance/mirror-infra/report"
)

// ImportSpec is one resource to take into the stack's state: an existing
// cloud resource (ID set) or a component placeholder (Component), each
// under the parent the program declares it with, so the program's next
// preview finds it at the same URN.
type ImportSpec struct {
	Type string
	// Name is the program's logical name (the last part of the URN).
	Name      string
	ID        string
	Component bool
	// ParentType and ParentName identify the parent component; empty for
	// a child of the stack.
	ParentType, ParentName string
}

// key is the unique name of a spec within one import file: logical names
// repeat (the key and its component are both "kms").
func specKey(typ, name string) string { return typ + "::" + name }

// importResources renders specs as the Automation API's import file
// entries: Name is the file's unique key, LogicalName the URN's name,
// Parent the key of the parent entry.
func importResources(specs []ImportSpec) ([]*optimport.ImportResource, error) {
	keys := map[string]bool{}
	for _, s := range specs {
		k := specKey(s.Type, s.Name)
		if keys[k] {
			return nil, fmt.Errorf("import: %s %s is listed twice", s.Type, s.Name)
		}
		keys[k] = true
	}
	out := make([]*optimport.ImportResource, 0, len(specs))
	for _, s := range specs {
		r := &optimport.ImportResource{Type: s.Type, Name: specKey(s.Type, s.Name), LogicalName: s.Name, ID: s.ID, Component: s.Component}
		if s.Component != (s.ID == "") {
			return nil, fmt.Errorf("import: %s %s needs an id unless it is a component (and a component takes none)", s.Type, s.Name)
		}
		if s.ParentType != "" {
			p := specKey(s.ParentType, s.ParentName)
			if !keys[p] {
				return nil, fmt.Errorf("import: the parent %s of %s %s is not in the import (list the program's components too)", p, s.Type, s.Name)
			}
			r.Parent = p
		}
		out = append(out, r)
	}
	return out, nil
}

// Import takes existing resources into the stack's state (`pulumi import
// --file`) with the program's parents, protected (a mistaken later plan
// can then delete nothing). It writes nothing in the cloud: the provider
// only reads each resource.
func (d *Driver) Import(ctx context.Context, specs []ImportSpec) error {
	rs, err := importResources(specs)
	if err != nil {
		return err
	}
	opts := []optimport.Option{optimport.Resources(rs), optimport.Protect(true), optimport.GenerateCode(false),
		optimport.Message(fmt.Sprintf("adopt: import %d resources", len(rs)))}
	if d.s.Progress != nil {
		opts = append(opts, optimport.ProgressStreams(d.s.Progress))
	}
	if _, err := d.stack.ImportResources(ctx, opts...); err != nil {
		return opError(ctx, "import", err, nil)
	}
	return nil
}

// PreFlight looks at the preview's planned resources before anything is
// applied and returns its checks; a failed one stops the run (SPEC 3.2:
// a planned create whose name already exists).
type PreFlight func(ctx context.Context, planned []gate.Resource) []report.Check

// runPreFlight adds the pre-flight's checks; ok is false when one failed.
func (d *Driver) runPreFlight(ctx context.Context, p *Preview, r *report.Report) bool {
	if d.s.PreFlight == nil {
		return true
	}
	start := time.Now()
	ok := true
	for _, c := range d.s.PreFlight(ctx, p.Resources) {
		if c.Duration == 0 {
			c.Duration = time.Since(start)
		}
		if c.Status == report.Fail {
			ok = false
		}
		r.Add(c)
	}
	return ok
}
