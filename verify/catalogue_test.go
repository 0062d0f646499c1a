package verify

import (
	"slices"
	"testing"

	"github.com/mirror-dissonance/mirror-infra/emulator"
)

// catcherOf is the check whose entry names defect ("" if none).
func catcherOf(defect string) string {
	for _, e := range Catalogue() {
		if slices.Contains(e.Catches, defect) {
			return e.ID
		}
	}
	return ""
}

// TestCatalogue: ids and ranks are unique, report order is SPEC 6's, the
// writing checks are what DefaultIDs leaves out, and every emulator defect
// is caught by exactly one entry.
func TestCatalogue(t *testing.T) {
	want := []string{IDTables, IDSSE, IDTTL, IDPITR, IDKMS, IDAlarms, IDSNS, IDAlert, IDOIDC, IDNonce, IDRotation, IDE2E, IDData, IDBaselines}
	if got := IDs(); !slices.Equal(got, want) {
		t.Errorf("IDs() = %v, want %v", got, want)
	}
	ranks := map[int]string{}
	for _, c := range registry {
		if other, dup := ranks[c.rank]; dup {
			t.Errorf("%s and %s share rank %d", c.ID, other, c.rank)
		}
		ranks[c.rank] = c.ID
		if c.Summary == "" || c.run == nil {
			t.Errorf("%s: entry without a summary or a function", c.ID)
		}
	}
	var writers []string
	for _, e := range Catalogue() {
		if e.Writes {
			writers = append(writers, e.ID)
		}
	}
	if !slices.Equal(writers, []string{IDAlert, IDRotation, IDE2E}) {
		t.Errorf("writing checks %v, want alert, rotation, e2e", writers)
	}
	for _, id := range DefaultIDs() {
		if slices.Contains(writers, id) {
			t.Errorf("DefaultIDs has the writing check %s", id)
		}
	}
	for _, d := range emulator.AllDefects {
		n := 0
		for _, e := range Catalogue() {
			if slices.Contains(e.Catches, string(d)) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("defect %s is caught by %d catalogue entries, want 1", d, n)
		}
	}
	// Catalogue returns copies: a caller cannot change the registry.
	Catalogue()[0].Catches[0] = "changed"
	if registry[0].Catches[0] == "changed" {
		t.Error("Catalogue exposes the registry")
	}
}
