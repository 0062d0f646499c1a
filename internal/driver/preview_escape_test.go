package driver

import (
	"strings"
	"testing"

	"github.com/mirror-dissonance/mirror-infra/internal/gate"
)

// TestPreviewSummaryEscapesEngineValues (issue 24 finding 3): a resource
// name from the engine cannot add HTML, break the table or ping anyone in
// the PR comment, nor send control sequences to the terminal.
func TestPreviewSummaryEscapesEngineValues(t *testing.T) {
	p := &Preview{Stack: "staging", Fingerprint: "sha256:ab", Counts: map[string]int{"update": 1},
		Changes: []Change{{Op: gate.OpUpdate, Type: "aws:s3/bucket:Bucket", Name: "x</td></tr></table><h1>pwn</h1> @octocat\x1b[2J", Diffs: []string{"tags|a", "`b`"}}}}
	md := p.Markdown()
	for _, bad := range []string{"<h1>", "</table>", "@octocat", "\x1b", "tags|a"} {
		if strings.Contains(md, bad) {
			t.Errorf("Markdown holds %q raw:\n%s", bad, md)
		}
	}
	if strings.Count(strings.Split(md, "\n")[5], "|") != 5 {
		t.Errorf("the change row does not have four cells:\n%s", md)
	}
	if txt := p.Text(); strings.Contains(txt, "\x1b") {
		t.Errorf("Text sends an escape sequence to the terminal: %q", txt)
	}
}
