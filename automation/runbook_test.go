package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/mirror-dissonance/mirror-infra/internal/mockrun"
	"github.com/mirror-dissonance/mirror-infra/internal/workflows"
	"github.com/mirror-dissonance/mirror-infra/spec"
	"github.com/mirror-dissonance/mirror-infra/stacks/stackconfig"
	"github.com/mirror-dissonance/mirror-infra/verify"
	"github.com/mirror-dissonance/mirror-infra/verify/target"
)

// The runbook, the workflows and the Oracle template may only use command
// lines the driver accepts and its help documents: the help is generated
// from the same command tree and flag sets this test reads. Identifiers here carry a runbook prefix because the test
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

var (
	runbookExitLine    = regexp.MustCompile(`^  ([0-9])  (.*)$`)
	runbookPlaceholder = regexp.MustCompile(`^(<[a-z-]+>|\$[A-Z_]+|\$\{[A-Z_]+\})$`)
)

// runbookRoot is the command tree the help is generated from.
func runbookRoot() *cobra.Command {
	return newRootCmd(newApp(stdio{}, environ{}, deps{}))
}

// runbookExits parses the exit codes out of the help's table.
func runbookExits(t *testing.T) map[string]string {
	t.Helper()
	exits := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(exitCodesHelp))
	for sc.Scan() {
		if m := runbookExitLine.FindStringSubmatch(sc.Text()); m != nil {
			text := m[2]
			if i := strings.Index(text, " ("); i >= 0 {
				text = text[:i]
			}
			exits[m[1]] = text
		}
	}
	if len(exits) == 0 {
		t.Fatal("could not read the exit codes from the help")
	}
	return exits
}

// runbookFind is the command args name (descending into subcommands) and
// the words after it; "automation <stack>" is a deploy.
func runbookFind(root *cobra.Command, args []string) (*cobra.Command, []string, error) {
	c, rest := root, args
	for len(rest) > 0 {
		var next *cobra.Command
		for _, s := range c.Commands() {
			if s.Name() == rest[0] {
				next = s
			}
		}
		if next == nil {
			break
		}
		c, rest = next, rest[1:]
	}
	if c == root {
		if strings.HasPrefix(args[0], "-") {
			return nil, nil, fmt.Errorf("flag %s before a command or stack", args[0])
		}
		deploy, _, _ := root.Find([]string{"deploy"})
		return deploy, args, nil
	}
	return c, rest, nil
}

// runbookCheck says whether args (the words after ./automation) are a form
// the command tree accepts: the command exists, every flag is one the
// command defines (so its help lists it), with a value exactly when it
// takes one, the flags its synopsis requires are there, and the
// positional words match the synopsis. stacks are the stack names with a
// settings file.
func runbookCheck(args []string, root *cobra.Command, stacks map[string]bool) error {
	if len(args) == 0 {
		return fmt.Errorf("no command or stack")
	}
	switch args[0] {
	case "help", "-h", "--help", "-help":
		if len(args) > 2 {
			return fmt.Errorf("help takes at most one command")
		}
		if len(args) == 2 && !isCommand(root, args[1]) && !runbookPlaceholder.MatchString(args[1]) {
			return fmt.Errorf("help for %q, which is not a command", args[1])
		}
		return nil
	}
	c, rest, err := runbookFind(root, args)
	if err != nil {
		return err
	}
	if c.HasSubCommands() {
		return fmt.Errorf("%s needs one of its commands (%s)", c.Name(), strings.Join(commandNames(c), ", "))
	}
	// The synopsis: literal words, <placeholders> and required flags.
	var want []string
	required := map[string]bool{}
	_, syn, _ := strings.Cut(c.Use, " ")
	fields := strings.Fields(syn)
	for i := 0; i < len(fields); i++ {
		if strings.HasPrefix(fields[i], "--") {
			required[fields[i]] = true
			i++ // its value
			continue
		}
		want = append(want, fields[i])
	}
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
		f := c.Flags().Lookup(strings.TrimPrefix(name, "--"))
		if f == nil {
			f = c.InheritedFlags().Lookup(strings.TrimPrefix(name, "--"))
		}
		if f == nil || !strings.HasPrefix(name, "--") {
			return fmt.Errorf("flag %s is not a flag of %s", name, c.CommandPath())
		}
		takesValue := f.NoOptDefVal == ""
		switch {
		case takesValue && !hasInline:
			if i+1 >= len(rest) || strings.HasPrefix(rest[i+1], "--") {
				return fmt.Errorf("%s needs a value", name)
			}
			if name == "--from" && c.Name() == "rehearse" && rest[i+1] != "terraform" {
				return fmt.Errorf("rehearse --from %q is not a source (terraform)", rest[i+1])
			}
			if name == "--from" && c.Name() != "rehearse" && !regexp.MustCompile(`^([0-9]+|N|<[a-z-]+>)$`).MatchString(rest[i+1]) {
				return fmt.Errorf("--from %q is not a version number", rest[i+1])
			}
			i++
		case !takesValue && hasInline && inline != "false":
			// --install-plugins=false is the only way to turn a default
			// true off; --json=true is noise.
			return fmt.Errorf("%s takes no value, got %q", name, inline)
		}
	}
	for f := range required {
		if !seen[f] {
			return fmt.Errorf("%s needs %s", synopsis(c), f)
		}
	}
	if len(pos) != len(want) {
		return fmt.Errorf("%s takes %q, got %d word(s) %q", c.Name(), syn, len(pos), pos)
	}
	for i, w := range want {
		if strings.HasPrefix(w, "<") {
			if !stacks[pos[i]] && !runbookPlaceholder.MatchString(pos[i]) {
				return fmt.Errorf("%q is not a stack with a Pulumi.<stack>.yaml", pos[i])
			}
			continue
		}
		if pos[i] != w {
			return fmt.Errorf("%s wants %q where it has %q", c.Name(), w, pos[i])
		}
	}
	return nil
}

func runbookStacks() map[string]bool {
	stacks := map[string]bool{}
	for _, s := range stackconfig.Available("..") {
		stacks[s] = true
	}
	return stacks
}

func TestRunbookCommandsAreDocumentedByHelp(t *testing.T) {
	root := runbookRoot()
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
			if err := runbookCheck(inv.Args, root, stacks); err != nil {
				t.Errorf("%s:%d: %q: %v", path, inv.Line, inv, err)
				continue
			}
			if path == "../docs/operations.md" {
				name := inv.Args[0]
				if !isCommand(root, name) {
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
	for _, c := range root.Commands() {
		if c.IsAvailableCommand() && c.Name() != "help" && c.Name() != "completion" && used[c.Name()] == 0 {
			t.Errorf("docs/operations.md never shows %q (%s)", c.Name(), c.Short)
		}
	}
	t.Logf("runbook command uses: %v", used)
}

func TestRunbookExitCodesMatchHelp(t *testing.T) {
	exits := runbookExits(t)
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
	root := runbookRoot()
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
		{"preview staging --install-plugins=false", true},
		{"verify staging --non-interactive", false},
		{"nonce check-rotation staging --from 1", false},
		{"nonce staging", false},
		{"--json staging", false},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			err := runbookCheck(strings.Fields(tt.line), root, stacks)
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

// The runbook's resource count is the program's: the mock run of staging
// plans exactly the number the runbook states.
func TestRunbookResourceCountIsTheProgram(t *testing.T) {
	doc, err := os.ReadFile("../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`A fresh staging environment is ([0-9]+) AWS resources`).FindSubmatch(doc)
	if m == nil {
		t.Fatal("docs/operations.md no longer states the staging resource count")
	}
	cfg, err := stackconfig.Load("..", "staging")
	if err != nil {
		t.Fatal(err)
	}
	res, err := mockrun.Run(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(len(res.AWSResources())); got != string(m[1]) {
		t.Errorf("the runbook says %s AWS resources, the program plans %s for staging", m[1], got)
	}
}
