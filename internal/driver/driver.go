// Package driver runs a Pulumi program through the Automation API the way
// the deploy needs it: select or create the stack, preview with a saved
// update plan, turn the preview's engine events into planned resources for
// the gate, fingerprint the plan for approval, apply exactly that plan, read
// outputs, detect drift and destroy under guard. It takes the program as a
// pulumi.RunFunc so tests can drive provider-free inline programs with the
// real CLI.
package driver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"gopkg.in/yaml.v3"

	"github.com/mirror-dissonance/mirror-infra/spec"
)

// Plugin is a Pulumi plugin the program needs, e.g. resource aws v6.83.4.
type Plugin struct {
	Kind    string // "resource"
	Name    string // "aws"
	Version string // "v6.83.4"
}

func (p Plugin) String() string { return fmt.Sprintf("%s plugin %s %s", p.Kind, p.Name, p.Version) }

// InstallCommand is the command a person runs to install the plugin.
func (p Plugin) InstallCommand() string {
	return fmt.Sprintf("pulumi plugin install %s %s %s", p.Kind, p.Name, p.Version)
}

// awsSDKModule is the Go module whose version pins the AWS provider plugin.
const awsSDKModule = "github.com/pulumi/pulumi-aws/sdk/v6"

// fallbackAWSVersion is used when build info is unavailable (go test
// binaries have it; stripped builds may not). Keep it equal to go.mod.
const fallbackAWSVersion = "v6.83.4"

// AWSPlugin is the AWS provider plugin at the version of the linked SDK, so
// the plugin can never drift from the SDK the program was compiled with.
func AWSPlugin() Plugin {
	v := fallbackAWSVersion
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, m := range bi.Deps {
			if m.Path == awsSDKModule {
				if m.Replace != nil {
					m = m.Replace
				}
				if strings.HasPrefix(m.Version, "v") {
					v = m.Version
				}
			}
		}
	}
	return Plugin{Kind: "resource", Name: "aws", Version: v}
}

// Settings say which stack of which project a Driver works on.
type Settings struct {
	// ProjectDir holds Pulumi.<stack>.yaml (and Pulumi.yaml).
	ProjectDir string
	// Stack is the stack name (staging, production, ...).
	Stack string
	// Program is the inline Pulumi program.
	Program pulumi.RunFunc
	// ProjectName defaults to spec.Project.
	ProjectName string
	// BackendURL defaults to PULUMI_BACKEND_URL, else backend.url of the
	// project's Pulumi.yaml, else a local file backend in
	// <ProjectDir>/.pulumi-state.
	BackendURL string
	// SecretsProvider defaults to the backend's default (passphrase for a
	// file or bucket backend); use awskms://... for shared backends.
	SecretsProvider string
	// CLIPath is the pulumi binary; default PULUMI_CLI_PATH, else
	// <module root>/bin/pulumi, found upward from ProjectDir.
	CLIPath string
	// PulumiHome overrides ~/.pulumi (plugins, credentials).
	PulumiHome string
	// WorkDir is where the driver keeps the workspace (Pulumi.yaml and the
	// stack settings the CLI reads); default <ProjectDir>/.pulumi-state/work/<stack>.
	WorkDir string
	// OutDir receives the saved plan and the change summaries; default
	// <ProjectDir>/out/<stack>.
	OutDir string
	// Plugins the program needs; checked before any preview.
	Plugins []Plugin
	// InstallPlugins tries `pulumi plugin install` for missing plugins.
	InstallPlugins bool
	// Progress receives engine events rendered as they arrive; nil for none.
	// When it is also a Waiter (a *report.Progress is both), each CLI step
	// shows as a wait with its elapsed time.
	Progress io.Writer
	// EnvVars are extra environment variables for the CLI.
	EnvVars map[string]string
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// CancelGrace is how long a cancelled (Ctrl-C) operation may take to
	// finish its in-flight resource operations before the CLI is killed;
	// default DefaultCancelGrace.
	CancelGrace time.Duration
	// ExistingOnly refuses to create the stack (ErrNoStack) when it does
	// not exist: reading outputs must not leave an empty stack behind.
	ExistingOnly bool
	// PreFlight runs after the preview and gate, before any approval or
	// apply; nil for none.
	PreFlight PreFlight
}

// Driver operates one stack.
type Driver struct {
	s     Settings
	ws    auto.Workspace
	stack auto.Stack
	log   *slog.Logger
}

// Errors callers map onto exit codes.
var (
	// ErrCLIMissing: the pulumi CLI was not found (exit 3; run `make tools`).
	ErrCLIMissing = errors.New("pulumi CLI not found")
	// ErrLocked: another update holds the stack's lock.
	ErrLocked = errors.New("stack is locked by another update")
	// ErrPlanMismatch: the program no longer matches the saved plan.
	ErrPlanMismatch = errors.New("the program's changes do not match the saved plan")
	// ErrFingerprint: the plan on disk is not the approved one.
	ErrFingerprint = errors.New("plan fingerprint does not match the approved fingerprint")
	// ErrNoStack: the stack does not exist on the backend (ExistingOnly).
	ErrNoStack = errors.New("no such stack")
	// ErrProtected: destroy would delete protected resources not named.
	ErrProtected = errors.New("protected resources would be destroyed")
)

// PluginMissingError says which plugin is missing and how to install it.
type PluginMissingError struct {
	Plugin     Plugin
	InstallErr error
}

func (e *PluginMissingError) Error() string {
	msg := fmt.Sprintf("the %s is not installed; install it with `%s` (needs network access to get.pulumi.com or GitHub)", e.Plugin, e.Plugin.InstallCommand())
	if e.InstallErr != nil {
		msg += fmt.Sprintf("; installing it automatically failed: %s", engineMessage(e.InstallErr.Error()))
	}
	return msg
}

// FindCLI returns the pulumi binary: explicit, PULUMI_CLI_PATH, or
// <module root>/bin/pulumi searched upward from dir.
func FindCLI(explicit, dir string) (string, error) {
	if explicit == "" {
		explicit = os.Getenv("PULUMI_CLI_PATH")
	}
	if explicit != "" {
		if fi, err := os.Stat(explicit); err != nil || fi.IsDir() {
			return "", fmt.Errorf("%w at %s (PULUMI_CLI_PATH); run `make tools` to build it", ErrCLIMissing, explicit)
		}
		return filepath.Abs(explicit)
	}
	d, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("resolving %s: %w", dir, err)
	}
	for {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			p := filepath.Join(d, "bin", "pulumi")
			if _, err := os.Stat(p); err != nil {
				return "", fmt.Errorf("%w: no %s; run `make tools` to build it (or set PULUMI_CLI_PATH)", ErrCLIMissing, p)
			}
			return p, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("%w: no go.mod above %s to find bin/pulumi; run `make tools` or set PULUMI_CLI_PATH", ErrCLIMissing, dir)
		}
		d = parent
	}
}

// pulumiCommand wraps the binary for the Automation API, which expects it
// at <root>/bin/pulumi.
func pulumiCommand(path string, grace time.Duration, afterKill func(pid int)) (auto.PulumiCommand, error) {
	if filepath.Base(filepath.Dir(path)) != "bin" || filepath.Base(path) != "pulumi" {
		return nil, fmt.Errorf("%w: the CLI must be at <dir>/bin/pulumi, got %s", ErrCLIMissing, path)
	}
	// NewPulumiCommand checks that the CLI runs and is recent enough.
	checked, err := auto.NewPulumiCommand(&auto.PulumiCommandOptions{Root: filepath.Dir(filepath.Dir(path))})
	if err != nil {
		return nil, fmt.Errorf("%w: running %s version: %v; run `make tools`", ErrCLIMissing, path, err)
	}
	return command{path: path, version: checked.Version(), grace: grace, afterKill: afterKill}, nil
}

// DefaultBackendURL is the backend when none is configured.
func DefaultBackendURL(projectDir string) string {
	return "file://" + filepath.ToSlash(filepath.Join(projectDir, ".pulumi-state"))
}

func (s *Settings) defaults() error {
	if s.ProjectDir == "" {
		return errors.New("driver settings: ProjectDir is empty")
	}
	abs, err := filepath.Abs(s.ProjectDir)
	if err != nil {
		return fmt.Errorf("resolving %s: %w", s.ProjectDir, err)
	}
	s.ProjectDir = abs
	if s.Stack == "" {
		return errors.New("driver settings: Stack is empty")
	}
	if s.Program == nil {
		return errors.New("driver settings: Program is nil")
	}
	if s.ProjectName == "" {
		s.ProjectName = spec.Project
	}
	if s.BackendURL == "" {
		s.BackendURL = os.Getenv("PULUMI_BACKEND_URL")
	}
	if s.BackendURL == "" {
		u, err := projectBackend(s.ProjectDir)
		if err != nil {
			return err
		}
		s.BackendURL = u
	}
	if s.BackendURL == "" {
		s.BackendURL = DefaultBackendURL(s.ProjectDir)
	}
	// A bad URL or parameter fails here, naming it, not late in the CLI.
	if _, err := ParseBackend(s.BackendURL); err != nil {
		return err
	}
	if err := CheckSecretsProvider(s.SecretsProvider); err != nil {
		return err
	}
	if s.WorkDir == "" {
		s.WorkDir = filepath.Join(s.ProjectDir, ".pulumi-state", "work", s.Stack)
	}
	if s.OutDir == "" {
		s.OutDir = filepath.Join(s.ProjectDir, "out", s.Stack)
	}
	if s.Logger == nil {
		s.Logger = slog.Default()
	}
	if s.CancelGrace <= 0 {
		s.CancelGrace = DefaultCancelGrace
		if os.Getenv("GITHUB_ACTIONS") == "true" {
			s.CancelGrace = CICancelGrace
		}
	}
	return nil
}

// projectBackend is backend.url of the project's Pulumi.yaml, if any.
func projectBackend(projectDir string) (string, error) {
	data, err := os.ReadFile(filepath.Join(projectDir, "Pulumi.yaml"))
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("reading the project file: %w", err)
	}
	var doc struct {
		Backend struct {
			URL string `yaml:"url"`
		} `yaml:"backend"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return "", fmt.Errorf("parsing %s: %w", filepath.Join(projectDir, "Pulumi.yaml"), err)
	}
	return doc.Backend.URL, nil
}

// Open checks the CLI and plugins, prepares the workspace and selects the
// stack, creating it when it does not exist.
func Open(ctx context.Context, s Settings) (*Driver, error) {
	if err := s.defaults(); err != nil {
		return nil, err
	}
	cliPath, err := FindCLI(s.CLIPath, s.ProjectDir)
	if err != nil {
		return nil, err
	}
	cmd, err := pulumiCommand(cliPath, s.CancelGrace, releaseLocksOf(s))
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(s.WorkDir, 0o755); err != nil {
		return nil, fmt.Errorf("creating work dir %s: %w", s.WorkDir, err)
	}
	if dir, ok := strings.CutPrefix(s.BackendURL, "file://"); ok {
		// The CLI refuses a file backend whose directory does not exist.
		if err := os.MkdirAll(filepath.FromSlash(dir), 0o755); err != nil {
			return nil, fmt.Errorf("creating the state directory %s: %w", dir, err)
		}
	}
	if err := writeStackSettings(s.ProjectDir, s.WorkDir, s.Stack); err != nil {
		return nil, err
	}
	env := map[string]string{
		"PULUMI_BACKEND_URL":                          s.BackendURL,
		"PULUMI_SKIP_UPDATE_CHECK":                    "true",
		"PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
	}
	_, hasPass := os.LookupEnv("PULUMI_CONFIG_PASSPHRASE")
	_, hasPassFile := os.LookupEnv("PULUMI_CONFIG_PASSPHRASE_FILE")
	_, setPass := s.EnvVars["PULUMI_CONFIG_PASSPHRASE"]
	_, setPassFile := s.EnvVars["PULUMI_CONFIG_PASSPHRASE_FILE"]
	passphraseProvider := s.SecretsProvider == "" || s.SecretsProvider == "passphrase"
	if passphraseProvider && !hasPass && !hasPassFile && !setPass && !setPassFile &&
		s.BackendURL == DefaultBackendURL(s.ProjectDir) {
		// The program keeps no secrets in state (nonces never enter it), so
		// the default local backend works without a passphrase; shared
		// backends must configure one or a KMS secrets provider.
		s.Logger.Warn("no PULUMI_CONFIG_PASSPHRASE set; the local state uses an empty passphrase")
		env["PULUMI_CONFIG_PASSPHRASE"] = ""
	}
	for k, v := range s.EnvVars {
		env[k] = v
	}
	opts := []auto.LocalWorkspaceOption{
		auto.WorkDir(s.WorkDir),
		auto.Pulumi(cmd),
		auto.Program(s.Program),
		auto.EnvVars(env),
		auto.Project(workspace.Project{
			Name:    tokens.PackageName(s.ProjectName),
			Runtime: workspace.NewProjectRuntimeInfo("go", nil),
		}),
	}
	if s.PulumiHome != "" {
		opts = append(opts, auto.PulumiHome(s.PulumiHome))
	}
	if s.SecretsProvider != "" {
		opts = append(opts, auto.SecretsProvider(s.SecretsProvider))
	}
	ws, err := auto.NewLocalWorkspace(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("creating the workspace in %s: %w", s.WorkDir, err)
	}
	d := &Driver{s: s, ws: ws, log: s.Logger}
	if err := d.checkPlugins(ctx); err != nil {
		return nil, err
	}
	st, err := auto.SelectStack(ctx, s.Stack, ws)
	if err != nil {
		if !auto.IsSelectStack404Error(err) && !strings.Contains(err.Error(), "no stack named") {
			return nil, fmt.Errorf("selecting stack %s on %s: %w", s.Stack, redactURL(s.BackendURL), err)
		}
		if s.ExistingOnly {
			return nil, fmt.Errorf("%w: %s on %s; deploy it first", ErrNoStack, s.Stack, redactURL(s.BackendURL))
		}
		st, err = auto.NewStack(ctx, s.Stack, ws)
		if err != nil {
			return nil, fmt.Errorf("creating stack %s on %s: %w", s.Stack, redactURL(s.BackendURL), err)
		}
		s.Logger.Info("created stack", "stack", s.Stack)
	}
	d.stack = st
	return d, nil
}

// checkPlugins fails fast, before any preview, when a needed plugin is
// missing: the engine would otherwise fail late (or try to download).
func (d *Driver) checkPlugins(ctx context.Context) error {
	if len(d.s.Plugins) == 0 {
		return nil
	}
	installed, err := d.ws.ListPlugins(ctx)
	if err != nil {
		return fmt.Errorf("listing installed plugins: %w", err)
	}
	for _, p := range d.s.Plugins {
		if hasPlugin(installed, p) || servedByDebugProvider(p, d.s.EnvVars) {
			continue
		}
		var installErr error
		if d.s.InstallPlugins {
			d.log.Info("installing plugin", "plugin", p.String())
			if installErr = d.ws.InstallPlugin(ctx, p.Name, p.Version); installErr == nil {
				continue
			}
		}
		return &PluginMissingError{Plugin: p, InstallErr: installErr}
	}
	return nil
}

func hasPlugin(installed []workspace.PluginInfo, p Plugin) bool {
	for _, i := range installed {
		if i.Name != p.Name || string(i.Kind) != p.Kind {
			continue
		}
		if i.Version != nil && "v"+i.Version.String() == p.Version {
			return true
		}
	}
	return false
}

// stackFileKeysKept are the keys the CLI writes into the work dir's stack
// settings (the passphrase salt, an encrypted data key); they survive
// re-copying the project's config.
var stackFileKeysKept = []string{"encryptionsalt", "encryptedkey", "secretsprovider"}

// writeStackSettings copies the project's Pulumi.<stack>.yaml into the work
// dir, keeping the CLI's encryption settings there, so the committed file
// is never modified by the CLI.
func writeStackSettings(projectDir, workDir, stack string) error {
	src := filepath.Join(projectDir, "Pulumi."+stack+".yaml")
	data, err := os.ReadFile(src)
	if err != nil {
		return fmt.Errorf("reading stack settings %s: %w", src, err)
	}
	doc := map[string]any{}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("parsing %s: %w", src, err)
	}
	if doc == nil {
		doc = map[string]any{}
	}
	dst := filepath.Join(workDir, "Pulumi."+stack+".yaml")
	if old, err := os.ReadFile(dst); err == nil {
		prev := map[string]any{}
		if yaml.Unmarshal(old, &prev) == nil {
			for _, k := range stackFileKeysKept {
				if v, ok := prev[k]; ok {
					if _, own := doc[k]; !own {
						doc[k] = v
					}
				}
			}
		}
	}
	out, err := yaml.Marshal(doc)
	if err != nil {
		return fmt.Errorf("encoding stack settings for %s: %w", stack, err)
	}
	if err := os.WriteFile(dst, out, 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", dst, err)
	}
	return nil
}

// Stack returns the stack name.
func (d *Driver) Stack() string { return d.s.Stack }

// Settings returns the effective settings.
func (d *Driver) Settings() Settings { return d.s }

// Outputs returns the stack's outputs as plain values (secrets included:
// this program has none, and callers must not print them).
func (d *Driver) Outputs(ctx context.Context) (map[string]any, error) {
	om, err := d.stack.Outputs(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading outputs of stack %s: %w", d.s.Stack, classify(err))
	}
	out := make(map[string]any, len(om))
	for k, v := range om {
		out[k] = v.Value
	}
	return out, nil
}

// Outputs opens the existing stack of projectDir with the default settings
// (backend from PULUMI_BACKEND_URL or the project's local one, CLI from
// PULUMI_CLI_PATH or bin/pulumi) and returns its outputs; the verify, e2e
// and nonce commands use it. A stack that does not exist is ErrNoStack.
func Outputs(ctx context.Context, projectDir, stack string) (map[string]any, error) {
	d, err := Open(ctx, Settings{ProjectDir: projectDir, Stack: stack, ExistingOnly: true,
		Program: func(*pulumi.Context) error { return nil }})
	if err != nil {
		return nil, err
	}
	return d.Outputs(ctx)
}

// classify maps CLI failures onto the driver's sentinel errors, keeping the
// original text.
func classify(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if pe := protectedReplaceOf(msg, err); pe != nil {
		return pe
	}
	switch {
	case strings.Contains(msg, "currently locked") || auto.IsConcurrentUpdateError(err):
		return lockedError(msg)
	case strings.Contains(msg, "violates plan") || strings.Contains(msg, "not allowed by the plan") ||
		strings.Contains(msg, "no plan for resource") || strings.Contains(msg, "Expected a new resource plan"):
		return fmt.Errorf("%w: preview again and get the new plan approved: %s", ErrPlanMismatch, engineMessage(msg))
	}
	return err
}

// engineMessage extracts the CLI's error lines from an Automation API error
// (which embeds whole stdout/stderr).
func engineMessage(msg string) string {
	var lines []string
	for _, l := range strings.Split(msg, "\n") {
		t := strings.TrimSpace(l)
		if i := strings.Index(t, "error:"); i >= 0 {
			// The progress display prefixes the resource: keep it.
			rest := strings.TrimSpace(t[i+len("error:"):])
			if pre := strings.TrimSpace(t[:i]); pre != "" {
				rest = pre + ": " + rest
			}
			t = rest
		} else if !strings.Contains(t, "violates plan") && !strings.Contains(t, "not allowed by the plan") {
			continue
		}
		if t != "" && !contains(lines, t) {
			lines = append(lines, t)
		}
	}
	if len(lines) == 0 {
		return firstLine(msg)
	}
	// Drop a line another one repeats with its resource prefix.
	var out []string
	for _, l := range lines {
		repeated := false
		for _, m := range lines {
			if m != l && strings.HasSuffix(m, ": "+l) {
				repeated = true
			}
		}
		if !repeated {
			out = append(out, l)
		}
	}
	return strings.Join(out, "; ")
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// redactURL drops credentials a backend URL might carry.
func redactURL(u string) string {
	if i := strings.Index(u, "@"); i >= 0 {
		if j := strings.Index(u, "://"); j >= 0 && j < i {
			return u[:j+3] + "***" + u[i:]
		}
	}
	return u
}
