package server

import (
	"fmt"
	"sort"
	"strings"
)

// A small reader of DynamoDB expressions: enough to find the attribute
// names, placeholders, functions and update targets DynamoDB validates.

type exprTokenKind int

const (
	tokIdent  exprTokenKind = iota // an attribute name or keyword
	tokName                        // #placeholder
	tokValue                       // :placeholder
	tokNumber                      // a list index
	tokPunct                       // = < > ( ) , . [ ] + -
)

type exprToken struct {
	kind exprTokenKind
	text string
}

func isIdentChar(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// lexExpr splits an expression into tokens; comparison operators of two
// characters are one token.
func lexExpr(s string) []exprToken {
	var out []exprToken
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '#' || c == ':':
			j := i + 1
			for j < len(s) && isIdentChar(s[j]) {
				j++
			}
			k := tokName
			if c == ':' {
				k = tokValue
			}
			out = append(out, exprToken{k, s[i:j]})
			i = j
		case c >= '0' && c <= '9':
			j := i
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			out = append(out, exprToken{tokNumber, s[i:j]})
			i = j
		case isIdentChar(c):
			j := i
			for j < len(s) && isIdentChar(s[j]) {
				j++
			}
			out = append(out, exprToken{tokIdent, s[i:j]})
			i = j
		default:
			if i+1 < len(s) && (s[i:i+2] == "<=" || s[i:i+2] == ">=" || s[i:i+2] == "<>") {
				out = append(out, exprToken{tokPunct, s[i : i+2]})
				i += 2
				continue
			}
			out = append(out, exprToken{tokPunct, s[i : i+1]})
			i++
		}
	}
	return out
}

// exprKeywords are the operators every expression may use unescaped
// (they are reserved words as attribute names); updateKeywords start the
// clauses of an update expression.
var (
	exprKeywords   = map[string]bool{"AND": true, "OR": true, "NOT": true, "BETWEEN": true, "IN": true}
	updateKeywords = map[string]bool{"SET": true, "REMOVE": true, "ADD": true, "DELETE": true}
)

// reservedInExpr returns the first attribute name used unescaped in expr
// that is a DynamoDB reserved word.
func reservedInExpr(expr string, update bool) string {
	toks := lexExpr(expr)
	for i, t := range toks {
		if t.kind != tokIdent {
			continue
		}
		up := strings.ToUpper(t.text)
		if exprKeywords[up] || update && updateKeywords[up] {
			continue
		}
		if i+1 < len(toks) && toks[i+1].text == "(" {
			continue // a function
		}
		if reservedWords[up] {
			return t.text
		}
	}
	return ""
}

// placeholders adds the #names and :values expr uses to names and values.
func placeholders(expr string, names, values map[string]bool) {
	for _, t := range lexExpr(expr) {
		switch t.kind {
		case tokName:
			names[t.text] = true
		case tokValue:
			values[t.text] = true
		}
	}
}

// exprPath is a document path read from tokens, #names resolved: "a",
// "b", "[1]".
type exprPath []string

func (p exprPath) String() string { return "[" + strings.Join(p, ", ") + "]" }

// readPath reads a document path at toks[i:], returning it and the index
// after it (i when no path starts there).
func readPath(toks []exprToken, i int, names map[string]string) (exprPath, int) {
	var p exprPath
	for i < len(toks) {
		t := toks[i]
		switch {
		case (t.kind == tokIdent || t.kind == tokName) && (len(p) == 0 || toks[i-1].text == "."):
			n := t.text
			if t.kind == tokName {
				n = names[t.text]
			}
			p = append(p, n)
			i++
		case t.text == "." && len(p) > 0:
			i++
		case t.text == "[" && len(p) > 0 && i+2 < len(toks) && toks[i+2].text == "]":
			p = append(p, "["+toks[i+1].text+"]")
			i += 3
		default:
			return p, i
		}
	}
	return p, i
}

// updateTargets lists the paths an update expression writes (SET, REMOVE,
// ADD and DELETE targets), and the values SET assigns directly.
func updateTargets(expr string, names map[string]string) (targets []exprPath, set map[string]string) {
	toks := lexExpr(expr)
	set = map[string]string{}
	clause := ""
	expectTarget := false
	depth := 0
	for i := 0; i < len(toks); {
		t := toks[i]
		up := strings.ToUpper(t.text)
		switch {
		case t.kind == tokIdent && depth == 0 && updateKeywords[up] && (i+1 >= len(toks) || toks[i+1].text != "("):
			clause, expectTarget = up, true
			i++
		case expectTarget && (t.kind == tokIdent || t.kind == tokName):
			p, j := readPath(toks, i, names)
			targets = append(targets, p)
			expectTarget = false
			if clause == "SET" && j+1 < len(toks) && toks[j].text == "=" && toks[j+1].kind == tokValue && (j+2 >= len(toks) || toks[j+2].text == "," || updateKeywords[strings.ToUpper(toks[j+2].text)]) {
				set[strings.Join(p, ".")] = toks[j+1].text
			}
			i = j
		case t.text == "(":
			depth++
			i++
		case t.text == ")":
			depth--
			i++
		case t.text == "," && depth == 0:
			expectTarget = clause != ""
			i++
		default:
			i++
		}
	}
	return targets, set
}

// overlapping returns two of the paths that overlap (one equals or
// contains the other), as DynamoDB rejects in one update.
func overlapping(paths []exprPath) (exprPath, exprPath, bool) {
	for i := range paths {
		for j := i + 1; j < len(paths); j++ {
			a, b := paths[i], paths[j]
			if len(a) > len(b) {
				a, b = b, a
			}
			prefix := true
			for k := range a {
				if a[k] != b[k] {
					prefix = false
					break
				}
			}
			if prefix {
				return paths[i], paths[j], true
			}
		}
	}
	return nil, nil, false
}

// keyCondition is one condition of a key condition expression.
type keyCondition struct {
	attr string
	// op is "=", "<", "<=", ">", ">=", "BETWEEN" or a function name.
	op string
}

// keyConditions reads a key condition expression into its conditions
// (joined by AND); ok is false for what a key condition cannot hold (OR,
// NOT, IN, <>, other functions or nesting).
func keyConditions(expr string, names map[string]string) (conds []keyCondition, ok bool) {
	toks := lexExpr(expr)
	for i := 0; i < len(toks); {
		t := toks[i]
		up := strings.ToUpper(t.text)
		switch {
		case t.kind == tokIdent && up == "AND":
			i++
		case t.text == "(" || t.text == ")":
			i++
		case t.kind == tokIdent && i+1 < len(toks) && toks[i+1].text == "(":
			// f(path, :v)
			p, j := readPath(toks, i+2, names)
			if len(p) != 1 {
				return nil, false
			}
			conds = append(conds, keyCondition{attr: p[0], op: strings.ToLower(t.text)})
			for j < len(toks) && toks[j].text != ")" {
				j++
			}
			i = j + 1
		case t.kind == tokIdent || t.kind == tokName:
			p, j := readPath(toks, i, names)
			if len(p) != 1 || j >= len(toks) {
				return nil, false
			}
			op := strings.ToUpper(toks[j].text)
			switch op {
			case "=", "<", "<=", ">", ">=":
				i = j + 2
			case "BETWEEN":
				i = j + 4 // :a AND :b
			default:
				return nil, false
			}
			conds = append(conds, keyCondition{attr: p[0], op: op})
		case t.kind == tokValue:
			return nil, false // a value on the left
		default:
			return nil, false
		}
	}
	return conds, true
}

// unusedOrMissing compares the placeholders a request defines with those
// its expressions use, giving DynamoDB's message for the first mismatch.
func unusedOrMissing(defNames map[string]string, defValues map[string]bool, usedNames, usedValues map[string]bool) string {
	if k := missing(usedNames, keysOf(defNames)); k != "" {
		return "Value provided in ExpressionAttributeNames unused in expressions: keys: {" + k + "}"
	}
	if k := missing(usedValues, defValues); k != "" {
		return "Value provided in ExpressionAttributeValues unused in expressions: keys: {" + k + "}"
	}
	if k := missing(keysOf(defNames), usedNames); k != "" {
		return "An expression attribute name used in the document path is not defined; attribute name: " + k
	}
	if k := missing(defValues, usedValues); k != "" {
		return "An expression attribute value used in expression is not defined; attribute value: " + k
	}
	return ""
}

func keysOf(m map[string]string) map[string]bool {
	out := map[string]bool{}
	for k := range m {
		out[k] = true
	}
	return out
}

// missing lists, sorted and comma-joined, the keys of want absent from have.
func missing(have, want map[string]bool) string {
	var out []string
	for k := range want {
		if !have[k] {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// expressionError is the message of an expression DynamoDB rejects.
func expressionError(kind, why string) string {
	return fmt.Sprintf("Invalid %sExpression: %s", kind, why)
}
