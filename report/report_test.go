package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
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

// The JSON report's shape is what consumers (jq in CI, the Oracle's tests)
// read: field names, omitted empties, durations in nanoseconds.
func TestJSONShape(t *testing.T) {
	r := &Report{Command: "preview", Stack: "staging", Fingerprint: "sha256:ab", Started: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Elapsed: "1s"}
	r.Add(Check{ID: "gate:x", Status: Fail, Reason: "r <b>", Fix: "f", Details: map[string]string{"k": "v"}, Duration: 2 * time.Second, Infra: true},
		Check{ID: "p", Status: Pass, Reason: "ok"})
	var b bytes.Buffer
	if err := r.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	want := `{
  "command": "preview",
  "stack": "staging",
  "fingerprint": "sha256:ab",
  "checks": [
    {
      "id": "gate:x",
      "status": "FAIL",
      "reason": "r \u003cb\u003e",
      "fix": "f",
      "details": {
        "k": "v"
      },
      "durationNs": 2000000000,
      "infraError": true
    },
    {
      "id": "p",
      "status": "PASS",
      "reason": "ok"
    }
  ],
  "started": "2026-01-02T03:04:05Z",
  "elapsed": "1s"
}
`
	if b.String() != want {
		t.Errorf("JSON:\n%s\nwant:\n%s", b.String(), want)
	}
}
