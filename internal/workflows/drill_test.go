package workflows

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// drillRules are the restore drill workflow's properties (issue 25): it
// runs monthly and on dispatch, in the staging environment without
// overlapping a deploy, publishes the figures, always sweeps and always
// uploads the report.
var drillRules = []struct {
	name  string
	check func(f *file) string
}{
	{"monthly schedule and manual dispatch", func(f *file) string {
		if !f.hasTrigger("workflow_dispatch") || !f.hasTrigger("schedule") {
			return "needs schedule and workflow_dispatch"
		}
		for _, c := range f.cronLines() {
			fields := strings.Fields(c)
			if len(fields) != 5 || fields[2] == "*" || strings.ContainsAny(fields[2], "/,-") || fields[3] != "*" {
				return "cron " + c + " is not once a month"
			}
		}
		if len(f.cronLines()) == 0 {
			return "no cron"
		}
		return ""
	}},
	{"staging environment, one staging run at a time", func(f *file) string {
		j := f.wf.Jobs["drill"]
		if j == nil {
			return "no drill job"
		}
		if !strings.Contains(f.text, "name: staging") || !strings.Contains(f.text, "group: mirror-dissonance-staging") {
			return "the drill job must run in the staging environment and the staging concurrency group"
		}
		return ""
	}},
	{"the drill publishes its figures and writes a report", func(f *file) string {
		for _, s := range f.wf.Jobs["drill"].Steps {
			for _, inv := range FindInvocations(s.Run) {
				if cmd, stack := stackOf(inv); cmd == "drill" && stack == "staging" && !hasArg(inv, "--sweep") {
					if !hasArg(inv, "--publish-metrics") || !hasArg(inv, "--json") {
						return inv.String() + ": needs --publish-metrics and --json"
					}
					return ""
				}
			}
		}
		return "no `drill staging` step"
	}},
	{"a sweep always runs after the drill", func(f *file) string {
		drilled := false
		for _, s := range f.wf.Jobs["drill"].Steps {
			for _, inv := range FindInvocations(s.Run) {
				if cmd, _ := stackOf(inv); cmd == "drill" {
					if !hasArg(inv, "--sweep") {
						drilled = true
					} else if drilled && s.If == "always()" {
						return ""
					}
				}
			}
		}
		return "no `drill staging --sweep` step with if: always() after the drill"
	}},
	{"the report is uploaded", func(f *file) string {
		for _, s := range f.wf.Jobs["drill"].Steps {
			if strings.HasPrefix(s.Uses, "actions/upload-artifact@") && s.If == "always()" {
				return ""
			}
		}
		return "no upload-artifact step with if: always()"
	}},
}

// cronLines are the schedule's cron expressions.
func (f *file) cronLines() []string {
	var out []string
	for _, line := range strings.Split(f.text, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "- cron:"); ok {
			out = append(out, strings.Trim(strings.TrimSpace(v), `"'`))
		}
	}
	return out
}

func TestDrillWorkflow(t *testing.T) {
	f := mustLoad(t, filepath.Join(workflowDir, "drill.yml"))
	for _, r := range drillRules {
		t.Run(r.name, func(t *testing.T) {
			if msg := r.check(f); msg != "" {
				t.Error(msg)
			}
		})
	}
}

// TestDrillRulesCatchViolations: each rule fails on an edit that breaks it.
func TestDrillRulesCatchViolations(t *testing.T) {
	path := filepath.Join(workflowDir, "drill.yml")
	edits := map[string][2]string{
		"monthly schedule and manual dispatch":                {`cron: "23 6 1 * *"`, `cron: "23 6 * * *"`},
		"staging environment, one staging run at a time":      {"group: mirror-dissonance-staging", "group: drill"},
		"the drill publishes its figures and writes a report": {"--publish-metrics --json", "--json"},
		"a sweep always runs after the drill":                 {"--sweep --json", "--json"},
		"the report is uploaded":                              {"uses: actions/upload-artifact@", "uses: actions/cache@"},
	}
	for _, r := range drillRules {
		t.Run(r.name, func(t *testing.T) {
			e, ok := edits[r.name]
			if !ok {
				t.Fatal("no violating edit for this rule")
			}
			f := mustLoad(t, path)
			if !strings.Contains(f.text, e[0]) {
				t.Fatalf("drill.yml has no %q to break", e[0])
			}
			broken := loadText(t, path, strings.Replace(f.text, e[0], e[1], 1))
			if r.check(broken) == "" {
				t.Errorf("the rule passed drill.yml with %q replaced by %q", e[0], e[1])
			}
		})
	}
}

func loadText(t *testing.T, path, text string) *file {
	t.Helper()
	f, err := parse(path, text)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// acceptanceDrillProblems: the acceptance workflow runs the drill once on
// its ephemeral stack (issue 25), in a job of its own that needs the job
// that deploys it, uploads its report always, and is followed by a
// cleanup job that needs both and runs always() (so the stack is destroyed
// after the drill, and also when the drill failed or was cancelled).
func acceptanceDrillProblems(f *file) []string {
	var deployJob, drillJob, cleanupJob string
	for _, name := range f.jobNames() {
		j := f.wf.Jobs[name]
		for _, c := range combos(j) {
			for _, inv := range f.commands(j, c) {
				cmd, stack := stackOf(inv)
				switch {
				case !isAcceptanceStack(stack):
				case cmd == "deploy":
					deployJob = name
				case cmd == "drill" && !hasArg(inv, "--sweep"):
					drillJob = name
				case cmd == "destroy":
					cleanupJob = name
				}
			}
		}
	}
	var bad []string
	if deployJob == "" || drillJob == "" || cleanupJob == "" {
		return []string{fmt.Sprintf("want a deploy, a drill and a destroy of the acc-* stack; found jobs %q, %q, %q", deployJob, drillJob, cleanupJob)}
	}
	if drillJob == deployJob || cleanupJob == drillJob {
		bad = append(bad, "the drill has a job of its own (a real restore takes 20 minutes or more)")
	}
	if !slices.Contains(needs(f.wf.Jobs[drillJob]), deployJob) {
		bad = append(bad, fmt.Sprintf("job %s does not need %s: the drill must run after the deploy", drillJob, deployJob))
	}
	c := f.wf.Jobs[cleanupJob]
	if !slices.Contains(needs(c), deployJob) || !slices.Contains(needs(c), drillJob) {
		bad = append(bad, fmt.Sprintf("job %s needs %v: want both %s and %s, so the stack is destroyed after the drill", cleanupJob, needs(c), deployJob, drillJob))
	}
	if !strings.Contains(c.If, "always()") {
		bad = append(bad, fmt.Sprintf("job %s runs if %q: want always(), so a failed or cancelled run is cleaned up", cleanupJob, c.If))
	}
	uploaded := false
	for _, s := range f.wf.Jobs[drillJob].Steps {
		if strings.HasPrefix(s.Uses, "actions/upload-artifact@") && s.If == "always()" {
			uploaded = true
		}
	}
	if !uploaded {
		bad = append(bad, "job "+drillJob+" does not upload the drill's report always()")
	}
	return bad
}

func TestAcceptanceRunsTheDrill(t *testing.T) {
	path := filepath.Join(workflowDir, "acceptance.yml")
	for _, p := range acceptanceDrillProblems(mustLoad(t, path)) {
		t.Error(p)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Each edit applies to the first match after `after`.
	for _, m := range []struct{ name, after, old, new string }{
		{"drill without needs", "", "    needs: acceptance\n", ""},
		{"cleanup not after the drill", "", "    needs: [acceptance, drill]\n", "    needs: [acceptance]\n"},
		{"cleanup only on success", "", "    if: always() && github.ref == 'refs/heads/main'\n", "    if: github.ref == 'refs/heads/main'\n"},
		{"no drill", "", `bin/automation drill "$STACK" --json`, `bin/automation verify "$STACK" --json`},
		{"report not uploaded", "\n  drill:\n", "      - name: Upload the reports\n        if: always()\n", "      - name: Upload the reports\n        if: success()\n"},
	} {
		at := strings.Index(string(b), m.after)
		if at < 0 {
			t.Fatalf("%s: %q not found", m.name, m.after)
		}
		mutated := string(b)[:at] + strings.Replace(string(b)[at:], m.old, m.new, 1)
		if mutated == string(b) {
			t.Fatalf("%s: %q not found", m.name, m.old)
		}
		f, err := parse(path, mutated)
		if err != nil {
			t.Fatal(err)
		}
		if len(acceptanceDrillProblems(f)) == 0 {
			t.Errorf("%s: not reported", m.name)
		}
	}
}
