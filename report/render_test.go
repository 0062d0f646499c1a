package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/renderer/html"
	nethtml "golang.org/x/net/html"
)

// hostile is a report whose values come from outside (an FP event's key, a
// lock file's user and host, engine output) next to our own placeholders.
func hostile() *Report {
	r := &Report{Command: "verify", Stack: "staging"}
	r.Add(
		Check{ID: "data", Status: Fail, Reason: "FP event <img src=x onerror=alert(1)> @octocat has no TTL",
			Fix:     "delete it with `aws dynamodb delete-item` | see #123",
			Details: map[string]string{"key": "</td></tr></table><h1>pwn</h1>", "table": "a|b"}},
		Check{ID: "stack", Status: Warn, Reason: "only acc-<name> acceptance stacks are destroyed",
			Fix: "change the program or Pulumi.<stack>.yaml, then go run ./automation <stack>"},
		Check{ID: "lock", Status: Fail, Reason: "locked by user\x1b[2J\x1b[31mroot\r\nhost evil\x07 line2",
			Fix: "wait for <run> to end"},
		Check{ID: "sse", Status: Pass, Reason: "encrypted with *the* _key_ [x](http://e.example) ~~y~~",
			Details: map[string]string{"kms": "alias/mirror"}},
		Check{ID: "alert", Status: Skip, Reason: "not asked for"},
	)
	return r
}

// renderGFM renders Markdown the way GitHub does (CommonMark plus tables and
// the other GFM extensions, raw HTML allowed as GitHub allows its safe
// subset) and returns the HTML's visible text and its element names.
func renderGFM(t *testing.T, md string) (text string, elems map[string]int) {
	t.Helper()
	var out bytes.Buffer
	gm := goldmark.New(goldmark.WithExtensions(extension.GFM), goldmark.WithRendererOptions(html.WithUnsafe()))
	if err := gm.Convert([]byte(md), &out); err != nil {
		t.Fatal(err)
	}
	doc, err := nethtml.Parse(&out)
	if err != nil {
		t.Fatal(err)
	}
	elems = map[string]int{}
	var b strings.Builder
	var walk func(n *nethtml.Node)
	walk = func(n *nethtml.Node) {
		switch n.Type {
		case nethtml.ElementNode:
			elems[n.Data]++
			if n.Data == "a" {
				// An autolink shows its own target; any other link hides one.
				if n.FirstChild == nil || n.FirstChild.Data != attr(n, "href") {
					t.Errorf("a link whose text is not its target: %s", attr(n, "href"))
				}
			}
		case nethtml.TextNode:
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
		if n.Type == nethtml.ElementNode && blockish[n.Data] {
			b.WriteByte('\n')
		}
	}
	walk(doc)
	return b.String(), elems
}

// blockish elements end a run of visible text.
var blockish = map[string]bool{"p": true, "li": true, "td": true, "th": true, "tr": true, "br": true,
	"h1": true, "h2": true, "h3": true, "summary": true, "details": true, "ul": true, "table": true}

func attr(n *nethtml.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// words splits visible text into words, dropping the invisible word joiner
// the Markdown escaping puts after @ and # (it stops GitHub's mentions and
// issue links and shows nothing).
// A trailing colon (the Markdown's "id:" next to the text's column) is not
// a difference either.
func words(s string) []string {
	ws := strings.Fields(strings.ReplaceAll(s, "\u2060", ""))
	for i, w := range ws {
		ws[i] = strings.TrimSuffix(w, ":")
	}
	return ws
}

func TestMarkdownShowsHostileValuesAsText(t *testing.T) {
	var md bytes.Buffer
	if err := hostile().WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	visible, elems := renderGFM(t, md.String())
	for _, el := range []string{"img", "h1", "em", "strong", "del", "script"} {
		if elems[el] > 0 && !(el == "strong" && strings.Contains(md.String(), "**")) {
			t.Errorf("a value became a <%s> element:\n%s", el, md.String())
		}
	}
	if elems["table"] > 1 {
		t.Errorf("a value closed the table and opened another (%d tables):\n%s", elems["table"], md.String())
	}
	for _, want := range []string{
		"<img src=x onerror=alert(1)>", "</td></tr></table><h1>pwn</h1>", "Pulumi.<stack>.yaml",
		"acc-<name>", "go run ./automation <stack>", "wait for <run> to end", "`aws dynamodb delete-item` | see",
		"*the* _key_ [x](http://e.example) ~~y~~", `\x1b[2J`, "a|b",
	} {
		if !strings.Contains(strings.Join(words(visible), " "), strings.Join(strings.Fields(want), " ")) {
			t.Errorf("the rendered Markdown does not show %q; visible text:\n%s\nsource:\n%s", want, visible, md.String())
		}
	}
	if strings.Contains(md.String(), "@octocat") || strings.Contains(md.String(), " #123") {
		t.Errorf("a mention or an issue link reaches GitHub as such:\n%s", md.String())
	}
	if strings.ContainsAny(md.String(), "\x1b\r\x07") {
		t.Errorf("control characters reach the Markdown:\n%q", md.String())
	}
}

// The text a reader sees in a rendered Markdown report is the text report's:
// every word of the text report (colourless, unwrapped, all details) is in
// the rendered Markdown as often.
func TestMarkdownVisibleTextMatchesTheTextReport(t *testing.T) {
	r := hostile()
	var md, text bytes.Buffer
	if err := r.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteText(&text, false); err != nil {
		t.Fatal(err)
	}
	visible, _ := renderGFM(t, md.String())
	have := map[string]int{}
	for _, w := range words(visible) {
		have[w]++
	}
	// The list at the end of the text repeats what failed; the Markdown
	// lists it once, first.
	body, _, ok := strings.Cut(text.String(), "\n"+SummaryHeading+"\n")
	if !ok {
		t.Fatalf("no %q in the text report:\n%s", SummaryHeading, text.String())
	}
	need := map[string]int{}
	for _, w := range words(body) {
		need[w]++
	}
	for w, n := range need {
		if have[w] < n {
			t.Errorf("the text report shows %q %d time(s), the rendered Markdown %d", w, n, have[w])
		}
	}
	if t.Failed() {
		t.Logf("text:\n%s\nmarkdown:\n%s\nvisible:\n%s", text.String(), md.String(), visible)
	}
}

func TestMarkdownStartsWithWhatFailedAndFoldsTheRest(t *testing.T) {
	var md bytes.Buffer
	if err := hostile().WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	s := md.String()
	details := strings.Index(s, "<details>")
	if details < 0 {
		t.Fatalf("no collapsed <details> for the rest:\n%s", s)
	}
	for _, id := range []string{"data", "stack", "lock"} {
		if i := strings.Index(s, "** "+id+": "); i < 0 || i > details {
			t.Errorf("%s (not passed) is not before the <details>:\n%s", id, s)
		}
	}
	for _, id := range []string{"sse", "alert"} {
		if i := strings.Index(s, "| "+id+" |"); i < details {
			t.Errorf("%s (passed or skipped) is not inside the <details>:\n%s", id, s)
		}
	}
	if strings.Contains(s, "<details open") {
		t.Error("the rest is not collapsed")
	}
}

func TestTextMakesControlCharactersVisible(t *testing.T) {
	var text bytes.Buffer
	if err := hostile().WriteText(&text, false); err != nil {
		t.Fatal(err)
	}
	s := text.String()
	for _, c := range []string{"\x1b", "\r", "\x07"} {
		if strings.Contains(s, c) {
			t.Errorf("the text report writes %q raw:\n%q", c, s)
		}
	}
	for _, want := range []string{`\x1b[2J`, `\r`, `\x07`} {
		if !strings.Contains(s, want) {
			t.Errorf("the text report does not show %s:\n%s", want, s)
		}
	}
}

// Whatever a value holds, rendered by a GFM renderer it shows as itself, in
// a paragraph, a list item and a table cell alike.
func TestMarkdownRoundTripsThroughAGFMRenderer(t *testing.T) {
	values := []string{
		"<img src=x onerror=alert(1)> @octocat", "</td></tr></table><h1>pwn</h1>", "Pulumi.<stack>.yaml",
		"a | b || c", "``code`` and `x`", "**bold** __b__ *i* _i_", "[t](http://x.example \"t\") ![i](y)",
		"&lt;entity&gt; &#64; &amp;", "~~strike~~ ~one~", "$math$ $$x$$", "# h", "## h", "- li", "+ li", "* li",
		"1. ol", "2) ol", "> q", "---", "===", "<!-- c -->", "<details open>", "\\<esc\\>", "back\\\\slash",
		"trailing backslash\\", "x\\|y", "<https://autolink.example>", "line\none", "esc\x1b[2J\r\x07",
		":smile: :+1:", "{curly} (round) 'q' \"dq\"", "tab\tsep", "    indented code?",
	}
	for _, v := range values {
		want := strings.Join(words(strings.ReplaceAll(Terminal(v), "\n", " ")), " ")
		for name, doc := range map[string]string{
			"paragraph": "x " + Markdown(v) + "\n",
			"list":      "- " + Markdown(v) + "\n",
			"table":     "| h |\n|---|\n| " + Markdown(v) + " |\n",
		} {
			visible, elems := renderGFM(t, doc)
			got := strings.Join(words(visible), " ")
			if name == "paragraph" {
				got = strings.TrimPrefix(got, "x ")
			}
			if name == "table" {
				got = strings.TrimPrefix(got, "h ")
			}
			if got != want {
				t.Errorf("%s: %q renders as %q, want %q (source %q)", name, v, got, want, doc)
			}
			for _, el := range []string{"img", "h1", "h2", "em", "strong", "del", "code", "blockquote", "hr", "ol", "details", "math"} {
				if elems[el] > 0 {
					t.Errorf("%s: %q made a <%s>: %q", name, v, el, doc)
				}
			}
		}
	}
}
