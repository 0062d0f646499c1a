package workflows

import (
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/mirror-dissonance/mirror-infra/stacks/stackconfig"
)

const (
	root        = "../.."
	workflowDir = "../../.github/workflows"
	example     = "../../docs/examples/oracle-check.yml"
	runbookPath = "../../docs/operations.md"
)

// The workflows the issue asks for; more may exist, and all are checked.
var requiredWorkflows = []string{"pr.yml", "deploy-staging.yml", "drift.yml"}

func loadFacts(t *testing.T) facts {
	t.Helper()
	fx := facts{stacks: map[string]stackconfig.Config{}}
	for _, stack := range []string{"staging", "production", "acc-example"} {
		cfg, err := stackconfig.Load(root, stack)
		if err != nil {
			t.Fatalf("loading the %s stack config: %v", stack, err)
		}
		fx.stacks[stack] = cfg
	}
	// The sandbox role serves acceptance stacks, copies of acc-example.
	fx.stacks[sandbox] = fx.stacks["acc-example"]
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(mod), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) >= 2 && f[0] == "github.com/pulumi/pulumi/sdk/v3":
			fx.pulumiVersion = f[1]
		case len(f) >= 2 && f[0] == "github.com/pulumi/pulumi-aws/sdk/v6":
			fx.awsPluginVersion = f[1]
		}
	}
	if fx.pulumiVersion == "" || fx.awsPluginVersion == "" {
		t.Fatalf("go.mod pins no pulumi SDK or pulumi-aws SDK (%q, %q)", fx.pulumiVersion, fx.awsPluginVersion)
	}
	b, err := os.ReadFile(runbookPath)
	if err != nil {
		t.Fatalf("reading the runbook: %v", err)
	}
	fx.runbook = string(b)
	return fx
}

// workflowFiles returns this repository's workflow files, sorted.
func workflowFiles(t *testing.T) []string {
	t.Helper()
	var paths []string
	for _, pattern := range []string{"*.yml", "*.yaml"} {
		m, err := filepath.Glob(filepath.Join(workflowDir, pattern))
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, m...)
	}
	sort.Strings(paths)
	for _, want := range requiredWorkflows {
		found := false
		for _, p := range paths {
			found = found || filepath.Base(p) == want
		}
		if !found {
			t.Errorf("missing workflow %s", want)
		}
	}
	return paths
}

func mustLoad(t *testing.T, path string) *file {
	t.Helper()
	f, err := load(path)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestWorkflowsHoldEverySecurityProperty(t *testing.T) {
	fx := loadFacts(t)
	type target struct {
		path     string
		external bool
	}
	var targets []target
	for _, p := range workflowFiles(t) {
		targets = append(targets, target{path: p})
	}
	targets = append(targets, target{path: example, external: true})
	for _, tg := range targets {
		f := mustLoad(t, tg.path)
		tfx := fx
		tfx.external = tg.external
		for _, r := range rules {
			t.Run(filepath.Base(tg.path)+"/"+r.name, func(t *testing.T) {
				for _, v := range r.apply(f, tfx) {
					t.Error(v)
				}
			})
		}
	}
}

// Each rule must be able to fail: a small edit that breaks the property must
// be reported by that rule.
func TestRulesCatchViolations(t *testing.T) {
	fx := loadFacts(t)
	tests := []struct {
		name     string
		file     string
		rule     string // a substring of the rule's name
		old, new string
	}{
		{"tag instead of commit", "pr.yml", "pinned", "actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8 # v5.0.0", "actions/checkout@v5"},
		{"pin without version comment", "pr.yml", "pinned", "# v6.0.0", "# latest"},
		{"pull_request_target", "pr.yml", "privileged", "  pull_request:\n", "  pull_request_target:\n"},
		{"write-all at the top", "pr.yml", "least permissions", "permissions: {}", "permissions: write-all"},
		{"contents write", "deploy-staging.yml", "least permissions", "contents: read", "contents: write"},
		{"role without id-token", "drift.yml", "least permissions", "      id-token: write\n", ""},
		{"static key", "pr.yml", "OIDC only", "role-to-assume: ${{ vars[matrix.role] }}", "role-to-assume: ${{ vars[matrix.role] }}\n          aws-access-key-id: ${{ secrets.KEY }}"},
		{"literal role ARN", "drift.yml", "OIDC only", "role-to-assume: ${{ vars.STAGING_DEPLOY_ROLE_ARN }}", "role-to-assume: arn:aws:iam::123456789012:role/x"},
		{"the original's variable name", "deploy-staging.yml", "short list", "vars.STAGING_DEPLOY_ROLE_ARN", "vars.AWS_ROLE_ARN_STAGING"},
		{"preview for forks", "pr.yml", "fork", "    if: " + sameRepoGuard + "\n", ""},
		{"deploy role in a PR", "pr.yml", "fork", "role: STAGING_PREVIEW_ROLE_ARN", "role: STAGING_DEPLOY_ROLE_ARN"},
		{"deploy role subject on PR", "pr.yml", "subject", "role: STAGING_PREVIEW_ROLE_ARN", "role: STAGING_DEPLOY_ROLE_ARN"},
		{"secret in a fork-reachable job", "pr.yml", "fork", "          STACK: ${{ matrix.stack }}\n        run: |\n          mkdir -p out\n          rc=0\n          bin/automation check", "          STACK: ${{ matrix.stack }}\n          PULUMI_CONFIG_PASSPHRASE: ${{ secrets.PULUMI_CONFIG_PASSPHRASE }}\n        run: |\n          mkdir -p out\n          rc=0\n          bin/automation check"},
		{"wrong region", "deploy-staging.yml", "own stack", "aws-region: us-east-1", "aws-region: eu-west-1"},
		{"staging role for production", "deploy-production.yml", "own stack", "vars.PRODUCTION_DEPLOY_ROLE_ARN", "vars.STAGING_DEPLOY_ROLE_ARN"},
		{"drift outside the staging environment", "drift.yml", "subject", "    environment:\n      name: staging\n", ""},
		{"untrusted environment", "deploy-production.yml", "subject", "name: production", "name: prod"},
		{"deploy without environment", "deploy-staging.yml", "environment", "    environment:\n      name: staging\n", ""},
		{"deploy with --yes", "deploy-staging.yml", "fingerprint", `--approve "$FINGERPRINT"`, "--yes"},
		{"deploy from any branch", "deploy-production.yml", "only from main", "    if: " + mainGuard + "\n", ""},
		{"deploy in its own group", "deploy-staging.yml", "one operation", "group: mirror-dissonance-staging", "group: deploy-${{ github.sha }}"},
		{"cancelling drift", "drift.yml", "one operation", "cancel-in-progress: false", "cancel-in-progress: true"},
		{"expression in a script", "pr.yml", "expressions", `bin/automation check "$STACK"`, `bin/automation check "${{ matrix.stack }}"`},
		{"go run loses exit codes", "drift.yml", "binary", "bin/automation drift staging", "go run ./automation drift staging"},
		{"driver not built", "deploy-production.yml", "binary", "        run: go build -o bin/automation ./automation\n", "        run: echo skipped\n"},
		{"persisted token", "pr.yml", "checkout", "persist-credentials: false", "persist-credentials: true"},
		{"local backend", "drift.yml", "state backend", "PULUMI_BACKEND_URL: ${{ vars.PULUMI_BACKEND_URL }}", "PULUMI_BACKEND_URL: file://.pulumi-state"},
		{"passphrase secrets provider", "pr.yml", "state backend", "MD_SECRETS_PROVIDER: ${{ vars.PULUMI_SECRETS_PROVIDER }}", "MD_SECRETS_PROVIDER: passphrase"},
		{"a passphrase for a PR preview", "pr.yml", "passphrase", "      STACK: ${{ matrix.stack }}\n    steps:\n", "      STACK: ${{ matrix.stack }}\n      PULUMI_CONFIG_PASSPHRASE: ${{ secrets.PULUMI_CONFIG_PASSPHRASE }}\n    steps:\n"},
		{"no timeout", "pr.yml", "timeout", "timeout-minutes: 30", "timeout-minutes: 600"},
		{"timeout as long as the role session", "deploy-staging.yml", "timeout", "timeout-minutes: 55", "timeout-minutes: 60"},
		{"template open to forks", "oracle-check.yml", "fork", "    if: github.event_name != 'pull_request' || " + sameRepoGuard + "\n", ""},
		{"template cancels runs", "oracle-check.yml", "one operation", "cancel-in-progress: false", "cancel-in-progress: true"},
		{"acceptance destroy only on success", "acceptance.yml", "always destroys", "      - name: Destroy (always)\n        timeout-minutes: 15\n        if: always()\n", "      - name: Destroy (always)\n        timeout-minutes: 15\n"},
		{"acceptance without the leftovers check", "acceptance.yml", "always destroys", "--purge-nonce", ""},
		{"acceptance on staging", "acceptance.yml", "acc-*", `bin/automation drift "$STACK"`, "bin/automation drift staging"},
		{"acceptance in its own group per run", "acceptance.yml", "one operation", "group: mirror-dissonance-acceptance", "group: acceptance-${{ github.run_id }}"},
		{"acceptance outside the sandbox environment", "acceptance.yml", "fingerprint", "      name: sandbox\n", "      name: staging\n"},
		{"CLI built in a workflow", "drift.yml", "never built", "        uses: pulumi/actions@8e5e406f4007fca908480587cb9893c07090f58d # v7.0.0\n        with:\n          pulumi-version: 3.274.1\n", "        run: make tools\n"},
		{"another CLI version", "deploy-staging.yml", "never built", "pulumi-version: 3.274.1", "pulumi-version: 3.200.0"},
		{"another plugin version", "acceptance.yml", "never built", "resource aws 6.83.4", "resource aws 6.0.0"},
		{"make tools may build", "pr.yml", "never built", "          NO_PULUMI_BUILD: \"1\"\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(workflowDir, tt.file)
			tfx := fx
			if tt.file == "oracle-check.yml" {
				path, tfx.external = example, true
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			mutated := strings.Replace(string(b), tt.old, tt.new, 1)
			if mutated == string(b) {
				t.Fatalf("the edit does not apply to %s: %q not found", tt.file, tt.old)
			}
			f, err := parse(path, mutated)
			if err != nil {
				t.Fatal(err)
			}
			var matched []rule
			for _, r := range rules {
				if strings.Contains(r.name, tt.rule) {
					matched = append(matched, r)
				}
			}
			if len(matched) != 1 {
				t.Fatalf("%q matches %d rules, want 1", tt.rule, len(matched))
			}
			v := matched[0].apply(f, tfx)
			if len(v) == 0 {
				t.Errorf("rule %q did not report the edit %q -> %q", matched[0].name, tt.old, tt.new)
			}
			t.Logf("%s: %q", matched[0].name, v)
		})
	}
}

// commandsOf lists "command stack" for every driver invocation of a job.
func commandsOf(f *file, jobName string) []string {
	j := f.wf.Jobs[jobName]
	if j == nil {
		return nil
	}
	var out []string
	for _, c := range combos(j) {
		for _, inv := range f.commands(j, c) {
			cmd, stack := stackOf(inv)
			out = append(out, cmd+" "+stack)
		}
	}
	sort.Strings(out)
	return out
}

func stepRuns(j *job) string {
	var b strings.Builder
	for _, s := range j.Steps {
		b.WriteString(s.Run)
		b.WriteString("\n")
	}
	return b.String()
}

func scriptOf(j *job) string {
	for _, s := range j.Steps {
		if strings.HasPrefix(s.Uses, "actions/github-script@") {
			return s.With["script"]
		}
	}
	return ""
}

// The workflows do what the issue asks, not only safely.
func TestWorkflowsDoTheirJobs(t *testing.T) {
	load := func(name string) *file { return mustLoad(t, filepath.Join(workflowDir, name)) }
	pr, deploy, drift, prod := load("pr.yml"), load("deploy-staging.yml"), load("drift.yml"), load("deploy-production.yml")
	ex := mustLoad(t, example)

	tests := []struct {
		name string
		f    *file
		job  string
		want []string
	}{
		{"PR checks both stacks offline", pr, "check", []string{"check production", "check staging"}},
		{"PR previews both stacks", pr, "preview", []string{"preview production", "preview staging"}},
		{"merge previews then deploys staging", deploy, "deploy", []string{"deploy staging", "preview staging"}},
		{"deploy tests first", deploy, "test", []string{"check staging"}},
		{"nightly drift and verify", drift, "drift", []string{"drift staging", "verify staging"}},
		{"production deploy by fingerprint", prod, "deploy", []string{"check production", "deploy production"}},
		{"template runs the E2E", ex, "oracle-e2e", []string{"e2e staging"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := commandsOf(tt.f, tt.job); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("%s job %s runs %v, want %v", tt.f.path, tt.job, got, tt.want)
			}
		})
	}

	t.Run("PR and deploy run make lint and make test", func(t *testing.T) {
		for _, f := range []*file{pr, deploy} {
			runs := stepRuns(f.wf.Jobs["test"])
			for _, want := range []string{"make tools", "make lint", "make test"} {
				if !strings.Contains(runs, want) {
					t.Errorf("%s: the test job does not run %q", f.path, want)
				}
			}
		}
	})
	t.Run("the offline check needs no credentials", func(t *testing.T) {
		j := pr.wf.Jobs["check"]
		if hasCredentials(j) || len(jobSecrets(j)) > 0 || strings.Contains(j.If, sameRepoGuard) {
			t.Error("the check job must run for forks, without credentials or secrets")
		}
	})
	t.Run("one PR comment per stack, updated in place", func(t *testing.T) {
		s := scriptOf(pr.wf.Jobs["preview"])
		for _, want := range []string{"updateComment", "createComment", "mirror-dissonance:preview:", "FINGERPRINT"} {
			if !strings.Contains(s, want) {
				t.Errorf("the comment script lacks %q", want)
			}
		}
	})
	t.Run("the deploy approves the fingerprint of its own preview", func(t *testing.T) {
		j := deploy.wf.Jobs["deploy"]
		var previewStep, deployStep *step
		for i := range j.Steps {
			s := &j.Steps[i]
			for _, inv := range FindInvocations(s.Run) {
				switch cmd, _ := stackOf(inv); cmd {
				case "preview":
					previewStep = s
				case "deploy":
					deployStep = s
				}
			}
		}
		if previewStep == nil || deployStep == nil {
			t.Fatal("the deploy job needs a preview step and a deploy step")
		}
		if previewStep.ID == "" || !strings.Contains(previewStep.Run, `jq -r '.fingerprint`) || !strings.Contains(previewStep.Run, "fingerprint=") {
			t.Errorf("the preview step must take .fingerprint from its JSON report into a step output; run:\n%s", previewStep.Run)
		}
		want := "${{ steps." + previewStep.ID + ".outputs.fingerprint }}"
		if deployStep.Env["FINGERPRINT"] != want {
			t.Errorf("the deploy step's FINGERPRINT is %q, want %q", deployStep.Env["FINGERPRINT"], want)
		}
		if !strings.Contains(deployStep.Run, `--approve "$FINGERPRINT"`) {
			t.Errorf("the deploy step does not approve $FINGERPRINT: %s", deployStep.Run)
		}
	})
	t.Run("reports are uploaded and summarised", func(t *testing.T) {
		for _, f := range []*file{deploy, drift, prod} {
			for _, name := range f.jobNames() {
				j := f.wf.Jobs[name]
				if !hasCredentials(j) {
					continue
				}
				uploaded := false
				for _, s := range j.Steps {
					uploaded = uploaded || (strings.HasPrefix(s.Uses, "actions/upload-artifact@") && s.If == "always()")
				}
				if !uploaded || !strings.Contains(stepRuns(j), "GITHUB_STEP_SUMMARY") {
					t.Errorf("%s/%s: reports must be uploaded (if: always()) and written to the job summary", f.path, name)
				}
			}
		}
	})
	t.Run("drift opens, updates or closes one issue", func(t *testing.T) {
		s := scriptOf(drift.wf.Jobs["drift"])
		for _, want := range []string{"issues.create(", "issues.createComment(", "state: 'closed'", "mirror-dissonance:drift:staging"} {
			if !strings.Contains(s, want) {
				t.Errorf("the drift script lacks %q", want)
			}
		}
		if !drift.hasTrigger("schedule") {
			t.Error("drift must run on a schedule")
		}
	})
}

func TestFindInvocations(t *testing.T) {
	tests := []struct {
		name string
		text string
		want [][]string
	}{
		{"plain", "go run ./automation verify staging --json", [][]string{{"verify", "staging", "--json"}}},
		{"redirect and pipe", `go run ./automation preview "$STACK" --json > out.json || rc=$?`, [][]string{{"preview", "$STACK", "--json"}}},
		{"stderr redirect", "go run ./automation check staging 2>/dev/null", [][]string{{"check", "staging"}}},
		{"inline markdown", "Run `go run ./automation drift staging` nightly, then `go run ./automation help`.", [][]string{{"drift", "staging"}, {"help"}}},
		{"placeholder", "go run ./automation nonce rotate <stack> --from N", [][]string{{"nonce", "rotate", "<stack>", "--from", "N"}}},
		{"continuation", "go run ./automation staging \\\n  --non-interactive \\\n  --approve abc", [][]string{{"staging", "--non-interactive", "--approve", "abc"}}},
		{"comment", "go run ./automation e2e staging # the cycle", [][]string{{"e2e", "staging"}}},
		{"two on a line", "go run ./automation check staging && go run ./automation check production", [][]string{{"check", "staging"}, {"check", "production"}}},
		{"not ours", "go run ./automationx check\ngo test ./automation\nmybin/automation x", nil},
		{"binary", `bin/automation drift staging --json > out.json || rc=$?`, [][]string{{"~", "drift", "staging", "--json"}}},
		{"binary with dot", "./bin/automation check staging", [][]string{{"~", "check", "staging"}}},
		{"build output is not a command", "go build -o bin/automation ./automation && bin/automation verify staging", [][]string{{"~", "verify", "staging"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got [][]string
			for _, inv := range FindInvocations(tt.text) {
				args := inv.Args
				if inv.Binary {
					// "~" marks the binary form in the expectations.
					args = append([]string{"~"}, args...)
				}
				got = append(got, args)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("FindInvocations(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}

func TestCombos(t *testing.T) {
	tests := []struct {
		name   string
		matrix string
		want   []map[string]string
	}{
		{"none", "", []map[string]string{{}}},
		{"axis", "stack: [staging, production]", []map[string]string{{"stack": "staging"}, {"stack": "production"}}},
		{"include only", "include:\n  - {stack: staging, role: A}\n  - {stack: production, role: B}", []map[string]string{{"stack": "staging", "role": "A"}, {"stack": "production", "role": "B"}}},
		{"include extends", "stack: [staging]\ninclude:\n  - {stack: staging, role: A}", []map[string]string{{"stack": "staging", "role": "A"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := "on: push\njobs:\n  j:\n    runs-on: x\n"
			if tt.matrix != "" {
				text += "    strategy:\n      matrix:\n        " + strings.ReplaceAll(tt.matrix, "\n", "\n        ") + "\n"
			}
			f, err := parse("t.yml", text)
			if err != nil {
				t.Fatal(err)
			}
			if got := combos(f.wf.Jobs["j"]); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("combos = %v, want %v", got, tt.want)
			}
		})
	}
}

// The short list is exactly what the workflows use: no stale names, and every
// documented variable or secret is needed somewhere.
func TestNamesAreTheShortList(t *testing.T) {
	used := map[string]bool{}
	for _, p := range workflowFiles(t) {
		f := mustLoad(t, p)
		for _, m := range exprName.FindAllStringSubmatch(f.text, -1) {
			used[m[1]+"."+m[2]] = true
		}
		for _, name := range f.jobNames() {
			j := f.wf.Jobs[name]
			for _, c := range combos(j) {
				for _, a := range assumptions(j, c) {
					used["vars."+a.roleVar] = true
				}
			}
		}
	}
	for name := range projectNames {
		if name != "secrets.GITHUB_TOKEN" && !used[name] {
			t.Errorf("%s is on the short list but no workflow uses it", name)
		}
	}
	for name := range used {
		if !projectNames[name] {
			t.Errorf("%s is used but not on the short list", name)
		}
	}
}

// One action, one pin: every file uses the same commit (and release comment)
// for an action, so an update is reviewed once and never half done.
func TestOnePinPerAction(t *testing.T) {
	paths := append(workflowFiles(t), example)
	pins := map[string]map[string][]string{} // action -> "sha # comment" -> files
	for _, p := range paths {
		f := mustLoad(t, p)
		for _, n := range usesNodes(&f.root) {
			action, ref, ok := strings.Cut(n.Value, "@")
			if !ok {
				continue
			}
			pin := ref + " " + strings.TrimSpace(n.LineComment)
			if pins[action] == nil {
				pins[action] = map[string][]string{}
			}
			pins[action][pin] = append(pins[action][pin], filepath.Base(p))
		}
	}
	if len(pins) < 5 {
		t.Errorf("found %d actions, expected at least checkout, setup-go, configure-aws-credentials, upload-artifact and github-script", len(pins))
	}
	for action, byPin := range pins {
		if len(byPin) > 1 {
			t.Errorf("%s is pinned %d ways: %v", action, len(byPin), byPin)
		}
	}
}
