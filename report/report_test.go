package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestExitCode(t *testing.T) {
	cases := []struct {
		name   string
		checks []Check
		want   int
	}{
		{"empty", nil, ExitOK},
		{"pass and warn", []Check{{Status: Pass}, {Status: Warn}, {Status: Skip}}, ExitOK},
		{"a failure", []Check{{Status: Pass}, {Status: Fail}}, ExitFailed},
		{"an infrastructure failure wins", []Check{{Status: Fail}, {Status: Fail, Infra: true}}, ExitEngine},
		{"infra flag on a pass is ignored", []Check{{Status: Pass, Infra: true}}, ExitOK},
	}
	for _, tc := range cases {
		r := &Report{Checks: tc.checks}
		if got := r.ExitCode(); got != tc.want {
			t.Errorf("%s: exit %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestRenderings(t *testing.T) {
	r := &Report{Command: "verify", Stack: "staging", Fingerprint: "sha256:ab"}
	r.Add(Check{ID: "pitr", Status: Fail, Reason: "PITR off on t|1", Fix: "turn it on", Details: map[string]string{"t": "DISABLED"}},
		Check{ID: "sse", Status: Pass, Reason: "ok"})
	var text, md, js bytes.Buffer
	if err := r.WriteText(&text, false); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"verify staging", "pitr  FAIL  PITR off on t|1", "fix: turn it on", "t: DISABLED", "1 passed, 1 failed"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, text.String())
		}
	}
	if strings.Contains(text.String(), "\x1b[") {
		t.Error("colour without a terminal")
	}
	var col bytes.Buffer
	_ = r.WriteText(&col, true)
	if !strings.Contains(col.String(), "\x1b[31mFAIL") {
		t.Error("no colour when asked")
	}
	_ = r.WriteMarkdown(&md)
	if !strings.Contains(md.String(), "- ❌ **FAIL** pitr: PITR off on t\\|1\n  - fix: turn it on\n  - t: DISABLED\n") ||
		!strings.Contains(md.String(), "| sse | ✅ PASS | ok |  |") {
		t.Errorf("markdown row:\n%s", md.String())
	}
	_ = r.WriteJSON(&js)
	var back struct {
		Fingerprint string
		Checks      []map[string]any
	}
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.Fingerprint != "sha256:ab" || len(back.Checks) != 2 || back.Checks[0]["id"] != "pitr" || back.Checks[0]["status"] != "FAIL" || back.Checks[0]["reason"] == "" {
		t.Errorf("JSON: %s", js.String())
	}
}
