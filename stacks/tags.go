package stacks

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/mirror-dissonance/mirror-infra/spec"
	"github.com/mirror-dissonance/mirror-infra/stacks/stackconfig"
)

// Tag values shared by every taggable resource (SPEC 1).
const (
	TagProject   = spec.TagValueProject
	TagManagedBy = "Pulumi"
)

// Tags are the common tags of one stack.
type Tags struct {
	Environment string
	Stack       string
	// Run names the acceptance run that made an ephemeral stack; empty
	// otherwise.
	Run string
}

// TagRun marks every resource of an ephemeral stack with the run that made
// it, so a sweep finds what a failed run left (SPEC 2.12).
const TagRun = spec.TagKeyAcceptanceRun

func newTags(cfg stackconfig.Config) Tags {
	t := Tags{Environment: cfg.Environment, Stack: cfg.Stack}
	if cfg.Ephemeral {
		t.Run = cfg.Stack
	}
	return t
}

// For returns the tag map of one resource.
func (t Tags) For(name, purpose string) pulumi.StringMap {
	m := pulumi.StringMap{
		spec.TagKeyProject:     pulumi.String(TagProject),
		"ManagedBy":            pulumi.String(TagManagedBy),
		spec.TagKeyEnvironment: pulumi.String(t.Environment),
		"Stack":                pulumi.String(t.Stack),
	}
	if name != "" {
		m["Name"] = pulumi.String(name)
	}
	if purpose != "" {
		m["Purpose"] = pulumi.String(purpose)
	}
	if t.Run != "" {
		m[TagRun] = pulumi.String(t.Run)
	}
	return m
}
