package gate_test

import (
	"testing"

	"github.com/mirror-dissonance/mirror-infra/internal/gate"
	"github.com/mirror-dissonance/mirror-infra/report"
)

// TestEveryRuleIsReported: a rule declared in its file is in Rules, and a
// plan rule is a PASS check when nothing is found; the adoption rule only
// where it is asked for.
func TestEveryRuleIsReported(t *testing.T) {
	checks := map[string]report.Check{}
	for _, c := range gate.Checks(nil) {
		checks[c.ID] = c
	}
	rules := gate.Rules()
	if len(rules) < 25 {
		t.Fatalf("only %d rules registered", len(rules))
	}
	for _, r := range rules {
		c, ok := checks["gate:"+r.ID]
		switch {
		case r.AfterImport && ok:
			t.Errorf("%s is reported on a plan it does not judge", r.ID)
		case r.AfterImport:
		case !ok || c.Status != report.Pass || c.Reason != r.Description:
			t.Errorf("%s: check %+v, want PASS with %q", r.ID, c, r.Description)
		}
	}
	if cs := gate.Checks(nil, gate.RuleAdoption); len(cs) != 1 || cs[0].ID != "gate:"+gate.RuleAdoption || cs[0].Status != report.Pass {
		t.Errorf("Checks for the adoption rule alone = %+v", cs)
	}
	fs := []gate.Finding{{Rule: "custom", Message: "m"}}
	if cs := gate.Checks(fs, gate.RuleAdoption); len(cs) != 2 || cs[1].ID != "gate:custom" || cs[1].Status != report.Fail {
		t.Errorf("a finding of an unregistered rule is not reported as FAIL: %+v", cs)
	}
}
