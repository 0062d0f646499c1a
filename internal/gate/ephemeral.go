package gate

import (
	"github.com/mirror-dissonance/mirror-infra/spec"
	"github.com/mirror-dissonance/mirror-infra/stacks/stackconfig"
)

// RuleEphemeral: the ephemeral flag (no protect, no deletion protection)
// only on acc-<run> acceptance stacks (SPEC 2.12, 5).
const RuleEphemeral = "ephemeral-stack"

func init() {
	register(Rule{ID: RuleEphemeral, Description: "only " + spec.EphemeralPrefix + "<run> acceptance stacks may be ephemeral (no protect, no deletion protection)", Check: func(p *Plan) {
		if p.Opts.Ephemeral && !spec.IsEphemeralStack(p.Opts.Stack) {
			p.Fail(Resource{}, "stack %q is marked ephemeral, which drops protect and deletion protection; only %s<run> acceptance stacks may be", p.Opts.Stack, spec.EphemeralPrefix)
		}
	}})
}

// OptionsFor is the gate's view of a stack's configuration; allow names the
// stateful resources the operator allows to be deleted or replaced.
func OptionsFor(cfg stackconfig.Config, allow []string) Options {
	return Options{
		Environment: cfg.Environment, Stack: cfg.Stack, Ephemeral: cfg.Ephemeral,
		DeletionProtection: cfg.DeletionProtection, AllowStateful: allow,
	}
}

// protect wants Pulumi protect on a stateful resource, and off on an
// ephemeral stack, whose destroy must remove everything it made.
func (p *Plan) protect(r Resource, what string) {
	switch {
	case p.Opts.Ephemeral && r.Protect:
		p.Fail(r, "Pulumi protect is on in an ephemeral stack, so its destroy would leave %s behind", what)
	case !p.Opts.Ephemeral && !r.Protect:
		p.Fail(r, "Pulumi protect is off, so a destroy could delete %s", what)
	}
}
