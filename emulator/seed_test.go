package emulator

import (
	"context"
	"strings"
	"testing"

	"github.com/mirror-dissonance/mirror-infra/spec"
)

// TestSeedTwiceNamesTheCause: kumo's state is per process, so a second Seed
// of one name must fail saying so, not half-way on some resource.
func TestSeedTwiceNamesTheCause(t *testing.T) {
	e, _ := startT(t)
	ctx := context.Background()
	s, err := e.Seed(ctx, SeedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.Seed(ctx, SeedOptions{Env: s.Env})
	if err == nil || !strings.Contains(err.Error(), "already exists in this process") || !strings.Contains(err.Error(), s.Env) {
		t.Fatalf("second Seed of %s: %v, want an error naming the cause", s.Env, err)
	}
}

// TestCatalogue: every defect names a resource the environment has, and
// Inject refuses what it cannot make outside Pulumi.
func TestCatalogue(t *testing.T) {
	n := spec.For("x")
	known := map[string]bool{"": true, strings.TrimPrefix(n.Topic(), n.Prefix()): true,
		strings.TrimPrefix(n.DeployRole(), n.Prefix()): true}
	for _, s := range spec.TableSuffixes {
		known[s] = true
	}
	for _, a := range n.ThrottleAlarms() {
		known[strings.TrimPrefix(a.Name, n.Prefix())] = true
	}
	for _, d := range Catalogue() {
		if !known[d.Resource] || d.Description == "" || d.Origin == 0 {
			t.Errorf("%s: resource %q, description %q, origin %d", d.Name, d.Resource, d.Description, d.Origin)
		}
	}
	if _, err := LookupDefect("pitr"); err == nil || !strings.Contains(err.Error(), "pitr-off") {
		t.Errorf("LookupDefect(pitr): %v, want an error listing the known defects", err)
	}
	e, cfg := startT(t)
	s, err := e.Seed(context.Background(), SeedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := Inject(context.Background(), cfg, s.Target(), DefectTableMissing); err == nil {
		t.Error("Inject(table-missing) succeeded; a table cannot be made missing outside Pulumi here")
	}
}
