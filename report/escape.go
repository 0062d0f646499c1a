package report

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The two destinations of report text each have one escaping function:
// Terminal for what a terminal shows, Markdown for what GitHub renders (PR
// comments, job summaries). Every value a report renders goes through one
// of them; code elsewhere that writes to a terminal or Markdown calls them
// too rather than escaping by itself.

// Terminal makes s safe to print on a terminal: control characters (C0
// except the line feed, DEL, C1, the Unicode line and paragraph separators
// and bidirectional overrides) are shown as Go escapes such as \x1b[2J or
// \r, so table data cannot clear the screen, recolour it or overwrite a
// line; a tab becomes a space so it cannot break the alignment; invalid
// UTF-8 is shown byte by byte. Line feeds stay: the writer indents them.
func Terminal(s string) string { return visible(s, "\n") }

// Markdown makes s one line of GitHub-flavoured Markdown that renders as
// exactly s: inline Markdown punctuation is backslash-escaped (so `<stack>`
// shows and `<img>` or `</table>` stay text), a pipe cannot end a table
// cell, a leading # - + = > or "1." cannot start a block, line feeds become
// <br>, an @mention or a #123 reference gets an invisible word joiner so
// GitHub neither pings nor links it, and control characters are made
// visible as by Terminal.
func Markdown(s string) string {
	s = visible(strings.TrimSpace(s), "\n")
	var b strings.Builder
	b.Grow(len(s) + len(s)/4)
	lead := blockMarker(s)
	for i, r := range s {
		switch {
		case r == '\n':
			b.WriteString("<br>")
			continue
		case i == lead, r < utf8.RuneSelf && strings.ContainsRune(mdPunct, r):
			b.WriteByte('\\')
		}
		b.WriteRune(r)
		if next, ok := nextRune(s, i+utf8.RuneLen(r)); ok && wordJoin(r, next) {
			b.WriteRune(wordJoiner)
		}
	}
	return b.String()
}

// mdPunct is the ASCII punctuation that acts anywhere in a line of
// GitHub-flavoured Markdown: escapes, code, emphasis, links and images,
// HTML and autolinks, tables, strikethrough, entities and math. The rest
// (# - + . and so on) acts only at the start of a line (see blockMarker).
const mdPunct = "\\`*_[]<>|~&$"

// blockMarker is the index of the character that would make s open a
// heading, a list, a thematic break or a setext underline at the start of a
// line ("# x", "- x", "---", "1. x"), or -1; escaping it keeps s a
// paragraph. (A quote's > is escaped everywhere.)
func blockMarker(s string) int {
	if s == "" {
		return -1
	}
	first := s[0]
	run := len(s) - len(strings.TrimLeft(s, string(first)))
	rest := s[run:]
	spaceAfter := func(t string) bool { return t == "" || t[0] == ' ' }
	switch first {
	case '#': // ATX heading: one to six #, then a space or the end
		if run <= 6 && spaceAfter(rest) {
			return 0
		}
	case '-', '+', '=': // a list item, a thematic break, a setext underline
		if spaceAfter(s[1:]) || strings.Trim(s, string(first)+" ") == "" {
			return 0
		}
	}
	i := 0
	for i < len(s) && i < 9 && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i > 0 && i < len(s) && (s[i] == '.' || s[i] == ')') && spaceAfter(s[i+1:]) {
		return i
	}
	return -1
}

// mdCode is s as an inline code span, for names (a stack, a check id)
// outside tables: a fence longer than any run of backticks in s, so
// nothing in s ends it, and no line break.
func mdCode(s string) string {
	s = visible(strings.TrimSpace(s), "")
	run, longest := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		s = " " + s + " "
	}
	return fence + s + fence
}

// wordJoiner (U+2060) is invisible and zero-width; after @ or # it stops
// GitHub from reading a mention or an issue reference.
const wordJoiner = '\u2060'

func wordJoin(r, next rune) bool {
	switch r {
	case '@':
		return next < utf8.RuneSelf && (unicode.IsLetter(next) || unicode.IsDigit(next))
	case '#':
		return unicode.IsDigit(next)
	}
	return false
}

func nextRune(s string, i int) (rune, bool) {
	if i >= len(s) {
		return 0, false
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	return r, true
}

// visible escapes the characters that would act on a terminal (or hide in a
// rendered page) instead of showing, keeping those in keep.
func visible(s, keep string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || r == '\t' || (hidden(r) && !strings.ContainsRune(keep, r)) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\t':
			b.WriteByte(' ')
		case strings.ContainsRune(keep, r) || !hidden(r):
			b.WriteString(s[i : i+n])
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x80:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
		i += n
	}
	return b.String()
}

// hidden reports a character that a terminal acts on or that does not show.
func hidden(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
		return true
	case r == '\u2028', r == '\u2029', r == '\u061c', r == '\u200e', r == '\u200f',
		r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069':
		return true
	}
	return false
}
