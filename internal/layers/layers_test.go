package layers

import (
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/mirror-dissonance/mirror-infra"

// rank places a package path (relative to the module) by its longest
// matching pattern.
func rank(pkg string) (int, bool) {
	best, bestLen := -1, -1
	for i, l := range Order {
		for _, p := range l.Patterns {
			base, tree := strings.CutSuffix(p, "/...")
			if (pkg == base || (tree && strings.HasPrefix(pkg, base+"/"))) && len(base) > bestLen {
				best, bestLen = i, len(base)
			}
		}
	}
	return best, best >= 0
}

// violations lists every import of graph (package to its imports, paths
// relative to the module) that reaches a higher layer, and every package
// Order does not place.
func violations(graph map[string][]string) []string {
	var out []string
	for pkg, imports := range graph {
		r, ok := rank(pkg)
		if !ok {
			out = append(out, fmt.Sprintf("%s is in no layer of internal/layers.Order", pkg))
			continue
		}
		for _, imp := range imports {
			if ri, ok := rank(imp); ok && ri > r {
				out = append(out, fmt.Sprintf("%s (%s) imports %s (%s), a higher layer", pkg, Order[r].Name, imp, Order[ri].Name))
			}
		}
	}
	slices.Sort(out)
	return out
}

// moduleGraph is the module's import graph without tests, from go list.
func moduleGraph(t *testing.T) map[string][]string {
	t.Helper()
	cmd := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, module+"/...")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	rel := func(p string) (string, bool) {
		if p == module {
			return ".", true
		}
		return strings.CutPrefix(p, module+"/")
	}
	graph := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		pkg, ok := rel(f[0])
		if !ok {
			continue
		}
		graph[pkg] = nil
		for _, imp := range f[1:] {
			if r, ok := rel(imp); ok {
				graph[pkg] = append(graph[pkg], r)
			}
		}
	}
	return graph
}

func TestNoUpwardImport(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list over the module")
	}
	for _, v := range violations(moduleGraph(t)) {
		t.Error(v)
	}
}

// TestViolations shows the rule on graphs: the E2E cycle's old place,
// oracle/e2e importing the verifier, is refused.
func TestViolations(t *testing.T) {
	for _, tc := range []struct {
		name  string
		graph map[string][]string
		want  []string
	}{
		{"downward and sideways imports", map[string][]string{
			"verify":     {"verify/e2e", "oracle/nonce", "spec"},
			"verify/e2e": {"oracle", "awsclient", "verify/target"},
			"oracle":     {"oracle/nonce"},
		}, nil},
		{"the old oracle/e2e", map[string][]string{
			"oracle/e2e": {"oracle", "verify", "verify/target"},
		}, []string{
			"oracle/e2e (the Oracle adapter layer) imports verify (the verifier, whose catalogue runs the cycle), a higher layer",
			"oracle/e2e (the Oracle adapter layer) imports verify/target (what a run points at), a higher layer",
		}},
		{"the old oracletest", map[string][]string{
			"oracle/internal/oracletest": {"emulator"},
		}, []string{"oracle/internal/oracletest (the Oracle adapter layer) imports emulator (the emulator, the engine and the post-up stage), a higher layer"}},
		{"an unplaced package", map[string][]string{"newpkg": nil}, []string{"newpkg is in no layer of internal/layers.Order"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := violations(tc.graph); !slices.Equal(got, tc.want) {
				t.Errorf("violations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}
