package report

import "testing"

func TestTerminal(t *testing.T) {
	cases := []struct{ in, want string }{
		{"plain text, ünïcode ✓", "plain text, ünïcode ✓"},
		{"clear\x1b[2Jscreen", `clear\x1b[2Jscreen`},
		{"over\rwrite", `over\rwrite`},
		{"bell\x07 nul\x00 del\x7f", `bell\x07 nul\x00 del\x7f`},
		{"c1 \u009b31m", `c1 \u009b31m`},
		{"bidi \u202eevil\u2066", `bidi \u202eevil\u2066`},
		{"line\u2028sep", `line\u2028sep`},
		{"bad \xff utf8", `bad \xff utf8`},
		{"tab\there", "tab here"},
		{"two\nlines", "two\nlines"},
	}
	for _, c := range cases {
		if got := Terminal(c.in); got != c.want {
			t.Errorf("Terminal(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestMarkdown(t *testing.T) {
	cases := []struct{ in, want string }{
		{"Pulumi.<stack>.yaml", `Pulumi.\<stack\>.yaml`},
		{"a|b `c` *d* _e_ [f](g) ~~h~~ &amp; $x$", "a\\|b \\`c\\` \\*d\\* \\_e\\_ \\[f\\](g) \\~\\~h\\~\\~ \\&amp; \\$x\\$"},
		{`back\slash`, `back\\slash`},
		{"ping @octocat and #123, not a@ or #x", "ping @\u2060octocat and #\u2060123, not a@ or #x"},
		{"# heading", `\# heading`},
		{"- item", `\- item`},
		{"## h2", `\## h2`},
		{"#hashtag", "#hashtag"},
		{"---", `\---`},
		{"= = =", `\= = =`},
		{"1.5 seconds", "1.5 seconds"},
		{"> quote", `\> quote`},
		{"12. ordered", `12\. ordered`},
		{"3) ordered", `3\) ordered`},
		{"one\ntwo", "one<br>two"},
		{"esc\x1b[31m", `esc\\x1b\[31m`},
		{"  --approve staging=sha256:ab  ", "--approve staging=sha256:ab"},
	}
	for _, c := range cases {
		if got := Markdown(c.in); got != c.want {
			t.Errorf("Markdown(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestMdCode(t *testing.T) {
	cases := []struct{ in, want string }{
		{"staging", "`staging`"},
		{"a`b", "``a`b``"},
		{"`x`", "`` `x` ``"},
		{"two\nlines", "`two\\x0alines`"},
	}
	for _, c := range cases {
		if got := mdCode(c.in); got != c.want {
			t.Errorf("mdCode(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
