package gate

import (
	"sort"
	"strings"

	"github.com/mirror-dissonance/mirror-infra/report"
)

// Checks turns findings into one check per rule: FAIL with every
// finding's message, PASS with the rule's description otherwise.
func Checks(findings []Finding) []report.Check {
	byRule := map[string][]Finding{}
	for _, f := range findings {
		byRule[f.Rule] = append(byRule[f.Rule], f)
	}
	ids := make([]string, 0, len(Rules))
	for id := range Rules {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var out []report.Check
	for _, id := range ids {
		fs := byRule[id]
		if len(fs) == 0 {
			out = append(out, report.Check{ID: "gate:" + id, Status: report.Pass, Reason: Rules[id]})
			continue
		}
		var msgs []string
		for _, f := range fs {
			m := f.Message
			if f.Resource != "" {
				m = f.Resource + ": " + m
			}
			msgs = append(msgs, m)
		}
		out = append(out, report.Check{ID: "gate:" + id, Status: report.Fail, Reason: strings.Join(msgs, "; "),
			Fix: "change the program or Pulumi.<stack>.yaml so that " + Rules[id]})
	}
	if un := byRule[RuleUnverifiableInputs]; len(un) > 0 {
		var msgs []string
		for _, f := range un {
			msgs = append(msgs, f.Resource+": "+f.Message)
		}
		out = append(out, report.Check{ID: "gate:" + RuleUnverifiableInputs, Status: report.Warn, Reason: strings.Join(msgs, "; ")})
	}
	return out
}
