package gate_test

import (
	"testing"

	"github.com/mirror-dissonance/mirror-infra/internal/gate"
)

func TestAdoptionRule(t *testing.T) {
	imported := []string{"fp-events", "kms", "baselines"}
	for _, tc := range []struct {
		name string
		res  gate.Resource
		fail bool
	}{
		{"imported table updated in place", gate.Resource{Type: gate.TypeTable, Name: "fp-events", Op: gate.OpUpdate}, false},
		{"imported table created again", gate.Resource{Type: gate.TypeTable, Name: "fp-events", Op: gate.OpCreate}, true},
		{"missing table created", gate.Resource{Type: gate.TypeTable, Name: "block-counter", Op: gate.OpCreate}, false},
		{"imported key created again", gate.Resource{Type: gate.TypeKey, Name: "kms", Op: gate.OpCreate}, true},
		{"imported bucket created again", gate.Resource{Type: gate.TypeBucket, Name: "baselines", Op: gate.OpCreate}, true},
		{"missing key created", gate.Resource{Type: gate.TypeKey, Name: "other-key", Op: gate.OpCreate}, false},
		{"imported role created again (not stateful)", gate.Resource{Type: gate.TypeRole, Name: "github-deploy", Op: gate.OpCreate}, false},
		{"imported table deleted", gate.Resource{Type: gate.TypeTable, Name: "fp-events", Op: gate.OpDelete}, true},
		{"key replaced", gate.Resource{Type: gate.TypeKey, Name: "kms", Op: gate.OpReplace}, true},
		{"bucket deleted", gate.Resource{Type: gate.TypeBucket, Name: "baselines", Op: gate.OpDelete}, true},
		{"imported key unchanged", gate.Resource{Type: gate.TypeKey, Name: "kms", Op: gate.OpSame}, false},
		{"alarm created", gate.Resource{Type: gate.TypeAlarm, Name: "consent-read-throttle", Op: gate.OpCreate}, false},
		{"role replaced (not stateful)", gate.Resource{Type: gate.TypeRole, Name: "github-deploy", Op: gate.OpReplace}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := gate.Adoption([]gate.Resource{tc.res}, imported)
			if got := len(fs) > 0; got != tc.fail {
				t.Fatalf("findings %+v, want failure %v", fs, tc.fail)
			}
			for _, f := range fs {
				if f.Rule != gate.RuleAdoption {
					t.Errorf("rule %s", f.Rule)
				}
			}
		})
	}
}
