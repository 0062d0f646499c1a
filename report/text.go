package report

import (
	"io"
	"os"
	"sort"
	"strings"

	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"
	"golang.org/x/term"
)

// TextOptions say how the text report is laid out.
type TextOptions struct {
	// Quiet prints details (the key: value lines) only for checks that did
	// not pass; every check keeps its one line.
	Quiet bool
	// Width wraps reasons, fixes and details to this many columns, each
	// continuation under the column it started in; 0 does not wrap.
	Width int
	// Color colours the statuses; only for a terminal.
	Color bool
}

// TextOptionsFor detects the layout for writing to f: on a terminal,
// compact (Quiet), wrapped to its width and coloured unless NO_COLOR is set
// or TERM is dumb; anywhere else (a file, a pipe, a CI log) every detail,
// unwrapped and colourless. getenv is os.Getenv when nil. A command line
// overrides the fields it has flags for (--quiet, --verbose, --no-color).
func TextOptionsFor(f *os.File, getenv func(string) string) TextOptions {
	if getenv == nil {
		getenv = os.Getenv
	}
	if f == nil || !term.IsTerminal(int(f.Fd())) {
		return textOptions(false, 0, getenv)
	}
	w, _, err := term.GetSize(int(f.Fd()))
	if err != nil {
		w = 0
	}
	return textOptions(true, w, getenv)
}

// textOptions is TextOptionsFor's decision, apart from the terminal.
func textOptions(tty bool, width int, getenv func(string) string) TextOptions {
	if !tty {
		return TextOptions{}
	}
	return TextOptions{Quiet: true, Width: max(width, 0), Color: colourAllowed(getenv)}
}

// colourAllowed is the environment's say on colour (https://no-color.org:
// NO_COLOR set to anything non-empty turns it off; so does TERM=dumb).
func colourAllowed(getenv func(string) string) bool {
	return getenv("NO_COLOR") == "" && getenv("TERM") != "dumb"
}

// SummaryHeading starts the list, at the end of a text report, of every
// check that failed or warned, with its fix.
const SummaryHeading = "Not passed:"

// minWrap is the narrowest column text is wrapped into; a terminal too
// narrow for it gets longer lines rather than one word a line.
const minWrap = 24

// WriteText writes the aligned text report with every detail, unwrapped;
// useColour colours the statuses (only for a terminal). It is WriteTextWith
// with TextOptions{Color: useColour}.
func (r *Report) WriteText(w io.Writer, useColour bool) error {
	return r.WriteTextWith(w, TextOptions{Color: useColour})
}

// WriteTextWith writes the text report: a title, one line a check (its
// fix and details under it), then SummaryHeading and each FAIL and WARN
// with its fix, then the counts. Every value goes through Terminal.
func (r *Report) WriteTextWith(w io.Writer, o TextOptions) error {
	r = r.redacted()
	idw := 2
	for _, c := range r.Checks {
		idw = max(idw, ansi.StringWidth(Terminal(c.ID)))
	}
	t := textWriter{o: o}
	title := r.Command
	if r.Stack != "" {
		title += " " + r.Stack
	}
	t.line("", Terminal(title))
	// "  <id>  <STATUS>  <reason>": the reason, fix and details all start in
	// the same column.
	col := 2 + idw + 2 + 4 + 2
	pad := strings.Repeat(" ", col)
	for _, c := range r.Checks {
		id := Terminal(c.ID)
		head := "  " + id + strings.Repeat(" ", idw-ansi.StringWidth(id)) + "  " + t.status(c.Status) + "  "
		if o.Quiet && o.Width > 0 && (c.Status == Pass || c.Status == Skip) {
			// Compact: what passed or was skipped is one line, cut to the
			// terminal's width.
			reason := strings.Join(strings.Fields(Terminal(c.Reason)), " ")
			t.line(head, ansi.Truncate(reason, max(o.Width-ansi.StringWidth(head), minWrap), "…"))
			continue
		}
		t.hanging(head, pad, Terminal(c.Reason))
		if c.Fix != "" && c.Status != Pass {
			t.hanging(pad+"fix: ", pad+"     ", Terminal(c.Fix))
		}
		if o.Quiet && (c.Status == Pass || c.Status == Skip) {
			continue
		}
		for _, k := range sortedKeys(c.Details) {
			key := Terminal(k) + ": "
			t.hanging(pad+key, pad+"  ", Terminal(c.Details[k]))
		}
	}
	if bad := notPassed(r.Checks); len(bad) > 0 {
		t.line("", SummaryHeading)
		for _, c := range bad {
			fix := c.Fix
			if fix == "" {
				fix = c.Reason
			}
			head := "  " + t.status(c.Status) + "  " + Terminal(c.ID) + ": "
			t.hanging(head, "        ", Terminal(fix))
		}
	}
	t.line("", r.Summary())
	_, err := io.WriteString(w, t.b.String())
	return err
}

// notPassed is every FAIL, then every WARN, each in report order.
func notPassed(cs []Check) []Check {
	var out []Check
	for _, st := range []Status{Fail, Warn} {
		for _, c := range cs {
			if c.Status == st {
				out = append(out, c)
			}
		}
	}
	return out
}

type textWriter struct {
	o TextOptions
	b strings.Builder
}

func (t *textWriter) status(s Status) string {
	if !t.o.Color {
		return string(s)
	}
	return termenv.String(string(s)).Foreground(statusColour(s)).String()
}

func statusColour(s Status) termenv.Color {
	switch s {
	case Pass:
		return termenv.ANSIGreen
	case Fail:
		return termenv.ANSIRed
	case Warn:
		return termenv.ANSIYellow
	default:
		return termenv.ANSIBrightBlack
	}
}

func (t *textWriter) line(prefix, s string) {
	t.b.WriteString(strings.TrimRight(prefix+s, " "))
	t.b.WriteByte('\n')
}

// hanging writes head then s, s's own lines and (with a width) its wrapped
// lines continuing under indent, so wrapping never breaks the columns.
func (t *textWriter) hanging(head, indent, s string) {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i, l := range lines {
		prefix := head
		if i > 0 {
			prefix = indent
		}
		l = strings.TrimRight(l, " ")
		if t.o.Width > 0 {
			first := max(t.o.Width-ansi.StringWidth(prefix), 1)
			for j, w := range wrapWords(l, first, max(t.o.Width-ansi.StringWidth(indent), minWrap)) {
				if j > 0 {
					prefix = indent
				}
				t.line(prefix, w)
			}
			continue
		}
		t.line(prefix, l)
	}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// wrapWords breaks s at spaces into lines, the first at most first columns
// wide, the others at most rest. A word wider than its line (a URL, a
// resource name) starts a line of its own and stays whole, so it can still
// be copied; hyphens never break. The first line may be empty when even
// the first word does not fit after the head but fits below it.
func wrapWords(s string, first, rest int) []string {
	var lines []string
	var cur strings.Builder
	curw, room := 0, first
	for _, w := range strings.Fields(s) {
		ww := ansi.StringWidth(w)
		switch {
		case curw > 0 && curw+1+ww > room,
			curw == 0 && len(lines) == 0 && ww > first && ww <= rest && rest > first:
			lines = append(lines, cur.String())
			cur.Reset()
			curw, room = 0, rest
		}
		if curw > 0 {
			cur.WriteByte(' ')
			curw++
		}
		cur.WriteString(w)
		curw += ww
	}
	return append(lines, cur.String())
}
