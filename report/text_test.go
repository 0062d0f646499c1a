package report

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestTextOptionsDetection(t *testing.T) {
	cases := []struct {
		name  string
		tty   bool
		width int
		env   map[string]string
		want  TextOptions
	}{
		{"a pipe or a file: everything, plain", false, 0, nil, TextOptions{}},
		{"a pipe ignores FORCE-like settings", false, 0, map[string]string{"TERM": "xterm"}, TextOptions{}},
		{"a terminal: compact, wrapped, coloured", true, 80, map[string]string{"TERM": "xterm-256color"}, TextOptions{Quiet: true, Width: 80, Color: true}},
		{"NO_COLOR", true, 120, map[string]string{"NO_COLOR": "1"}, TextOptions{Quiet: true, Width: 120}},
		{"TERM=dumb", true, 80, map[string]string{"TERM": "dumb"}, TextOptions{Quiet: true, Width: 80}},
		{"unknown width", true, 0, nil, TextOptions{Quiet: true, Color: true}},
	}
	for _, c := range cases {
		if got := textOptions(c.tty, c.width, env(c.env)); got != c.want {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := TextOptionsFor(f, env(nil)); got != (TextOptions{}) {
		t.Errorf("a file is not a terminal: %+v", got)
	}
}

func long() *Report {
	r := &Report{Command: "rehearse", Stack: "staging"}
	r.Add(
		Check{ID: "pitr", Status: Fail, Reason: "point-in-time recovery is off on mirror-dissonance-staging-fp-events, so a bad write cannot be undone",
			Fix:     "turn it on: set pitr: true in Pulumi.staging.yaml and run go run ./automation deploy staging, then verify again",
			Details: map[string]string{"table": "mirror-dissonance-staging-fp-events", "url": "https://console.aws.amazon.com/dynamodbv2/home?region=eu-west-1#table?name=mirror-dissonance-staging-fp-events&tab=backups"}},
		Check{ID: "sse", Status: Pass, Reason: "encrypted", Details: map[string]string{"kms": "alias/mirror-dissonance-staging"}},
		Check{ID: "sns-subscription", Status: Warn, Reason: "pending confirmation", Fix: "confirm the e-mail"},
		Check{ID: "alert", Status: Skip, Reason: "not asked for", Details: map[string]string{"why": "read-only by default"}},
	)
	return r
}

func TestTextQuietPrintsDetailsOnlyForWhatDidNotPass(t *testing.T) {
	var full, quiet bytes.Buffer
	if err := long().WriteTextWith(&full, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := long().WriteTextWith(&quiet, TextOptions{Quiet: true}); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"kms: alias/mirror-dissonance-staging", "why: read-only by default"} {
		if !strings.Contains(full.String(), d) {
			t.Errorf("the full report lacks %q:\n%s", d, full.String())
		}
		if strings.Contains(quiet.String(), d) {
			t.Errorf("the quiet report shows the detail %q of a check that passed or was skipped:\n%s", d, quiet.String())
		}
	}
	for _, want := range []string{"sse               PASS  encrypted", "alert             SKIP  not asked for", "table: mirror-dissonance-staging-fp-events"} {
		if !strings.Contains(quiet.String(), want) {
			t.Errorf("the quiet report lacks %q:\n%s", want, quiet.String())
		}
	}
}

func TestTextEndsWithEachFailAndWarnAndItsFix(t *testing.T) {
	var out bytes.Buffer
	if err := long().WriteText(&out, false); err != nil {
		t.Fatal(err)
	}
	_, tail, ok := strings.Cut(out.String(), "\n"+SummaryHeading+"\n")
	if !ok {
		t.Fatalf("no %q:\n%s", SummaryHeading, out.String())
	}
	want := "  FAIL  pitr: turn it on: set pitr: true in Pulumi.staging.yaml and run go run ./automation deploy staging, then verify again\n" +
		"  WARN  sns-subscription: confirm the e-mail\n" +
		"1 passed, 1 failed, 1 warned, 1 skipped\n"
	if tail != want {
		t.Errorf("the end of the report:\n%s\nwant:\n%s", tail, want)
	}
}

func TestTextWrapsToTheWidthKeepingTheColumns(t *testing.T) {
	for _, width := range []int{80, 60} {
		var out bytes.Buffer
		if err := long().WriteTextWith(&out, TextOptions{Width: width, Color: true}); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
		col := strings.Index(ansi.Strip(lines[1]), "point-in-time")
		inBody := true
		for i, l := range lines {
			plain := ansi.Strip(l)
			// Only a single word wider than the room (a URL) may overflow.
			fields := strings.Fields(plain)
			unbreakable := ansi.StringWidth(fields[len(fields)-1]) > width-col-2
			if w := ansi.StringWidth(l); w > width && !unbreakable {
				t.Errorf("width %d: line %d is %d wide: %q", width, i, w, plain)
			}
			if strings.HasPrefix(plain, SummaryHeading) {
				inBody = false
			}
			// In the body every line is a check's (its id at column 2) or
			// continues in the text column, never further left.
			if inBody && i > 0 && !strings.HasPrefix(plain, "  ") {
				t.Errorf("width %d: line %d breaks the layout: %q", width, i, plain)
			}
			if inBody && i > 0 && plain[2] == ' ' && len(plain) > col && strings.TrimLeft(plain, " ") != "" && len(plain)-len(strings.TrimLeft(plain, " ")) < col {
				t.Errorf("width %d: continuation line %d starts left of column %d: %q", width, i, col, plain)
			}
		}
		if !strings.Contains(out.String(), "\x1b[31mFAIL\x1b[0m") {
			t.Errorf("no colour with Color:\n%q", out.String())
		}
		// Wrapping loses no word.
		var flat bytes.Buffer
		_ = long().WriteTextWith(&flat, TextOptions{})
		if got, want := strings.Fields(ansi.Strip(out.String())), strings.Fields(flat.String()); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("width %d: wrapping changed the words:\n%s\nvs\n%s", width, ansi.Strip(out.String()), flat.String())
		}
	}
}

func TestTextCompactOnATerminalIsOneLineAPass(t *testing.T) {
	r := long()
	r.Checks[1].Reason = "encrypted with the environment's customer-managed key, rotating yearly, alias present, grants as declared"
	var out bytes.Buffer
	if err := r.WriteTextWith(&out, TextOptions{Quiet: true, Width: 60}); err != nil {
		t.Fatal(err)
	}
	var sse []string
	for _, l := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(l, "  sse ") || (len(sse) > 0 && len(sse) < 3 && strings.HasPrefix(l, "                              ") && !strings.Contains(l, ":")) {
			sse = append(sse, l)
		}
	}
	if len(sse) != 1 || ansi.StringWidth(sse[0]) > 60 || !strings.HasSuffix(sse[0], "…") {
		t.Errorf("a PASS is %d line(s) %q, want one cut to 60 columns:\n%s", len(sse), sse, out.String())
	}
	if !strings.Contains(out.String(), "  pitr              FAIL  point-in-time recovery is off on\n") {
		t.Errorf("a FAIL is not wrapped in full:\n%s", out.String())
	}
}
