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
	if err := emit(stdio{in: strings.NewReader(""), out: &out, err: &errb}, environ{}, outputFlags{json: true}, []*report.Report{r}); err != nil {
		t.Fatal(err)
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

// Flags go before, between or after the stack, as --flag value or
// --flag=value.
func TestFlagsIntersperse(t *testing.T) {
	a := newApp(stdio{}, environ{}, deps{})
	c := newCmdDeploy(a)
	args := []string{"--json", "staging", "--markdown=out.md", "--approve", "sha256:1", "--stacks", "production"}
	if err := c.ParseFlags(args); err != nil {
		t.Fatal(err)
	}
	pos := c.Flags().Args()
	json, _ := c.Flags().GetBool("json")
	md, _ := c.Flags().GetString("markdown")
	stacks, _ := c.Flags().GetString("stacks")
	if len(pos) != 1 || pos[0] != "staging" || !json || md != "out.md" || stacks != "production" {
		t.Fatalf("pos %v json %v markdown %q stacks %q", pos, json, md, stacks)
	}
}
