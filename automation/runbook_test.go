package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/mirror-dissonance/mirror-infra/internal/workflows"
	"github.com/mirror-dissonance/mirror-infra/spec"
	"github.com/mirror-dissonance/mirror-infra/stacks/stackconfig"
	"github.com/mirror-dissonance/mirror-infra/verify"
	"github.com/mirror-dissonance/mirror-infra/verify/target"
)

// The runbook, the workflows and the Oracle template may only use command
// lines the driver's help documents: the forms of commands() and the common
// flags of usage(). Identifiers here carry a runbook prefix because the test
// shares package main with the commands' own files.

// runbookDocs are the files whose `go run ./automation` lines are checked.
func runbookDocs(t *testing.T) []string {
	t.Helper()
	paths := []string{"../docs/operations.md", "../docs/examples/oracle-check.yml"}
	wf, err := filepath.Glob("../.github/workflows/*.yml")
	if err != nil {
		t.Fatal(err)
	}
	return append(paths, wf...)
}

// runbookFlag is one common flag of usage().
type runbookFlag struct {
	value bool     // takes a value (--markdown FILE)
	only  []string // commands it is limited to ("--from-env  verify, e2e, nonce: ...")
}

var (
	runbookFlagLine = regexp.MustCompile(`^  (--[a-z][a-z-]*)(?: ([A-Z]+))?\s{2,}(.*)$`)
	runbookOnlyList = regexp.MustCompile(`^([a-z0-9]+(?:, [a-z0-9]+)*):`)
	runbookExitLine = regexp.MustCompile(`^  ([0-9])  (.*)$`)
	// runbookDetailFlag finds a flag a help detail mentions, with what
	// shows it takes a value: "--allow-stateful NAME", "--approve <fp>";
	// "--install-plugins=false" is a boolean.
	runbookDetailFlag = regexp.MustCompile("(?:^|[\\s(`\"])(--[a-z][a-z-]*)(=[A-Za-z0-9]+|\\s+[A-Z]+\\b|\\s+<[a-z-]+>)?")
)

// runbookUsage parses the common flags and the exit codes out of usage().
func runbookUsage(t *testing.T) (flags map[string]runbookFlag, exits map[string]string) {
	t.Helper()
	var b strings.Builder
	usage(&b)
	flags, exits = map[string]runbookFlag{}, map[string]string{}
	section := ""
	sc := bufio.NewScanner(strings.NewReader(b.String()))
	for sc.Scan() {
		line := sc.Text()
		if line != "" && !strings.HasPrefix(line, " ") {
			section = line
			continue
		}
		switch {
		case strings.HasPrefix(section, "Common flags"):
			m := runbookFlagLine.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			f := runbookFlag{value: m[2] != ""}
			if o := runbookOnlyList.FindStringSubmatch(m[3]); o != nil {
				f.only = strings.Split(o[1], ", ")
			}
			flags[m[1]] = f
		case strings.HasPrefix(section, "Exit codes"):
			if m := runbookExitLine.FindStringSubmatch(line); m != nil {
				text := m[2]
				if i := strings.Index(text, " ("); i >= 0 {
					text = text[:i]
				}
				exits[m[1]] = text
			}
		}
	}
	if len(flags) == 0 || len(exits) == 0 {
		t.Fatalf("could not read the common flags (%d) or exit codes (%d) from usage()", len(flags), len(exits))
	}
	return flags, exits
}

// runbookApproval are the commands that apply a plan, the only ones where
// --yes and --approve mean something (usage: "approve the plan").
// unlock takes --yes to confirm removing a lock.
var runbookApproval = map[string]bool{"deploy": true, "destroy": true, "adopt": true, "unlock": true}

var runbookPlaceholder = regexp.MustCompile(`^(<[a-z-]+>|\$[A-Z_]+|\$\{[A-Z_]+\})$`)

// runbookCheck says whether args (the words after ./automation) are a form
// the help documents. stacks are the stack names with a settings file.
func runbookCheck(args []string, flags map[string]runbookFlag, stacks map[string]bool) error {
	if len(args) == 0 {
		return fmt.Errorf("no command or stack")
	}
	switch args[0] {
	case "help", "-h", "--help", "-help":
		if len(args) > 2 {
			return fmt.Errorf("help takes at most one command")
		}
		if len(args) == 2 {
			if _, ok := findCommand(args[1]); !ok && !runbookPlaceholder.MatchString(args[1]) {
				return fmt.Errorf("help for %q, which is not a command", args[1])
			}
		}
		return nil
	}
	c, ok := findCommand(args[0])
	rest := args[1:]
	if !ok {
		if strings.HasPrefix(args[0], "-") {
			return fmt.Errorf("flag %s before a command or stack", args[0])
		}
		// "automation <stack>" is the whole cycle.
		c, _ = findCommand("deploy")
		rest = args
	}

	// The synopsis: literal words, <placeholders> and flags with values.
	var want []string
	synFlags := map[string]bool{}
	syn := strings.Fields(c.args)
	for i := 0; i < len(syn); i++ {
		if strings.HasPrefix(syn[i], "--") {
			synFlags[syn[i]] = true
			i++ // its value
			continue
		}
		want = append(want, syn[i])
	}

	// Flags the command's own help documents ("help <command>"): lines
	// such as "  --allow-stateful NAME   ..." or "  --install-plugins=false ...".
	ownFlags := runbookOwnFlags(c.detail)

	var pos []string
	seen := map[string]bool{}
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		if !strings.HasPrefix(a, "-") {
			pos = append(pos, a)
			continue
		}
		name, inline, hasInline := strings.Cut(a, "=")
		seen[name] = true
		takesValue := false
		switch f, common := flags[name]; {
		case common:
			takesValue = f.value
			if len(f.only) > 0 && !containsString(f.only, c.name) {
				return fmt.Errorf("%s is documented only for %s, not %s", name, strings.Join(f.only, ", "), c.name)
			}
			if (name == "--yes" || name == "--approve") && !runbookApproval[c.name] {
				return fmt.Errorf("%s approves a plan; %s applies none", name, c.name)
			}
		case synFlags[name]:
			takesValue = true
		case hasKey(ownFlags, name):
			takesValue = ownFlags[name]
		default:
			return fmt.Errorf("flag %s is not in the help of %s", name, c.name)
		}
		switch {
		case takesValue && !hasInline:
			if i+1 >= len(rest) || strings.HasPrefix(rest[i+1], "--") {
				return fmt.Errorf("%s needs a value", name)
			}
			if name == "--from" && c.name == "rehearse" && rest[i+1] != "terraform" {
				return fmt.Errorf("rehearse --from %q is not a source (terraform)", rest[i+1])
			}
			if name == "--from" && c.name != "rehearse" && !regexp.MustCompile(`^([0-9]+|N|<[a-z-]+>)$`).MatchString(rest[i+1]) {
				return fmt.Errorf("--from %q is not a version number", rest[i+1])
			}
			i++
		case !takesValue && hasInline:
			return fmt.Errorf("%s takes no value, got %q", name, inline)
		}
	}
	for f := range synFlags {
		if !seen[f] {
			return fmt.Errorf("%s %s needs %s", c.name, c.args, f)
		}
	}
	if len(pos) != len(want) {
		return fmt.Errorf("%s takes %q, got %d word(s) %q", c.name, c.args, len(pos), pos)
	}
	for i, w := range want {
		if strings.HasPrefix(w, "<") {
			if !stacks[pos[i]] && !runbookPlaceholder.MatchString(pos[i]) {
				return fmt.Errorf("%q is not a stack with a Pulumi.<stack>.yaml", pos[i])
			}
			continue
		}
		if pos[i] != w {
			return fmt.Errorf("%s wants %q where it has %q", c.name, w, pos[i])
		}
	}
	return nil
}

// runbookOwnFlags maps each flag a help detail mentions to whether any
// mention shows it taking a value. Common and synopsis flags take precedence
// over this reading of prose.
func runbookOwnFlags(detail string) map[string]bool {
	out := map[string]bool{}
	for _, m := range runbookDetailFlag.FindAllStringSubmatch(detail, -1) {
		value := m[2] != "" && !strings.HasPrefix(m[2], "=")
		out[m[1]] = out[m[1]] || value
	}
	return out
}

func hasKey(m map[string]bool, k string) bool {
	_, ok := m[k]
	return ok
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func runbookStacks() map[string]bool {
	stacks := map[string]bool{}
	for _, s := range stackconfig.Available("..") {
		stacks[s] = true
	}
	return stacks
}

func TestRunbookCommandsAreDocumentedByHelp(t *testing.T) {
	flags, _ := runbookUsage(t)
	stacks := runbookStacks()
	if !stacks["staging"] || !stacks["production"] {
		t.Fatalf("expected Pulumi.staging.yaml and Pulumi.production.yaml, found %v", stacks)
	}
	used := map[string]int{}
	for _, path := range runbookDocs(t) {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("reading %s: %v", path, err)
		}
		invs := workflows.FindInvocations(string(b))
		if len(invs) == 0 {
			t.Errorf("%s: no go run ./automation command found", path)
		}
		for _, inv := range invs {
			if err := runbookCheck(inv.Args, flags, stacks); err != nil {
				t.Errorf("%s:%d: %q: %v", path, inv.Line, inv, err)
				continue
			}
			if path == "../docs/operations.md" {
				name := inv.Args[0]
				if _, ok := findCommand(name); !ok {
					name = "deploy"
					if strings.HasPrefix(inv.Args[0], "-") || inv.Args[0] == "help" {
						name = "help"
					}
				}
				used[name]++
			}
		}
	}
	// The runbook shows every command the driver has.
	for _, c := range commands() {
		if used[c.name] == 0 {
			t.Errorf("docs/operations.md never shows %q (%s)", c.name, c.summary)
		}
	}
	t.Logf("runbook command uses: %v", used)
}

func TestRunbookExitCodesMatchHelp(t *testing.T) {
	_, exits := runbookUsage(t)
	b, err := os.ReadFile("../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	codes := make([]string, 0, len(exits))
	for c := range exits {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	// Markdown may wrap a sentence anywhere.
	text := strings.Join(strings.Fields(string(b)), " ")
	for _, code := range codes {
		want := "`" + code + "` " + exits[code]
		if !strings.Contains(text, want) {
			t.Errorf("the runbook does not state exit code %s as the help does: want %q", code, want)
		}
	}
}

func TestRunbookHasNoneOfTheOriginalsScripts(t *testing.T) {
	b, err := os.ReadFile("../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ToLower(string(b))
	// The migration section hands the original's Terraform state over (SPEC
	// 3.2); everywhere else Terraform is the original's broken path.
	if i := strings.Index(text, "\n## migration: take over a terraform-managed account"); i >= 0 {
		rest := text[i+1:]
		end := len(rest)
		if j := strings.Index(rest[3:], "\n## "); j >= 0 {
			end = j + 3
		}
		text = text[:i] + rest[end:]
	}
	for _, bad := range []string{
		"terraform", "scripts/", "rotate-nonce", "verify-pitr", "update-continuous-backups",
		"aws_role_arn_staging", "ops_sns_topic_arn_staging", "aws_access_key_id", "aws_secret_access_key",
	} {
		if strings.Contains(text, bad) {
			t.Errorf("docs/operations.md mentions %q, which belongs to the original's broken path", bad)
		}
	}
}

// The checker itself must reject what the help does not document.
func TestRunbookCheckRejectsUndocumentedForms(t *testing.T) {
	flags, _ := runbookUsage(t)
	stacks := runbookStacks()
	tests := []struct {
		line string
		ok   bool
	}{
		{"staging --approve abc123 --non-interactive", true},
		{"deploy staging --yes", true},
		{"preview staging --json --markdown out.md", true},
		{"verify staging --from-env --markdown=out.md", true},
		{"nonce rotate staging --from 0", true},
		{"nonce rotate <stack> --from N", true},
		{"check $STACK", true},
		{"help destroy", true},
		{"help", true},
		{"help <command>", true},
		{"", false},
		{"help frobnicate", false},
		{"frobnicate staging extra", false},
		{"verify", false},
		{"verify staging production", false},
		{"verify qa", false},
		{"preview staging --from-env", false},
		{"verify staging --approve abc", false},
		{"check staging --yes", false},
		{"nonce rotate staging", false},
		{"nonce rotate staging --from latest", false},
		{"nonce staging --from 1", false},
		{"drift staging --refresh", false},
		{"destroy staging --allow-destroy mirror-dissonance-staging-consent", true},
		{"staging --allow-stateful mirror-dissonance-staging-consent --approve x", true},
		{"drift staging --allow-destroy x", false},
		{"destroy staging --allow-destroy", false},
		{"staging --approve", false},
		{"staging --json=true", false},
		{"--json staging", false},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			err := runbookCheck(strings.Fields(tt.line), flags, stacks)
			if (err == nil) != tt.ok {
				t.Errorf("runbookCheck(%q) = %v, want ok=%v", tt.line, err, tt.ok)
			}
		})
	}
}

// The MD_* overrides and stack output keys the runbook tells operators to use
// are the ones target and naming define.
func TestRunbookNamesExist(t *testing.T) {
	b, err := os.ReadFile("../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)

	known := map[string]bool{secretsProviderEnv: true} // the driver's own
	for _, ty := range []reflect.Type{reflect.TypeOf(target.Env{}), reflect.TypeOf(verify.EnvSettings{})} {
		for i := 0; i < ty.NumField(); i++ {
			tag := ty.Field(i).Tag.Get("env")
			if name, _, _ := strings.Cut(tag, ","); name != "" {
				known[target.EnvPrefix+name] = true
			}
		}
	}
	vars := regexp.MustCompile(`\b`+target.EnvPrefix+`[A-Z0-9_]+\b`).FindAllString(text, -1)
	if len(vars) == 0 {
		t.Fatal("the runbook shows no MD_* override; the PITR and nonce sections need them")
	}
	for _, v := range vars {
		if !known[v] {
			t.Errorf("the runbook uses %s, which neither target.Env nor verify.EnvSettings reads", v)
		}
	}

	for _, key := range []string{spec.OutDeployRoleArn, spec.OutPreviewRoleArn} {
		if !strings.Contains(text, "`"+key+"`") {
			t.Errorf("the runbook should name the stack output `%s` where it sets the role variables", key)
		}
	}
	// Generic names are written for "<env>", concrete ones for staging.
	generic, staging := spec.For("<env>"), spec.For("staging")
	for _, n := range []string{
		generic.Topic(), generic.Dashboard(),
		staging.DeployRole(), staging.PreviewRole(), staging.KeyAlias(),
		staging.NonceParameterPath(), staging.Table(spec.TableFPEvents),
	} {
		if !strings.Contains(text, n) {
			t.Errorf("the runbook does not use the SPEC name %s", n)
		}
	}
}

func TestRunbookOwnFlags(t *testing.T) {
	tests := []struct {
		name   string
		detail string
		want   map[string]bool
	}{
		{"none", "Not built yet.", map[string]bool{}},
		{"flag block", `Flags besides the common ones:
  --allow-stateful NAME   allow the plan to delete or replace this stateful
                          resource (table or key); repeat for each one
  --install-plugins=false do not try "pulumi plugin install"
  --secrets-provider URL  e.g. awskms://alias/... for a shared backend`,
			map[string]bool{"--allow-stateful": true, "--install-plugins": false, "--secrets-provider": true}},
		{"prose", "is not named with\n--allow-destroy NAME (repeat for each one)", map[string]bool{"--allow-destroy": true}},
		{"placeholder value", "production needs --approve <fingerprint>.", map[string]bool{"--approve": true}},
		{"boolean in prose", "INSUFFICIENT_DATA after --alarm-wait is WARN", map[string]bool{"--alarm-wait": false}},
		{"mentioned twice", "--approve, --yes or --approve FP", map[string]bool{"--approve": true, "--yes": false}},
		{"not a flag", "x--y and a-- b", map[string]bool{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := runbookOwnFlags(tt.detail); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("runbookOwnFlags = %v, want %v", got, tt.want)
			}
		})
	}
}
