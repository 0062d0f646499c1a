package driver

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/mirror-dissonance/mirror-infra/internal/gate"
	"github.com/mirror-dissonance/mirror-infra/report"
)

func TestImportResourcesKeysAndParents(t *testing.T) {
	for _, tc := range []struct {
		name  string
		specs []ImportSpec
		err   string
	}{
		{name: "same logical name under its component", specs: []ImportSpec{
			{Type: "md:index:EncryptionKey", Name: "kms", Component: true},
			{Type: "aws:kms/key:Key", Name: "kms", ID: "k-1", ParentType: "md:index:EncryptionKey", ParentName: "kms"},
		}},
		{name: "parent missing", err: "is not in the import", specs: []ImportSpec{
			{Type: "aws:kms/key:Key", Name: "kms", ID: "k-1", ParentType: "md:index:EncryptionKey", ParentName: "kms"},
		}},
		{name: "resource without id", err: "needs an id", specs: []ImportSpec{{Type: "aws:kms/key:Key", Name: "kms"}}},
		{name: "listed twice", err: "twice", specs: []ImportSpec{{Type: "a:b:C", Name: "x", Component: true}, {Type: "a:b:C", Name: "x", Component: true}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs, err := importResources(tc.specs)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if rs[1].Parent != rs[0].Name || rs[1].LogicalName != "kms" || rs[0].Name == rs[1].Name {
				t.Errorf("entries %+v %+v", *rs[0], *rs[1])
			}
		})
	}
}

// nested declares "outer" and "inner" (a child of outer), provider-free.
func nested(ctx *pulumi.Context) error {
	outer := &thing{}
	if err := ctx.RegisterComponentResource("drivertest:index:Outer", "outer", outer); err != nil {
		return err
	}
	inner := &thing{}
	return ctx.RegisterComponentResource("drivertest:index:Thing", "inner", inner, pulumi.Parent(outer))
}

// Import through the real CLI puts resources at the URNs the program
// declares (with its parents): the preview that follows creates nothing.
func TestImportWithParentsMatchesTheProgram(t *testing.T) {
	f := newFixture(t, "dev")
	// `pulumi import` loads the project's language host even without code
	// generation; the standard Pulumi distribution ships it beside the CLI,
	// `make tools` builds the CLI alone.
	if _, err := exec.LookPath(filepath.Join(filepath.Dir(f.cli), "pulumi-language-go")); err != nil {
		if _, err := exec.LookPath("pulumi-language-go"); err != nil {
			t.Skip("pulumi-language-go is not installed beside " + f.cli + " or on PATH: `pulumi import` needs it")
		}
	}
	d := f.open(t, "dev", nested)
	ctx := context.Background()
	if err := d.Import(ctx, []ImportSpec{
		{Type: "drivertest:index:Outer", Name: "outer", Component: true},
		{Type: "drivertest:index:Thing", Name: "inner", Component: true, ParentType: "drivertest:index:Outer", ParentName: "outer"},
	}); err != nil {
		t.Fatal(err)
	}
	names := stateNames(t, d)
	if !contains(names, "outer") || !contains(names, "inner") {
		t.Fatalf("state after import: %v", names)
	}
	p, err := d.Preview(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for urn, op := range opsOf(p) {
		if op == gate.OpCreate || op == gate.OpReplace || op == gate.OpDelete {
			t.Errorf("after the import the preview would %s %s", op, urn)
		}
	}
}

// A failed pre-flight stops the cycle before approval and up.
func TestPreFlightStopsDeployBeforeUp(t *testing.T) {
	f := newFixture(t, "dev")
	s := f.settings("dev", things([]string{"a"}))
	var seen int
	s.PreFlight = func(_ context.Context, planned []gate.Resource) []report.Check {
		seen = len(planned)
		return []report.Check{{ID: "preflight", Status: report.Fail, Reason: "a exists"}}
	}
	d, err := Open(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	r := &report.Report{}
	d.Deploy(context.Background(), CycleOptions{Gate: func([]gate.Resource, gate.Options) []gate.Finding { return nil }, Approval: Approval{Yes: true}}, r)
	if r.ExitCode() != report.ExitFailed || seen == 0 {
		t.Fatalf("exit %d, pre-flight saw %d resources", r.ExitCode(), seen)
	}
	if _, ok := r.Find("up"); ok {
		t.Error("up ran after a failed pre-flight")
	}
	if names := stateNames(t, d); len(names) > 0 {
		t.Errorf("state changed: %v", names)
	}
}
