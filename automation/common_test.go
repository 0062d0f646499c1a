package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/mirror-dissonance/mirror-infra/report"
)

func TestEmitLiftsTheFingerprintForCI(t *testing.T) {
	var out, errb bytes.Buffer
	r := &report.Report{Command: "preview", Stack: "staging"}
	r.Add(report.Check{ID: "preview", Status: report.Pass, Reason: "saved", Details: map[string]string{"fingerprint": "sha256:0123"}})
	if code := emit(stdio{in: strings.NewReader(""), out: &out, err: &errb}, options{json: true}, r); code != 0 {
		t.Fatalf("exit %d", code)
	}
	var got struct{ Fingerprint string }
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("stdout is not JSON: %v", err)
	}
	if got.Fingerprint != "sha256:0123" {
		t.Errorf("top-level fingerprint %q, want the preview's", got.Fingerprint)
	}
	if !strings.Contains(errb.String(), "1 passed") {
		t.Errorf("human text not on stderr with --json: %q", errb.String())
	}
}

func TestParseArgsIntersperse(t *testing.T) {
	var o options
	fs := newFlagSet("x", stdio{err: &bytes.Buffer{}})
	addCommon(fs, &o, true, true)
	pos, err := parseArgs(fs, []string{"--json", "staging", "--from-env", "--approve", "sha256:1"})
	if err != nil || len(pos) != 1 || pos[0] != "staging" || !o.json || !o.fromEnv || o.approve != "sha256:1" {
		t.Fatalf("pos %v err %v opts %+v", pos, err, o)
	}
}
