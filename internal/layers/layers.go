// Package layers holds the import order of the module's packages, lowest
// first; its test fails on any import from a lower layer to a higher one.
// The README's layout section cites it.
package layers

// Order is the module's layers, lowest first. A package may import
// packages of its own layer and of lower ones only. A pattern is a
// package path relative to the module, or "path/..." for it and every
// package below it; the longest matching pattern places a package, and
// every package must be placed.
var Order = []Layer{
	{"facts", []string{"spec", "report"}},
	{"AWS access and the Pulumi program", []string{"awsclient", "stacks/..."}},
	{"the Oracle adapter layer", []string{"oracle/..."}},
	{"what a run points at", []string{"verify/target"}},
	{"the E2E cycle over the Oracle layer", []string{"verify/e2e"}},
	{"the verifier, whose catalogue runs the cycle", []string{"verify"}},
	{"the emulator, the engine and the post-up stage", []string{"emulator/...", "internal/gate/...", "internal/mockrun",
		"internal/driver/...", "internal/adopt", "internal/sweep", "internal/postdeploy", "internal/provider", "internal/recovery"}},
	{"the rehearsal", []string{"internal/rehearse/..."}},
	{"commands and repository checks", []string{"automation/...", "cmd/...", "internal/workflows", "internal/layers", "tools/..."}},
}

// Layer is one rank of Order.
type Layer struct {
	Name     string
	Patterns []string
}
