package report

import (
	"fmt"
	"io"
	"strings"
)

// WriteMarkdown writes the report for a PR comment or a CI job summary:
// a heading, the counts, then every FAIL and WARN with its fix and details,
// then the other checks in a table under a collapsed <details>. Every value
// goes through Markdown.
func (r *Report) WriteMarkdown(w io.Writer) error {
	r = r.redacted()
	var b strings.Builder
	title := Markdown(r.Command)
	if r.Stack != "" {
		title += " " + mdCode(r.Stack)
	}
	fmt.Fprintf(&b, "### %s\n\n%s %s\n\n", title, emoji(worst(r.Checks)), r.Summary())
	bad := notPassed(r.Checks)
	for _, c := range bad {
		fmt.Fprintf(&b, "- %s **%s** %s: %s\n", emoji(c.Status), c.Status, Markdown(c.ID), Markdown(c.Reason))
		if c.Fix != "" {
			fmt.Fprintf(&b, "  - fix: %s\n", Markdown(c.Fix))
		}
		for _, k := range sortedKeys(c.Details) {
			fmt.Fprintf(&b, "  - %s: %s\n", Markdown(k), Markdown(c.Details[k]))
		}
	}
	var rest []Check
	for _, c := range r.Checks {
		if c.Status != Fail && c.Status != Warn {
			rest = append(rest, c)
		}
	}
	if len(rest) > 0 {
		if len(bad) > 0 {
			b.WriteString("\n")
		}
		n := r.Counts()
		fmt.Fprintf(&b, "<details>\n<summary>%d passed, %d skipped</summary>\n\n", n[Pass], n[Skip])
		b.WriteString("| check | status | reason | details |\n|---|---|---|---|\n")
		for _, c := range rest {
			var more []string
			if c.Fix != "" && c.Status != Pass {
				more = append(more, "fix: "+Markdown(c.Fix))
			}
			for _, k := range sortedKeys(c.Details) {
				more = append(more, Markdown(k)+": "+Markdown(c.Details[k]))
			}
			fmt.Fprintf(&b, "| %s | %s %s | %s | %s |\n", Markdown(c.ID), emoji(c.Status), c.Status,
				Markdown(c.Reason), strings.Join(more, "<br>"))
		}
		b.WriteString("\n</details>\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// worst is the status a report's heading shows: FAIL over WARN over PASS.
func worst(cs []Check) Status {
	st := Pass
	for _, c := range cs {
		switch {
		case c.Status == Fail:
			return Fail
		case c.Status == Warn:
			st = Warn
		}
	}
	return st
}

func emoji(s Status) string {
	switch s {
	case Pass:
		return "✅"
	case Fail:
		return "❌"
	case Warn:
		return "⚠️"
	default:
		return "⏭️"
	}
}
