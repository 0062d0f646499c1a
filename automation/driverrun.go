package main

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/mirror-dissonance/mirror-infra/internal/driver"
	"github.com/mirror-dissonance/mirror-infra/internal/gate"
	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/stacks"
	"github.com/mirror-dissonance/mirror-infra/stacks/stackconfig"
)

// engineTimeout bounds a preview or a refresh: the CLI runs the program
// and reads every resource.
const engineTimeout = 30 * time.Minute

// driverFlags are the flags of the commands that run the pulumi CLI.
type driverFlags struct {
	installPlugins  bool
	secretsProvider string
}

func (f *driverFlags) add(c *cobra.Command, env environ) {
	c.Flags().BoolVar(&f.installPlugins, "install-plugins", true, "install a missing plugin through the workspace (pulumi plugin install); =false: fail at once, naming how to install it")
	c.Flags().StringVar(&f.secretsProvider, "secrets-provider", env.get(secretsProviderEnv), "state secrets provider `URL`, e.g. awskms://alias/<name>?region=<region> (default $"+secretsProviderEnv+", else the backend's passphrase)")
}

// settings are the driver settings of every command that runs the CLI;
// preflight, when set, checks the planned creates against the account.
func (f driverFlags) settings(dir, stack string, progress io.Writer, existingOnly bool, preflight driver.PreFlight) driver.Settings {
	return driver.Settings{
		PreFlight:       preflight,
		ProjectDir:      dir,
		Stack:           stack,
		Program:         stacks.Program,
		SecretsProvider: f.secretsProvider,
		Plugins:         []driver.Plugin{driver.AWSPlugin()},
		InstallPlugins:  f.installPlugins,
		Progress:        progress,
		ExistingOnly:    existingOnly,
	}
}

// stackRun is one stack a driver command acts on.
type stackRun struct {
	stack    string
	dir      string
	cfg      stackconfig.Config
	approval driver.Approval
	// progress is where the engine's events go (a multi-stack deploy
	// prefixes each line with the stack).
	progress io.Writer
}

// openDriver opens s with the real program. A stack that was never
// deployed is bad usage when existingOnly.
func (a *app) openDriver(ctx context.Context, f driverFlags, s stackRun, existingOnly bool, preflight driver.PreFlight) (*driver.Driver, error) {
	d, err := driver.Open(ctx, f.settings(s.dir, s.stack, s.progress, existingOnly, preflight))
	if errors.Is(err, driver.ErrNoStack) {
		return nil, asUsage(err)
	}
	return d, err
}

// approval is the deploy rules of SPEC 5 for a stack of cfg; prompt is
// false when several stacks run at once (they cannot share a terminal).
func (f approvalFlags) approval(a *app, cfg stackconfig.Config, prompt bool, out io.Writer) driver.Approval {
	return driver.Approval{
		Production:  cfg.Environment == "production",
		Yes:         f.yes,
		Fingerprint: f.fingerprintFor(cfg.Stack),
		Interactive: prompt && !f.nonInteractive,
		In:          a.io.in,
		Out:         out,
	}
}

// cycleOptions are the deploy cycle's options for one stack.
func cycleOptions(s stackRun, allow []string, postUp []driver.Hook) driver.CycleOptions {
	return driver.CycleOptions{
		Gate:        gate.Evaluate,
		GateOptions: gate.OptionsFor(s.cfg, allow),
		Approval:    s.approval,
		PostUp:      postUp,
		Summary:     s.progress,
	}
}

// driverCommand opens the one stack of a driver command and runs body
// with its report; an engine failure while opening is a FAIL in the
// report (exit 3), as every later one.
func (a *app) driverCommand(ctx context.Context, c *cobra.Command, name, stack string, f driverFlags, existingOnly bool,
	preflight func(stackconfig.Config) driver.PreFlight, body func(d *driver.Driver, s stackRun, r *report.Report)) (*report.Report, error) {
	cfg, dir, err := stackOf(c, stack)
	if err != nil {
		return nil, err
	}
	if err := a.requirePassphrase(f.secretsProvider); err != nil {
		return nil, err
	}
	s := stackRun{stack: stack, dir: dir, cfg: cfg, progress: progressTo(a.io.err)}
	r := &report.Report{Command: name, Stack: stack, Started: time.Now()}
	var pre driver.PreFlight
	if preflight != nil {
		pre = preflight(cfg)
	}
	d, err := a.openDriver(ctx, f, s, existingOnly, pre)
	if err != nil {
		var ue *usageError
		if errors.As(err, &ue) {
			return nil, err
		}
		r.Add(driver.ErrorCheck("preview", err))
	} else {
		body(d, s, r)
	}
	r.Elapsed = time.Since(r.Started).Round(time.Millisecond).String()
	return r, nil
}
