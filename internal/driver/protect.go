package driver

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/mirror-dissonance/mirror-infra/internal/gate"
)

// ErrProtectedReplace: the plan replaces a protected resource. The engine
// refuses it already in the preview (protect forbids the delete a
// replacement entails); it is a refusal of the change (exit 1), like the
// gate's, not an engine failure.
var ErrProtectedReplace = errors.New("the plan replaces protected resources")

// ProtectedReplacement is one protected resource the plan would replace.
type ProtectedReplacement struct {
	URN  string
	Type string
	Name string
	// Keys are the properties that force the replacement (the provider's
	// replace keys); Diffs all the changed ones.
	Keys  []string
	Diffs []string
}

func (p ProtectedReplacement) String() string {
	s := p.Name
	if p.Type != "" {
		s += " (" + p.Type + ")"
	}
	switch {
	case len(p.Keys) > 0:
		s += " would be replaced: " + strings.Join(p.Keys, ", ") + " forces a new resource"
	case len(p.Diffs) > 0:
		s += " would be replaced (changed: " + strings.Join(p.Diffs, ", ") + ")"
	default:
		s += " would be replaced"
	}
	return s
}

// ProtectedReplaceError is the engine's protect refusal in a preview, with
// what the preview planned for each refused resource.
type ProtectedReplaceError struct {
	Replaced []ProtectedReplacement
	Err      error
}

func (e *ProtectedReplaceError) Error() string {
	parts := make([]string, len(e.Replaced))
	for i, r := range e.Replaced {
		parts[i] = r.String()
	}
	return fmt.Sprintf("refused: the plan replaces protected resources, which deletes them: %s; the engine's protect refused it in the preview, nothing was applied",
		strings.Join(parts, "; "))
}

func (e *ProtectedReplaceError) Is(target error) bool { return target == ErrProtectedReplace }
func (e *ProtectedReplaceError) Unwrap() error        { return e.Err }

// protectRefusal matches the engine's message (step_generator.go of
// pulumi/pkg v3.274.1) and captures the URN.
var protectRefusal = regexp.MustCompile(`unable to replace resource "([^"]+)"\s+as it is currently marked for protection`)

// protectedReplaceOf recognises the protect refusal in msg; nil if absent.
func protectedReplaceOf(msg string, err error) *ProtectedReplaceError {
	var out *ProtectedReplaceError
	for _, m := range protectRefusal.FindAllStringSubmatch(msg, -1) {
		if out == nil {
			out = &ProtectedReplaceError{Err: err}
		}
		if !slices.ContainsFunc(out.Replaced, func(r ProtectedReplacement) bool { return r.URN == m[1] }) {
			out.Replaced = append(out.Replaced, ProtectedReplacement{URN: m[1], Name: urnName(m[1])})
		}
	}
	return out
}

// withPlan adds what the preview planned (the engine shows the replace
// step before failing) to each refused resource.
func (e *ProtectedReplaceError) withPlan(rs []gate.Resource, keys map[string][]string) {
	for i, r := range e.Replaced {
		for _, p := range rs {
			if p.URN == r.URN {
				e.Replaced[i].Type, e.Replaced[i].Diffs = p.Type, p.Diffs
			}
		}
		e.Replaced[i].Keys = keys[r.URN]
	}
}
