package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/mirror-dissonance/mirror-infra/stacks/stackconfig"
)

// rootName is how the help spells the program.
const rootName = "go run ./automation"

// exitCodesHelp is the exit-code table of the help (and of the runbook).
const exitCodesHelp = `Exit codes:
  0  success
  1  a gate or check failed
  2  bad usage or configuration (before any cloud call)
  3  the engine or the cloud failed (also a deadline or a bound hit, or a crash)
`

const rootIntro = `automation: deploy and prove the Mirror Dissonance infrastructure.

Usage:
  go run ./automation <stack> [flags]           the whole cycle (same as "deploy <stack>"), for a stack with a Pulumi.<stack>.yaml
  go run ./automation <command> <stack> [flags]
  go run ./automation deploy <stack> <stack>... [--parallel N] | --stacks a,b | --all
  go run ./automation help <command>            flags and details of one command
  go run ./automation completion bash|zsh|fish  shell completion (commands, stack names, check ids)

<stack> is staging, production or any stack with a Pulumi.<stack>.yaml in
the project directory. Flags go before or after the stack, as --flag value
or --flag=value.
`

const rootOutro = `AWS endpoint and credentials come from the SDK's standard sources (profiles,
web identity, AWS_ENDPOINT_URL), so the same commands run against AWS or an
emulator. PULUMI_BACKEND_URL selects the state backend (default: a local
file backend under .pulumi-state in the project); a team shares
s3://<bucket>/<prefix>?region=<region> with --secrets-provider
awskms://alias/<name>?region=<region> (docs/operations.md). With a
passphrase secrets provider (the default), PULUMI_CONFIG_PASSPHRASE or
PULUMI_CONFIG_PASSPHRASE_FILE must be set.
`

// newRootCmd builds the command tree; each command's constructor is in
// its cmd_<name>.go.
func newRootCmd(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:           "automation",
		SilenceErrors: true,
		SilenceUsage:  true,
		// Suggestions for a mistyped command (cobra sets it only on its
		// own error path).
		SuggestionsMinimumDistance: 2,
		// Stack names and check ids complete; Pulumi.*.yaml files are the stacks.
		CompletionOptions: cobra.CompletionOptions{HiddenDefaultCmd: false},
	}
	root.SetOut(a.io.out)
	root.SetErr(a.io.err)
	root.SetIn(a.io.in)
	root.PersistentFlags().String("project-dir", "", "the `DIR` holding Pulumi.yaml (default: found upward from the working directory)")
	root.AddCommand(
		newCmdDeploy(a),
		a.register(previewSpec, &previewOptions{}),
		a.register(checkSpec, &checkOptions{}),
		a.register(verifySpec, &verifyOptions{}),
		a.register(e2eSpec, &e2eOptions{}),
		newCmdNonce(a),
		a.register(driftSpec, &driftOptions{}),
		a.register(destroySpec, &destroyOptions{}),
		a.register(rehearseSpec, &rehearseOptions{}),
		a.register(adoptSpec, &adoptOptions{}),
		a.register(unlockSpec, &unlockOptions{}),
		a.register(leftoversSpec, &leftoversOptions{}),
		a.register(restoreSpec, &restoreOptions{}),
		a.register(drillSpec, &drillOptions{}),
	)
	// cobra adds "completion" when it runs; adding it now puts it in the
	// help and in the runbook's check of the command tree.
	root.InitDefaultCompletionCmd()
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		a.cmd = c
		return &usageError{msg: err.Error(), syntax: true}
	})
	root.SetHelpFunc(func(c *cobra.Command, _ []string) {
		if !c.HasParent() {
			a.printRootHelp(c, c.OutOrStdout())
			return
		}
		commandHelp(c.OutOrStdout(), c)
	})
	root.SetHelpCommand(&cobra.Command{
		Use:   "help [command]",
		Short: "flags and details of one command",
		Args:  cobra.ArbitraryArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				a.printRootHelp(root, a.io.out)
				return nil
			}
			found, rest, err := root.Find(args)
			if err != nil || len(rest) > 0 || found == root {
				return &usageError{msg: fmt.Sprintf("no command %q%s", strings.Join(args, " "), didYouMean(root.SuggestionsFor(args[len(args)-1])))}
			}
			commandHelp(a.io.out, found)
			return nil
		},
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return commandNames(root), cobra.ShellCompDirectiveNoFileComp
		},
	})
	return root
}

// stackArgs accepts exactly one stack name, completed from Pulumi.*.yaml.
func (a *app) stackArgs(cmd *cobra.Command) {
	cmd.Args = func(c *cobra.Command, args []string) error {
		a.cmd = c
		switch len(args) {
		case 1:
			return nil
		case 0:
			return syntaxErrorf("want exactly one stack name (a Pulumi.<stack>.yaml), got none")
		}
		return syntaxErrorf("want exactly one stack name, got %d: %s", len(args), strings.Join(args, " "))
	}
	cmd.ValidArgsFunction = completeStacks
}

// completeStacks offers the project's stack names.
func completeStacks(c *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 && c.Name() != "deploy" {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	pd, _ := c.Flags().GetString("project-dir")
	dir, err := projectDir(pd)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return stackconfig.Available(dir), cobra.ShellCompDirectiveNoFileComp
}

// projectDirOf is the --project-dir of the command being run.
func projectDirOf(c *cobra.Command) (string, error) {
	v, _ := c.Flags().GetString("project-dir")
	return projectDir(v)
}

func stackExists(dir, stack string) bool {
	if stack == "" || strings.ContainsAny(stack, `/\`) || strings.HasPrefix(stack, ".") {
		return false
	}
	st, err := os.Stat(filepath.Join(dir, "Pulumi."+stack+".yaml"))
	return err == nil && !st.IsDir()
}

func isHelpFlag(s string) bool { return s == "-h" || s == "--help" || s == "-help" }

// isCommand reports whether name is one of root's commands (or cobra's own).
func isCommand(root *cobra.Command, name string) bool {
	if name == "help" || strings.HasPrefix(name, "__complete") {
		return true
	}
	for _, c := range root.Commands() {
		if c.Name() == name || slices.Contains(c.Aliases, name) {
			return true
		}
	}
	return false
}

func commandNames(root *cobra.Command) []string {
	var out []string
	for _, c := range root.Commands() {
		if c.IsAvailableCommand() && c.Name() != "help" {
			out = append(out, c.Name())
		}
	}
	return out
}

// unknownCommand is the error for a first word that is neither a command
// nor an existing stack: a mistyped "verify" must never become a deploy.
func unknownCommand(root *cobra.Command, dir, name string) error {
	sugg := root.SuggestionsFor(name)
	if dir != "" {
		for _, s := range stackconfig.Available(dir) {
			if distance(name, s) <= 2 || strings.HasPrefix(s, name) {
				sugg = append(sugg, s)
			}
		}
	}
	where := "the project directory"
	if dir != "" {
		where = dir
	}
	return usageErrorf("%q is neither a command nor a stack: no Pulumi.%s.yaml in %s%s; run \"%s help\" for the commands",
		name, name, where, didYouMean(sugg), rootName)
}

func didYouMean(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return " (did you mean " + strings.Join(s, " or ") + "?)"
}

// distance is the Levenshtein distance of a and b (for suggestions).
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// synopsis is a command's path after the program with its arguments:
// "nonce rotate <stack> --from N".
func synopsis(c *cobra.Command) string {
	path := strings.TrimPrefix(c.CommandPath(), c.Root().CommandPath()+" ")
	_, args, _ := strings.Cut(c.Use, " ")
	return strings.TrimSpace(path + " " + args)
}

// leafCommands are the commands that run (nonce's subcommands, not nonce).
func leafCommands(root *cobra.Command) []*cobra.Command {
	var out []*cobra.Command
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, s := range c.Commands() {
			if !s.IsAvailableCommand() || s.Name() == "help" || s.Name() == "completion" {
				continue
			}
			if s.HasSubCommands() {
				walk(s)
				continue
			}
			out = append(out, s)
		}
	}
	walk(root)
	return out
}

// printRootHelp is the overview: the commands and the flags several share,
// generated from the command tree.
func (a *app) printRootHelp(root *cobra.Command, w io.Writer) {
	var b strings.Builder
	b.WriteString(rootIntro)
	b.WriteString("\nCommands:\n")
	leaves := leafCommands(root)
	width := 0
	for _, c := range leaves {
		width = max(width, len(synopsis(c)))
	}
	for _, c := range leaves {
		fmt.Fprintf(&b, "  %-*s  %s\n", width, synopsis(c), c.Short)
	}
	b.WriteString("\nFlags several commands share (each command's help lists its own):\n")
	type shared struct {
		f       *pflag.Flag
		cmds    []string
		differs bool
	}
	byName := map[string]*shared{}
	for _, c := range leaves {
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			s := byName[f.Name]
			if s == nil {
				s = &shared{f: f}
				byName[f.Name] = s
			}
			s.differs = s.differs || f.Usage != s.f.Usage || f.DefValue != s.f.DefValue
			s.cmds = append(s.cmds, strings.TrimPrefix(c.CommandPath(), root.CommandPath()+" "))
		})
	}
	var names []string
	for n, s := range byName {
		if len(s.cmds) > 1 {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		s := byName[n]
		name, usage := pflag.UnquoteUsage(s.f)
		if s.differs {
			usage = "its meaning and default differ by command: see " + rootName + " help <command>"
		}
		flag := "--" + n
		if name != "" {
			flag += " " + name
		}
		which := "every command"
		if len(s.cmds) < len(leaves) {
			which = strings.Join(s.cmds, ", ")
		}
		fmt.Fprintf(&b, "  %-22s %s\n  %-22s (%s)\n", flag, usage, "", which)
	}
	_, pdUsage := pflag.UnquoteUsage(root.PersistentFlags().Lookup("project-dir"))
	fmt.Fprintf(&b, "  %-22s %s\n  %-22s (every command)\n", "--project-dir DIR", pdUsage, "")
	b.WriteString("\n" + rootOutro + "\n" + exitCodesHelp)
	_, _ = io.WriteString(w, b.String())
}

// commandHelp is one command's help: its synopsis, summary, paragraph and
// the flags it defines (nothing else: a flag it ignores cannot appear).
func commandHelp(w io.Writer, c *cobra.Command) {
	fmt.Fprintf(w, "Usage: %s %s [flags]\n\n%s\n", rootName, synopsis(c), c.Short)
	if c.Long != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(c.Long))
	}
	if c.HasAvailableSubCommands() {
		fmt.Fprintf(w, "\nCommands:\n")
		for _, s := range c.Commands() {
			if s.IsAvailableCommand() {
				fmt.Fprintf(w, "  %-32s %s\n", synopsis(s), s.Short)
			}
		}
	}
	fmt.Fprintf(w, "\nFlags:\n%s", flagUsages(c))
}

// usageBlock follows a usage error: the synopsis and the flags.
func usageBlock(c *cobra.Command) string {
	return fmt.Sprintf("Usage: %s %s [flags]\n\nFlags:\n%s\nRun \"%s help %s\" for the details.\n",
		rootName, synopsis(c), flagUsages(c), rootName, strings.TrimPrefix(c.CommandPath(), c.Root().CommandPath()+" "))
}

func flagUsages(c *cobra.Command) string {
	fs := pflag.NewFlagSet(c.Name(), pflag.ContinueOnError)
	fs.SortFlags = false
	fs.AddFlagSet(c.LocalFlags())
	fs.AddFlagSet(c.InheritedFlags())
	return fs.FlagUsagesWrapped(100)
}
