package target

import (
	"cmp"
	"context"
	"errors"
	"fmt"

	"github.com/sethvargo/go-envconfig"

	"github.com/mirror-dissonance/mirror-infra/spec"
)

// ErrOutputs wraps a failure to read a stack's outputs: the engine or the
// backend failed (exit 3), unlike ErrInvalid (exit 2).
var ErrOutputs = errors.New("reading the stack outputs")

// Source says where a command's target comes from; Resolve reads it.
type Source struct {
	// Stack names the stack in errors.
	Stack string
	// Environment and Region are the stack configuration's
	// (stackconfig.Config.Environment and .Region).
	Environment, Region string
	// FromEnv takes the SPEC naming of Environment plus MD_* overrides;
	// otherwise Outputs is read.
	FromEnv bool
	// Outputs reads the stack's outputs (e.g. driver.Outputs for the
	// stack); required unless FromEnv.
	Outputs func(context.Context) (map[string]any, error)
	// Lookuper reads the MD_* variables; nil is the process environment.
	Lookuper envconfig.Lookuper
	// Writes says the command writes into the target (e2e, nonce
	// rotate); production is then refused unless AllowProduction (the
	// command's --allow-production) is set.
	Writes, AllowProduction bool
}

// Resolve is the one target resolution of every command: the stack's
// outputs (with MD_VERIFY_QUEUE_URL over them) or, with FromEnv, the SPEC
// names plus MD_* overrides; then one region rule (MD_AWS_REGION, else
// the outputs' region, else the stack's aws:region, else the default; a
// contradiction between them is an error); the environment cross-check
// (MD_ENVIRONMENT and the outputs' environment must be the stack's); and
// Validate. Errors wrap ErrInvalid (bad usage or configuration: exit 2,
// nothing was called) or ErrOutputs (the outputs could not be read: exit 3).
func Resolve(ctx context.Context, s Source) (Env, error) {
	lk := s.Lookuper
	if lk == nil {
		lk = envconfig.OsLookuper()
	}
	lookup := func(name string) string {
		v, _ := lk.Lookup(EnvPrefix + name)
		return v
	}
	invalid := func(format string, a ...any) error {
		return fmt.Errorf("stack %s: %w: %s", s.Stack, ErrInvalid, fmt.Sprintf(format, a...))
	}
	if err := spec.ValidateEnvironment(s.Environment); err != nil {
		return Env{}, invalid("%v", err)
	}
	region := cmp.Or(s.Region, spec.DefaultRegion)
	if r := lookup("AWS_REGION"); r != "" && r != region {
		return Env{}, invalid("%sAWS_REGION=%s contradicts the stack's aws:region %s (set aws:region in Pulumi.%s.yaml instead)", EnvPrefix, r, region, s.Stack)
	}
	var e Env
	if s.FromEnv {
		var err error
		if e, err = FromEnv(ctx, s.Environment, lk); err != nil {
			return Env{}, fmt.Errorf("stack %s: %w", s.Stack, invalidErr(err))
		}
	} else {
		if s.Outputs == nil {
			return Env{}, invalid("no stack outputs to read (use --from-env)")
		}
		out, err := s.Outputs(ctx)
		if err != nil {
			return Env{}, fmt.Errorf("stack %s: %w: %w (without a deployed stack, use --from-env)", s.Stack, ErrOutputs, err)
		}
		if e, err = FromOutputs(out); err != nil {
			return Env{}, invalid("%v (or use --from-env)", err)
		}
		if q := lookup("VERIFY_QUEUE_URL"); q != "" {
			// Not every stack has the verification subscriber as an output.
			e.VerifyQueueURL = q
		}
		if e.Environment != s.Environment {
			return Env{}, invalid("the outputs say environment %q but Pulumi.%s.yaml says %q", e.Environment, s.Stack, s.Environment)
		}
		if e.Region != "" && e.Region != region {
			return Env{}, invalid("the outputs say region %s but the stack's aws:region is %s", e.Region, region)
		}
	}
	e.Region = region
	if err := e.Validate(); err != nil {
		return Env{}, fmt.Errorf("stack %s: %w", s.Stack, err)
	}
	if e.Environment == "production" && s.Writes && !s.AllowProduction {
		return Env{}, invalid("this is production, and the command writes (then removes) items there: pass --allow-production to run it there")
	}
	return e, nil
}

// invalidErr makes err wrap ErrInvalid (FromEnv's errors are all usage).
func invalidErr(err error) error {
	if errors.Is(err, ErrInvalid) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrInvalid, err)
}
