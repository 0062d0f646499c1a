package workflows

import (
	"regexp"
	"strings"
)

// Invocation is one driver command line found in a text: `go run
// ./automation ...`, or the built binary `bin/automation ...` (scripts use the
// binary because `go run` reports every non-zero exit status as 1).
type Invocation struct {
	// Line is the 1-based line of the text where the command starts.
	Line int
	// Binary is true for the bin/automation form.
	Binary bool
	// Args are the words after "./automation", quotes removed, up to the
	// first shell operator, redirection, comment or closing backtick.
	// Variables ($STACK) are left as written.
	Args []string
}

// String is the command, for messages.
func (i Invocation) String() string {
	if i.Binary {
		return "bin/automation " + strings.Join(i.Args, " ")
	}
	return "go run ./automation " + strings.Join(i.Args, " ")
}

var invocationStart = regexp.MustCompile(`(go\s+run\s+\./automation|(?:\./)?\bbin/automation)(\s|$|` + "`" + `)`)

// FindInvocations returns every driver command in text, which may be a shell
// script, a workflow file or Markdown (inline code or fenced blocks). A
// backslash at the end of a line continues the command. The output path of
// `go build -o bin/automation` is not a command.
func FindInvocations(text string) []Invocation {
	lines := strings.Split(text, "\n")
	var out []Invocation
	for i := 0; i < len(lines); i++ {
		start := i
		line := lines[i]
		// Join continuation lines so a wrapped command is read whole.
		for strings.HasSuffix(strings.TrimRight(line, " \t"), `\`) && i+1 < len(lines) {
			line = strings.TrimSuffix(strings.TrimRight(line, " \t"), `\`) + " " + lines[i+1]
			i++
		}
		rest := line
		for {
			loc := invocationStart.FindStringIndex(rest)
			if loc == nil {
				break
			}
			after := rest[loc[1]:]
			// The match may have consumed the terminating backtick.
			if strings.HasSuffix(rest[loc[0]:loc[1]], "`") {
				after = rest[loc[1]-1:]
			}
			binary := !strings.HasPrefix(rest[loc[0]:], "go")
			if binary && strings.HasSuffix(strings.TrimRight(rest[:loc[0]], " \t"), "-o") {
				rest = after // a build's output path
				continue
			}
			args, consumed := words(after)
			out = append(out, Invocation{Line: start + 1, Binary: binary, Args: args})
			rest = after[consumed:]
		}
	}
	return out
}

// words splits s into shell words up to the first character that ends a
// simple command. It returns the words and how many bytes it read.
func words(s string) ([]string, int) {
	var (
		out  []string
		cur  strings.Builder
		have bool // cur holds a word, possibly empty ("")
	)
	flush := func() {
		if have {
			out = append(out, cur.String())
		}
		cur.Reset()
		have = false
	}
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			flush()
			i++
		case c == '\'' || c == '"':
			end := strings.IndexByte(s[i+1:], c)
			if end < 0 {
				end = len(s) - i - 1
			}
			cur.WriteString(s[i+1 : i+1+end])
			have = true
			i += end + 2
		case c == '<' && !have:
			// A placeholder such as <stack>, not a redirection.
			end := strings.IndexByte(s[i:], '>')
			if end < 0 {
				flush()
				return out, i
			}
			cur.WriteString(s[i : i+end+1])
			have = true
			i += end + 1
		case c == '>':
			// "2>file": the digits belong to the redirection, not the command.
			if have && strings.Trim(cur.String(), "0123456789") == "" {
				cur.Reset()
				have = false
			}
			flush()
			return out, i
		case c == '|' || c == ';' || c == '&' || c == '`' || c == ')' || c == '\n':
			flush()
			return out, i
		case c == '#' && !have:
			flush()
			return out, i
		default:
			cur.WriteByte(c)
			have = true
			i++
		}
	}
	flush()
	if i > len(s) {
		i = len(s)
	}
	return out, i
}
