package mockrun

import (
	"context"
	"strings"
	"testing"

	"github.com/mirror-dissonance/mirror-infra/internal/gate"
	"github.com/mirror-dissonance/mirror-infra/spec"
	"github.com/mirror-dissonance/mirror-infra/stacks/stackconfig"
)

func TestShippedStacksPassTheGate(t *testing.T) {
	for _, stack := range []string{"staging", "production"} {
		t.Run(stack, func(t *testing.T) {
			cfg, err := stackconfig.Load("../..", stack)
			if err != nil {
				t.Fatal(err)
			}
			res, err := Run(context.Background(), cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			aws := res.AWSResources()
			if len(aws) < gate.DefaultMinResources || len(aws) > gate.DefaultMaxResources {
				t.Errorf("%d AWS resources, want %d..%d", len(aws), gate.DefaultMinResources, gate.DefaultMaxResources)
			}
			findings := gate.Evaluate(res.Resources, gate.Options{Environment: cfg.Environment, DeletionProtection: cfg.DeletionProtection})
			if gate.Failed(findings) {
				t.Errorf("gate failed: %+v", findings)
			}
			if got := res.Outputs[spec.OutFPEventsTableName]; got != spec.For(stack).Table(spec.TableFPEvents) {
				t.Errorf("output %s = %v", spec.OutFPEventsTableName, got)
			}
			if got := res.Outputs[spec.OutBaselinesBucket]; got != spec.For(stack).BaselinesBucket() {
				t.Errorf("output %s = %v", spec.OutBaselinesBucket, got)
			}
			t.Logf("%d AWS resources, %d outputs", len(aws), len(res.Outputs))
		})
	}
}

// importer records what the mocks pass it.
type importer struct {
	Synthetic
	got map[string]string
}

func (i *importer) Import(ctx context.Context, typ, name, id string, in map[string]any) (string, map[string]any, error) {
	i.got[ImportKey(typ, name)] = id
	return i.Create(ctx, typ, name, in)
}

// The import ids given to RunOpts reach the mocks (as pulumi.Import would
// pass them) and only for the resources named; parents are recorded.
func TestImportIDsReachTheMocks(t *testing.T) {
	cfg, err := stackconfig.Load("../..", "staging")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		ImportKey("aws:dynamodb/table:Table", "consent"): "mirror-dissonance-staging-consent",
		ImportKey("aws:kms/key:Key", "kms"):              "key-1234",
	}
	p := &importer{Synthetic: Synthetic{Region: cfg.Region}, got: map[string]string{}}
	res, err := RunOpts(context.Background(), cfg, p, RunOptions{Imports: want})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.got) != len(want) || len(res.Imported) != len(want) {
		t.Fatalf("importer got %v, result imported %v; want %v", p.got, res.Imported, want)
	}
	for k, v := range want {
		if p.got[k] != v {
			t.Errorf("%s: got %q, want %q", k, p.got[k], v)
		}
	}
	for _, r := range res.Resources {
		if r.Type == "aws:dynamodb/table:Table" && !strings.Contains(res.Parents[r.URN], "mirror-dissonance:stacks:Tables::tables") {
			t.Errorf("table %s has parent %q", r.Name, res.Parents[r.URN])
		}
	}
}
