// Package gate holds the deploy gate rules of SPEC section 5 as one rule set
// over planned resources. The same rules run in the stack's unit tests
// (Pulumi mocks), in the offline `check` command and on the real preview's
// engine events before `up`.
package gate

// Op is what the plan does to a resource.
type Op string

const (
	OpCreate  Op = "create"
	OpUpdate  Op = "update"
	OpReplace Op = "replace"
	OpDelete  Op = "delete"
	OpSame    Op = "same"
	OpRead    Op = "read"
)

// Resource is one planned resource: its Pulumi type token (for example
// "aws:dynamodb/table:Table"), logical name, operation and planned inputs
// in Pulumi's property names (camelCase, as engine events and mocks give
// them). Inputs of a delete are the old inputs.
type Resource struct {
	URN     string         `json:"urn"`
	Type    string         `json:"type"`
	Name    string         `json:"name"`
	Op      Op             `json:"op"`
	Inputs  map[string]any `json:"inputs,omitempty"`
	Protect bool           `json:"protect,omitempty"`
	// Diffs are the changed property paths of an update or replace.
	Diffs []string `json:"diffs,omitempty"`
}

// Options are the facts the rules need beyond the plan.
type Options struct {
	// Environment is the stack's environment (production is stricter).
	Environment string
	// Stack is the stack's name; Ephemeral is its ephemeral flag, allowed
	// only on acc-<run> stacks, which then must carry no protect.
	Stack     string
	Ephemeral bool
	// DeletionProtection is the configured table deletion protection.
	DeletionProtection bool
	// AllowStateful names the stateful resources (logical name or URN) the
	// operator allows to be deleted or replaced.
	AllowStateful []string
	// MinResources and MaxResources bound the AWS resource count; zero
	// means DefaultMinResources and DefaultMaxResources.
	MinResources, MaxResources int
}

// Finding is one violated rule.
type Finding struct {
	Rule     string `json:"rule"`
	Resource string `json:"resource,omitempty"`
	Message  string `json:"message"`
	// Unverified marks an input not known until apply: reported, but it
	// does not fail the gate (the verifier checks it after up).
	Unverified bool `json:"unverified,omitempty"`
}
