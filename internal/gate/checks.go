package gate

import (
	"slices"
	"sort"
	"strings"

	"github.com/mirror-dissonance/mirror-infra/report"
)

// Checks is the one conversion of findings into report checks: one
// "gate:<rule>" check per rule, for the rules named (every rule Evaluate
// runs when none are) and every other rule a finding names. A rule with a
// violation is FAIL with every finding's message; one that could only not
// read a value before apply is WARN saying which ("unknown until apply");
// the others PASS with the rule's description and what it saw.
func Checks(findings []Finding, rules ...string) []report.Check {
	if len(rules) == 0 {
		rules = planRules()
	}
	byRule := map[string][]Finding{}
	for _, f := range findings {
		byRule[f.Rule] = append(byRule[f.Rule], f)
	}
	ids := append([]string(nil), rules...)
	var extra []string
	for id := range byRule {
		if !slices.Contains(ids, id) {
			extra = append(extra, id)
		}
	}
	sort.Strings(extra)
	ids = append(ids, extra...)

	out := make([]report.Check, 0, len(ids))
	for _, id := range ids {
		out = append(out, check(id, byRule[id]))
	}
	return out
}

func check(id string, fs []Finding) report.Check {
	rule, registered := registry[id]
	c := report.Check{ID: "gate:" + id}
	var failed, unverified, notes []string
	for _, f := range fs {
		m := f.Message
		if f.Resource != "" {
			m = f.Resource + ": " + m
		}
		switch {
		case f.Note:
			notes = append(notes, m)
		case f.Unverified:
			unverified = append(unverified, m)
		default:
			failed = append(failed, m)
		}
	}
	switch {
	case len(failed) > 0:
		c.Status, c.Reason = report.Fail, strings.Join(failed, "; ")
		if len(unverified) > 0 {
			c.Reason += "; not verified before apply: " + strings.Join(unverified, "; ")
		}
		switch {
		case rule.Fix != "":
			c.Fix = rule.Fix
		case registered:
			c.Fix = "change the program or Pulumi.<stack>.yaml so that " + rule.Description
		default:
			c.Fix = "change the program or configuration"
		}
	case len(unverified) > 0:
		c.Status, c.Reason = report.Warn, strings.Join(unverified, "; ")
	default:
		c.Status, c.Reason = report.Pass, rule.Description
		if !registered {
			c.Reason = "no finding"
		}
		if len(notes) > 0 {
			c.Reason += ": " + strings.Join(notes, "; ")
		}
	}
	return c
}
