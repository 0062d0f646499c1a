package workflows

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/mirror-dissonance/mirror-infra/stacks/stackconfig"
)

// facts are what the rules compare the workflows with.
type facts struct {
	// stacks are the validated Pulumi.<stack>.yaml settings by stack name.
	stacks map[string]stackconfig.Config
	// runbook is docs/operations.md, which must name every variable used.
	runbook string
	// pulumiVersion and awsPluginVersion are the versions go.mod pins
	// ("v3.274.1", "v6.83.4").
	pulumiVersion, awsPluginVersion string
	// external marks a template for another repository (the Oracle test
	// repository): its roles and subjects are not this repository's.
	external bool
}

// rule is one security property; check returns one message per violation.
type rule struct {
	name string
	// projectOnly rules are about this repository's own roles and stacks;
	// a template for another repository is not judged by them.
	projectOnly bool
	check       func(f *file, fx facts) []string
}

// apply runs the rule unless it does not concern the file.
func (r rule) apply(f *file, fx facts) []string {
	if r.projectOnly && fx.external {
		return nil
	}
	return r.check(f, fx)
}

var (
	pinnedUses     = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(/[^@\s]+)?@[0-9a-f]{40}$`)
	versionComment = regexp.MustCompile(`^#\s*v\d+(\.\d+)*\b`)
	projectRoleVar = regexp.MustCompile(`^(STAGING|PRODUCTION|SANDBOX)_(PREVIEW|DEPLOY|DRILL)_ROLE_ARN$`)
	exprName       = regexp.MustCompile(`\b(vars|secrets)\.([A-Za-z0-9_]+)`)
)

// sameRepoGuard is the condition that keeps fork PRs away from a job.
const sameRepoGuard = "github.event.pull_request.head.repo.full_name == github.repository"

// mainGuard keeps a job on main even when it is dispatched from a branch.
const mainGuard = "github.ref == 'refs/heads/main'"

// Names the workflows may use, each once (the original used five names for
// one role ARN).
var (
	projectNames = map[string]bool{
		"vars.STAGING_PREVIEW_ROLE_ARN":    true,
		"vars.STAGING_DEPLOY_ROLE_ARN":     true,
		"vars.PRODUCTION_PREVIEW_ROLE_ARN": true,
		"vars.PRODUCTION_DEPLOY_ROLE_ARN":  true,
		"vars.SANDBOX_DEPLOY_ROLE_ARN":     true,
		"vars.STAGING_DRILL_ROLE_ARN":      true,
		"vars.PULUMI_BACKEND_URL":          true,
		"vars.PULUMI_SECRETS_PROVIDER":     true,
		"secrets.GITHUB_TOKEN":             true,
	}
	externalNames = map[string]bool{
		"vars.ORACLE_E2E_ROLE_ARN": true,
		"secrets.GITHUB_TOKEN":     true,
	}
)

func hasCredentials(j *job) bool {
	for _, s := range j.Steps {
		if strings.HasPrefix(s.Uses, awsCredentialsAction+"@") {
			return true
		}
	}
	return false
}

func hasScript(j *job) bool {
	for _, s := range j.Steps {
		if strings.HasPrefix(s.Uses, "actions/github-script@") {
			return true
		}
	}
	return false
}

// sandbox is the role prefix of the acceptance account: its deploy role
// serves the ephemeral acc-<run> stacks, whose settings are copies of
// Pulumi.acc-example.yaml.
const sandbox = "sandbox"

// roleParts splits STAGING_DEPLOY_ROLE_ARN into ("staging", "DEPLOY").
func roleParts(v string) (stack, kind string, ok bool) {
	m := projectRoleVar.FindStringSubmatch(v)
	if m == nil {
		return "", "", false
	}
	return strings.ToLower(m[1]), m[2], true
}

// jobSecrets lists the secrets.* names a job's env, steps' env and inputs use.
func jobSecrets(j *job) []string {
	var out []string
	add := func(m map[string]string) {
		for _, v := range m {
			for _, x := range exprName.FindAllStringSubmatch(v, -1) {
				if x[1] == "secrets" {
					out = append(out, x[2])
				}
			}
		}
	}
	add(j.Env)
	for _, s := range j.Steps {
		add(s.Env)
		add(s.With)
	}
	return out
}

var rules = []rule{
	{
		name: "actions are pinned to a full commit SHA with a version comment",
		check: func(f *file, _ facts) []string {
			var bad []string
			for _, n := range usesNodes(&f.root) {
				v := n.Value
				if strings.HasPrefix(v, "./") {
					continue // local action: pinned by this repository's own commit
				}
				if !pinnedUses.MatchString(v) {
					bad = append(bad, fmt.Sprintf("line %d: %q is not owner/repo@<40-hex commit>", n.Line, v))
					continue
				}
				if !versionComment.MatchString(strings.TrimSpace(n.LineComment)) {
					bad = append(bad, fmt.Sprintf("line %d: %q has no `# vX` comment naming the release", n.Line, v))
				}
			}
			return bad
		},
	},
	{
		name: "no privileged triggers (pull_request_target, workflow_run)",
		check: func(f *file, _ facts) []string {
			var bad []string
			for _, t := range f.triggers() {
				if t == "pull_request_target" || t == "workflow_run" {
					bad = append(bad, "trigger "+t+" runs with the base repository's secrets and token")
				}
			}
			return bad
		},
	},
	{
		name: "no permissions by default and least permissions per job",
		check: func(f *file, _ facts) []string {
			var bad []string
			scopes, short, ok := permissions(f.wf.Permissions)
			if !ok || short != "" || len(scopes) != 0 {
				bad = append(bad, "the workflow must say `permissions: {}` so that a job without its own block gets nothing")
			}
			for _, name := range f.jobNames() {
				j := f.wf.Jobs[name]
				scopes, short, ok := permissions(j.Permissions)
				if !ok {
					bad = append(bad, name+": no permissions block")
					continue
				}
				if short != "" {
					bad = append(bad, fmt.Sprintf("%s: shorthand permissions %q; list the scopes", name, short))
					continue
				}
				for scope, access := range scopes {
					switch access {
					case "read", "none":
						continue
					case "write":
					default:
						bad = append(bad, fmt.Sprintf("%s: %s: %q is not read, write or none", name, scope, access))
						continue
					}
					switch scope {
					case "id-token":
						if !hasCredentials(j) {
							bad = append(bad, name+": id-token: write without a configure-aws-credentials step")
						}
					case "pull-requests", "issues":
						if !hasScript(j) {
							bad = append(bad, fmt.Sprintf("%s: %s: write without a step that comments", name, scope))
						}
					default:
						bad = append(bad, fmt.Sprintf("%s: %s: write is more than any job here needs", name, scope))
					}
				}
				if hasCredentials(j) && scopes["id-token"] != "write" {
					bad = append(bad, name+": assumes a role but lacks id-token: write")
				}
			}
			return bad
		},
	},
	{
		name: "AWS access through OIDC only: no static keys, roles from variables",
		check: func(f *file, _ facts) []string {
			var bad []string
			upper := strings.ToUpper(f.text)
			for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS-ACCESS-KEY-ID", "AWS-SECRET-ACCESS-KEY", "AWS-SESSION-TOKEN"} {
				if strings.Contains(upper, k) {
					bad = append(bad, "mentions "+k+": static AWS credentials are not allowed")
				}
			}
			for _, name := range f.jobNames() {
				j := f.wf.Jobs[name]
				for _, combo := range combos(j) {
					for _, a := range assumptions(j, combo) {
						if a.roleVar == "" {
							bad = append(bad, fmt.Sprintf("%s: role-to-assume %q is not a repository variable", name, a.raw))
						}
						if a.region == "" {
							bad = append(bad, name+": configure-aws-credentials without aws-region")
						}
					}
				}
				for _, s := range j.Steps {
					if d, ok := s.With["role-duration-seconds"]; ok && d != "3600" && d != "900" && d != "1800" {
						bad = append(bad, fmt.Sprintf("%s: role-duration-seconds %s exceeds the roles' 1 hour sessions or is unusual", name, d))
					}
				}
			}
			return bad
		},
	},
	{
		name: "variables and secrets come from the short list the runbook documents",
		check: func(f *file, fx facts) []string {
			var bad []string
			allowed := projectNames
			if fx.external {
				allowed = externalNames
			}
			seen := map[string]bool{}
			for _, m := range exprName.FindAllStringSubmatch(f.text, -1) {
				seen[m[1]+"."+m[2]] = true
			}
			for _, u := range f.roleUses() {
				a := u.a
				if a.roleVar != "" {
					seen["vars."+a.roleVar] = true
				}
			}
			names := make([]string, 0, len(seen))
			for n := range seen {
				names = append(names, n)
			}
			sort.Strings(names)
			for _, n := range names {
				if !allowed[n] {
					bad = append(bad, n+" is not one of the documented names")
					continue
				}
				short := n[strings.IndexByte(n, '.')+1:]
				if short != "GITHUB_TOKEN" && !strings.Contains(fx.runbook, short) {
					bad = append(bad, n+" is used but docs/operations.md does not list it")
				}
			}
			return bad
		},
	},
	{
		name: "a fork cannot reach a role or a secret",
		check: func(f *file, fx facts) []string {
			if !f.hasTrigger("pull_request") {
				return nil
			}
			var bad []string
			for _, name := range f.jobNames() {
				j := f.wf.Jobs[name]
				guarded := strings.Contains(j.If, sameRepoGuard)
				if hasCredentials(j) && !guarded {
					bad = append(bad, name+": assumes a role on pull_request without the same-repository condition")
				}
				if s := jobSecrets(j); len(s) > 0 && !guarded {
					bad = append(bad, fmt.Sprintf("%s: uses secrets %v on pull_request without the same-repository condition", name, s))
				}
				if fx.external {
					continue
				}
				for _, combo := range combos(j) {
					for _, a := range assumptions(j, combo) {
						if _, kind, ok := roleParts(a.roleVar); ok && kind != "PREVIEW" {
							bad = append(bad, fmt.Sprintf("%s: a pull_request workflow names the write role %s", name, a.roleVar))
						}
					}
				}
				if env := environmentName(j.Environment); env != "" {
					bad = append(bad, fmt.Sprintf("%s: a pull_request job in environment %q would get that environment's subject", name, env))
				}
			}
			return bad
		},
	},
	{
		name:        "each role is used for its own stack, in that stack's region",
		projectOnly: true,
		check: func(f *file, fx facts) []string {
			var bad []string
			for _, u := range f.roleUses() {
				name, j, combo, a := u.job, u.j, u.combo, u.a
				stack, _, ok := roleParts(a.roleVar)
				if !ok {
					bad = append(bad, fmt.Sprintf("%s: role variable %q is not <STACK>_<PREVIEW|DEPLOY|DRILL>_ROLE_ARN", name, a.roleVar))
					continue
				}
				cfg, known := fx.stacks[stack]
				if !known {
					bad = append(bad, fmt.Sprintf("%s: %s names stack %q, which has no Pulumi.%s.yaml", name, a.roleVar, stack, stack))
					continue
				}
				if a.region != cfg.Region {
					bad = append(bad, fmt.Sprintf("%s: aws-region %q but Pulumi.%s.yaml says %q", name, a.region, stack, cfg.Region))
				}
				for _, inv := range f.commands(j, combo) {
					_, s := stackOf(inv)
					if ownStack := s == stack || (stack == sandbox && isAcceptanceStack(s)); !ownStack {
						bad = append(bad, fmt.Sprintf("%s: runs %q with the %s role", name, inv, a.roleVar))
					}
				}
			}
			return bad
		},
	},
	{
		name:        "the job's OIDC subject is one the role trusts",
		projectOnly: true,
		check: func(f *file, fx facts) []string {
			var bad []string
			for _, name := range f.jobNames() {
				j := f.wf.Jobs[name]
				env := environmentName(j.Environment)
				for _, combo := range combos(j) {
					for _, a := range assumptions(j, combo) {
						stack, kind, ok := roleParts(a.roleVar)
						cfg, known := fx.stacks[stack]
						if !ok || !known {
							continue // reported by the role/stack rule
						}
						repo := "repo:" + cfg.GitHubOrg + "/" + cfg.GitHubRepo + ":"
						for _, trig := range f.triggers() {
							var sub string
							switch {
							case env != "":
								sub = repo + "environment:" + env
							case trig == "pull_request":
								sub = repo + "pull_request"
							default:
								if !strings.Contains(j.If, mainGuard) {
									bad = append(bad, fmt.Sprintf("%s: on %s without an environment it must be limited to main (%s)", name, trig, mainGuard))
									continue
								}
								sub = repo + "ref:refs/heads/main"
							}
							switch kind {
							case "PREVIEW":
								if sub != cfg.PreviewSubject() {
									bad = append(bad, fmt.Sprintf("%s: on %s the subject %s is not the one %s trusts (%s)", name, trig, sub, a.roleVar, cfg.PreviewSubject()))
								}
							case "DEPLOY", "DRILL":
								// The drill role trusts the deploy role's subjects.
								trusted := false
								for _, s := range cfg.DeploySubjects {
									trusted = trusted || s == sub
								}
								if !trusted || strings.HasSuffix(sub, ":pull_request") {
									bad = append(bad, fmt.Sprintf("%s: on %s the subject %s is not among %s's trusted subjects %v", name, trig, sub, a.roleVar, cfg.DeploySubjects))
								}
							}
						}
					}
				}
			}
			return bad
		},
	},
	{
		name: "changes are applied only from main, behind the stack's environment, with an exact fingerprint",
		check: func(f *file, _ facts) []string {
			var bad []string
			for _, name := range f.jobNames() {
				j := f.wf.Jobs[name]
				for _, combo := range combos(j) {
					for _, inv := range f.commands(j, combo) {
						cmd, stack := stackOf(inv)
						if cmd != "deploy" && cmd != "destroy" {
							if hasArg(inv, "--approve") || hasArg(inv, "--yes") {
								bad = append(bad, fmt.Sprintf("%s: %q approves a plan outside a deploy", name, inv))
							}
							continue
						}
						// An acceptance run's stack lives in the sandbox
						// environment and, holding nothing protected, may be
						// destroyed with --yes.
						wantEnv, roleStack := stack, stack
						if isAcceptanceStack(stack) {
							wantEnv, roleStack = sandbox, sandbox
						}
						if env := environmentName(j.Environment); env != wantEnv {
							bad = append(bad, fmt.Sprintf("%s: %q runs in environment %q, not %q", name, inv, env, wantEnv))
						}
						if !strings.Contains(j.If, mainGuard) {
							bad = append(bad, fmt.Sprintf("%s: %q is not limited to main (%s)", name, inv, mainGuard))
						}
						ephemeralDestroy := cmd == "destroy" && isAcceptanceStack(stack)
						if !ephemeralDestroy && (hasArg(inv, "--yes") || !hasArg(inv, "--approve")) {
							bad = append(bad, fmt.Sprintf("%s: %q must approve with --approve <fingerprint>, not --yes", name, inv))
						}
						if !hasArg(inv, "--non-interactive") {
							bad = append(bad, fmt.Sprintf("%s: %q must be --non-interactive", name, inv))
						}
						roles := assumptions(j, combo)
						if len(roles) != 1 || roles[0].roleVar != strings.ToUpper(roleStack)+"_DEPLOY_ROLE_ARN" {
							bad = append(bad, fmt.Sprintf("%s: %q must run with exactly the %s deploy role", name, inv, roleStack))
						}
					}
				}
			}
			return bad
		},
	},
	{
		name: "one operation per stack at a time, never cancelled midway",
		check: func(f *file, fx facts) []string {
			var bad []string
			for _, u := range f.roleUses() {
				name, j, a := u.job, u.j, u.a
				group, cancel := f.effectiveConcurrency(j)
				stack, kind, ok := roleParts(a.roleVar)
				switch {
				case fx.external:
					if group == "" || cancel == "true" {
						bad = append(bad, name+": writes to shared tables without a non-cancelling concurrency group")
					}
				case ok && kind == "DEPLOY":
					want := "mirror-dissonance-" + stack
					if stack == sandbox {
						want = "mirror-dissonance-acceptance" // one acceptance run at a time
					}
					if group != want {
						bad = append(bad, fmt.Sprintf("%s: uses %s in concurrency group %q, not %q", name, a.roleVar, group, want))
					}
					if cancel != "" && cancel != "false" {
						bad = append(bad, fmt.Sprintf("%s: cancel-in-progress %s could interrupt an update", name, cancel))
					}
				}
			}
			return bad
		},
	},
	{
		name: "the driver runs as a binary built in the job, so its exit codes survive",
		check: func(f *file, _ facts) []string {
			var bad []string
			for _, name := range f.jobNames() {
				built := false
				for _, s := range f.wf.Jobs[name].Steps {
					for _, inv := range FindInvocations(s.Run) {
						if !inv.Binary {
							bad = append(bad, fmt.Sprintf("%s: %q: go run reports exit 2 and 3 as 1; run bin/automation", name, inv))
						} else if !built {
							bad = append(bad, fmt.Sprintf("%s: %q runs before the step that builds bin/automation", name, inv))
						}
					}
					built = built || strings.Contains(s.Run, "go build -o bin/automation ./automation")
				}
			}
			return bad
		},
	},
	{
		name: "no expressions inside run scripts (no script injection)",
		check: func(f *file, _ facts) []string {
			var bad []string
			for _, name := range f.jobNames() {
				for _, s := range f.wf.Jobs[name].Steps {
					if strings.Contains(s.Run, "${{") {
						bad = append(bad, fmt.Sprintf("%s: step %q puts an expression in its script; pass it through env", name, s.Name))
					}
				}
			}
			return bad
		},
	},
	{
		name: "checkout does not keep the token on disk",
		check: func(f *file, _ facts) []string {
			var bad []string
			for _, name := range f.jobNames() {
				for _, s := range f.wf.Jobs[name].Steps {
					if strings.HasPrefix(s.Uses, "actions/checkout@") && s.With["persist-credentials"] != "false" {
						bad = append(bad, name+": actions/checkout without persist-credentials: false")
					}
				}
			}
			return bad
		},
	},
	{
		name:        "jobs with credentials use the shared state backend",
		projectOnly: true,
		check: func(f *file, fx facts) []string {
			var bad []string
			for _, name := range f.jobNames() {
				j := f.wf.Jobs[name]
				if !hasCredentials(j) {
					continue
				}
				v := j.Env["PULUMI_BACKEND_URL"]
				if v == "" {
					v = f.wf.Env["PULUMI_BACKEND_URL"]
				}
				if v != "${{ vars.PULUMI_BACKEND_URL }}" {
					bad = append(bad, name+": PULUMI_BACKEND_URL must come from vars.PULUMI_BACKEND_URL (a local backend would plan against empty state)")
				}
				// The state's secrets are opened with the KMS state key the
				// job's role may use; no job ever holds a passphrase, so a
				// PR's code has nothing to steal.
				if j.Env["MD_SECRETS_PROVIDER"] != "${{ vars.PULUMI_SECRETS_PROVIDER }}" {
					bad = append(bad, name+": MD_SECRETS_PROVIDER must come from vars.PULUMI_SECRETS_PROVIDER (the awskms:// state key)")
				}
			}
			return bad
		},
	},
	{
		name: "no job holds a state passphrase",
		check: func(f *file, _ facts) []string {
			if strings.Contains(f.text, "PULUMI_CONFIG_PASSPHRASE") {
				return []string{"uses PULUMI_CONFIG_PASSPHRASE: state secrets are KMS-encrypted (MD_SECRETS_PROVIDER), so no job, least of all a PR's, needs a passphrase"}
			}
			return nil
		},
	},
	{
		name: "every job has a timeout",
		check: func(f *file, _ facts) []string {
			var bad []string
			for _, name := range f.jobNames() {
				// Shorter than the one-hour role session, so no step runs on
				// expired credentials and a cancelled job still has time to
				// release its lock.
				if t := f.wf.Jobs[name].TimeoutMinutes; t <= 0 || t > 55 {
					bad = append(bad, fmt.Sprintf("%s: timeout-minutes %d (want 1 to 55: shorter than the one-hour role session)", name, t))
				}
			}
			return bad
		},
	},
	{
		name: "an acceptance run touches only acc-* stacks and always destroys what it made",
		check: func(f *file, _ facts) []string {
			var bad []string
			for _, name := range f.jobNames() {
				j := f.wf.Jobs[name]
				deployed, destroyed, swept := f.acceptanceCleanup(j, false)
				if deployed && !destroyed {
					// Or in a cleanup job that runs always() after this one.
					for _, other := range f.jobNames() {
						c := f.wf.Jobs[other]
						if other == name || !strings.Contains(c.If, "always()") || !slices.Contains(needs(c), name) {
							continue
						}
						if _, d, sw := f.acceptanceCleanup(c, true); d {
							destroyed, swept = true, sw
						}
					}
				}
				sandboxRole := false
				for _, c := range combos(j) {
					for _, a := range assumptions(j, c) {
						sandboxRole = sandboxRole || strings.HasPrefix(a.roleVar, strings.ToUpper(sandbox)+"_")
					}
					for _, inv := range f.commands(j, c) {
						if _, stack := stackOf(inv); sandboxRole && !isAcceptanceStack(stack) {
							bad = append(bad, fmt.Sprintf("%s: %q touches a stack outside acc-* with the sandbox role", name, inv))
						}
					}
				}
				if !deployed {
					continue
				}
				if !destroyed {
					bad = append(bad, name+": deploys an acceptance stack without a later destroy step that runs always() (in this job, or in a job with if: always() that needs it)")
				}
				if !swept {
					bad = append(bad, name+": has no leftovers --purge-nonce step after the destroy that runs always()")
				}
			}
			return bad
		},
	},
	{
		name: "the pulumi CLI is the release of the SDK's version, installed, never built",
		check: func(f *file, fx facts) []string {
			var bad []string
			for _, name := range f.jobNames() {
				j := f.wf.Jobs[name]
				installed, plugin := false, false
				for _, s := range j.Steps {
					if strings.HasPrefix(s.Uses, "pulumi/actions@") {
						installed = true
						if v := s.With["pulumi-version"]; "v"+v != fx.pulumiVersion {
							bad = append(bad, fmt.Sprintf("%s: pulumi/actions installs %q, the SDK is %s", name, v, fx.pulumiVersion))
						}
						if s.With["command"] != "" {
							bad = append(bad, name+": pulumi/actions runs a command; the driver runs the CLI")
						}
					}
					if strings.Contains(s.Run, "pulumi plugin install resource aws") {
						plugin = true
						if !strings.Contains(s.Run, "resource aws "+strings.TrimPrefix(fx.awsPluginVersion, "v")) {
							bad = append(bad, fmt.Sprintf("%s: the AWS plugin is not the SDK's %s", name, fx.awsPluginVersion))
						}
					}
					if strings.Contains(s.Run, "make tools") {
						if !installed {
							bad = append(bad, name+": make tools runs before the pulumi release is installed, so it would build the CLI")
						}
						if s.Env["NO_PULUMI_BUILD"] != "1" && j.Env["NO_PULUMI_BUILD"] != "1" {
							bad = append(bad, name+": make tools without NO_PULUMI_BUILD=1 could fall back to building the CLI")
						}
					}
					for _, inv := range FindInvocations(s.Run) {
						switch cmd, _ := stackOf(inv); cmd {
						case "deploy", "preview", "drift", "destroy":
							if !installed || !plugin {
								bad = append(bad, fmt.Sprintf("%s: %q runs before the pulumi release and the AWS plugin are installed", name, inv))
							}
						}
					}
				}
			}
			return bad
		},
	},
}

func hasArg(inv Invocation, flag string) bool {
	for _, a := range inv.Args {
		if a == flag || strings.HasPrefix(a, flag+"=") {
			return true
		}
	}
	return false
}

// acceptanceCleanup reads a job's steps on acc-* stacks: whether it
// deploys, destroys after that (or, for a cleanup job, at all) in a step
// that runs always(), and checks for leftovers with --purge-nonce after
// the destroy, always().
func (f *file) acceptanceCleanup(j *job, cleanupJob bool) (deployed, destroyed, swept bool) {
	for _, s := range j.Steps {
		for _, inv := range f.commands(&job{Env: j.Env, Steps: []step{s}}, nil) {
			cmd, stack := stackOf(inv)
			if !isAcceptanceStack(stack) {
				continue
			}
			switch cmd {
			case "deploy":
				deployed = true
			case "destroy":
				destroyed = (deployed || cleanupJob) && strings.Contains(s.If, "always()")
			case "leftovers":
				swept = destroyed && strings.Contains(s.If, "always()") && hasArg(inv, "--purge-nonce")
			}
		}
	}
	return deployed, destroyed, swept
}
