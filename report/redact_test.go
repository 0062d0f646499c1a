package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestRedactMasksSecretsInEveryFormat(t *testing.T) {
	cases := map[string]string{
		"https://user:hunter2@sqs.example.com/1/q":                "https://user:REDACTED@sqs.example.com/1/q",
		"queue http://alice:p%40ss@localhost:4566/000/q failed":   "queue http://alice:REDACTED@localhost:4566/000/q failed",
		"https://b.s3.amazonaws.com/k?X-Amz-Signature=abc123&x=1": "https://b.s3.amazonaws.com/k?X-Amz-Signature=REDACTED&x=1",
		"https://example.com/q?token=s3cr3t":                      "https://example.com/q?token=REDACTED",
		"no secret here: https://example.com/path?x=1":            "no secret here: https://example.com/path?x=1",
		"a = b": "a = b",
	}
	for in, want := range cases {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
	r := &Report{Command: "verify", Checks: []Check{{ID: "alert", Status: Fail,
		Reason: "reading https://u:hunter2@q.example/1/q", Fix: "check https://u:hunter2@q.example",
		Details: map[string]string{"queue": "https://u:hunter2@q.example/1/q"}}}}
	var text, js, md bytes.Buffer
	if err := r.WriteText(&text, false); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"text": text.String(), "json": js.String(), "markdown": md.String()} {
		if strings.Contains(out, "hunter2") {
			t.Errorf("the %s report shows the password:\n%s", name, out)
		}
	}
	if r.Checks[0].Reason != "reading https://u:hunter2@q.example/1/q" {
		t.Error("rendering changed the report itself")
	}
}

// A report inside another JSON document (deploy's combined report of several
// stacks encodes []*Report) is masked too.
func TestEmbeddedReportJSONIsRedacted(t *testing.T) {
	r := &Report{Command: "deploy", Stack: "staging", Checks: []Check{{ID: "sqs", Status: Fail,
		Reason: "https://u:hunter2@q.example/1/q", Details: map[string]string{"q": "https://x.example/?token=s3cr3t"}}}}
	b, err := json.Marshal(struct {
		Reports []*Report `json:"reports"`
	}{[]*Report{r}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "hunter2") || strings.Contains(string(b), "s3cr3t") {
		t.Errorf("an embedded report shows a secret: %s", b)
	}
	if r.Checks[0].Reason != "https://u:hunter2@q.example/1/q" {
		t.Error("encoding changed the report itself")
	}
}

// Redaction runs before escaping: a password with Markdown or terminal
// punctuation in it is masked whole, not split by the escapes.
func TestRedactionComesBeforeEscaping(t *testing.T) {
	r := &Report{Command: "verify", Checks: []Check{{ID: "sqs", Status: Fail,
		Reason: "https://u:hun_ter|2*x`\x1b@q.example/1/q", Fix: "see https://q.example/?token=ab_c|d*e"}}}
	var text, md bytes.Buffer
	_ = r.WriteTextWith(&text, TextOptions{Width: 40, Color: true})
	_ = r.WriteMarkdown(&md)
	for name, out := range map[string]string{"text": text.String(), "markdown": md.String()} {
		for _, part := range []string{"hun", "ter", "ab_c", `ab\_c`, "d*e", `d\*e`} {
			if strings.Contains(out, part) {
				t.Errorf("the %s report shows a piece of a secret (%q):\n%s", name, part, out)
			}
		}
		if !strings.Contains(out, Masked) {
			t.Errorf("the %s report does not say what it masked:\n%s", name, out)
		}
	}
}
