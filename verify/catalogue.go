// Package verify proves that a deployed environment keeps the guarantees
// the stack declares (the facts are in package spec): the checks of SPEC 6,
// one file each (check_<id>.go: its catalogue entry, its function and the
// emulator defects it catches). Every check returns a report.Check with a
// reason naming the resource and a fix; Run executes the checks
// concurrently, within one deadline, so a failing, erroring or panicking
// check never hides the others.
//
// The library reads only by default: Run without Options.Checks runs
// DefaultIDs, the checks that do not write; "alert" (publishes to the ops
// topic), "rotation" (creates a nonce version) and "e2e" (the cycle of
// verify/e2e) run when named.
//
// RunCheck, AssertCheck and RequireAllPass give tests in other
// repositories a terratest-like API (docs/verify-library.md): targets are
// tgt, tests t. Nonce values are read only to validate their format and
// never appear in any result, error or log.
package verify

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/mirror-dissonance/mirror-infra/report"
)

// Entry is one check of the catalogue as callers see it.
type Entry struct {
	ID string
	// Writes says the check changes the environment; Run runs it only
	// when Options.Checks names it.
	Writes bool
	// Summary is what the check proves, in one line.
	Summary string
	// Catches names the emulator defects (emulator.Defect values) this
	// check, and no other, fails on; its test seeds each.
	Catches []string
}

// check is an Entry with its place in report order and its function.
type check struct {
	Entry
	// rank orders the report as SPEC 6 lists the checks.
	rank int
	run  func(*session, context.Context) report.Check
}

// registry is the catalogue: each check_<id>.go adds its entry in init,
// and nothing changes it afterwards.
var registry []check

func register(c check) {
	i, _ := slices.BinarySearchFunc(registry, c.rank, func(x check, r int) int { return x.rank - r })
	registry = slices.Insert(registry, i, c)
}

// Catalogue lists every check in report order.
func Catalogue() []Entry {
	out := make([]Entry, len(registry))
	for i, c := range registry {
		out[i] = c.Entry
		out[i].Catches = slices.Clone(c.Catches)
	}
	return out
}

// IDs lists every check id of the catalogue, in report order.
func IDs() []string { return ids(func(check) bool { return true }) }

// DefaultIDs are the checks Run runs when Options.Checks is empty: those
// that only read, in report order.
func DefaultIDs() []string { return ids(func(c check) bool { return !c.Writes }) }

func ids(keep func(check) bool) []string {
	var out []string
	for _, c := range registry {
		if keep(c) {
			out = append(out, c.ID)
		}
	}
	return out
}

// lookup returns the catalogue entry of id.
func lookup(id string) (check, bool) {
	for _, c := range registry {
		if c.ID == id {
			return c, true
		}
	}
	return check{}, false
}

// unknownCheck is the error of an id the catalogue lacks.
func unknownCheck(id string) error {
	return fmt.Errorf("verify: unknown check %q (known: %s)", id, strings.Join(IDs(), ", "))
}
