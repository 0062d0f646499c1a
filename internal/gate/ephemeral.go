package gate

import (
	"fmt"

	"github.com/mirror-dissonance/mirror-infra/spec"
	"github.com/mirror-dissonance/mirror-infra/stacks/stackconfig"
)

// RuleEphemeral: the ephemeral flag (no protect, no deletion protection)
// only on acc-<run> acceptance stacks (SPEC 2.12, 5).
const RuleEphemeral = "ephemeral-stack"

// OptionsFor is the gate's view of a stack's configuration; allow names the
// stateful resources the operator allows to be deleted or replaced.
func OptionsFor(cfg stackconfig.Config, allow []string) Options {
	return Options{
		Environment: cfg.Environment, Stack: cfg.Stack, Ephemeral: cfg.Ephemeral,
		DeletionProtection: cfg.DeletionProtection, AllowStateful: allow,
	}
}

func (e *evaluator) ephemeral() {
	if e.opts.Ephemeral && !spec.IsEphemeralStack(e.opts.Stack) {
		e.fail(RuleEphemeral, Resource{}, fmt.Sprintf("stack %q is marked ephemeral, which drops protect and deletion protection; only %s<run> acceptance stacks may be", e.opts.Stack, spec.EphemeralPrefix))
	}
}

// protect wants Pulumi protect on a stateful resource, and off on an
// ephemeral stack, whose destroy must remove everything it made.
func (e *evaluator) protect(rule string, r Resource, what string) {
	switch {
	case e.opts.Ephemeral && r.Protect:
		e.fail(rule, r, fmt.Sprintf("Pulumi protect is on in an ephemeral stack, so its destroy would leave %s behind", what))
	case !e.opts.Ephemeral && !r.Protect:
		e.fail(rule, r, fmt.Sprintf("Pulumi protect is off, so a destroy could delete %s", what))
	}
}
