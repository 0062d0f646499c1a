package gate

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/sig"

	"github.com/mirror-dissonance/mirror-infra/spec"
)

// UnknownValue is how the engine shows a string input not known until
// apply (the SDK's sentinels for other kinds are recognised too).
const UnknownValue = sig.UnknownStringValue

// unreadable is why a planned value cannot be judged before apply.
type unreadable int

const (
	known unreadable = iota
	// unknown: a value AWS computes (an ARN, an id, a URL) and what is
	// made from it, not known until apply.
	unknown
	// secret: a secret the preview shows only as ciphertext.
	secret
)

func (u unreadable) message(path string) string {
	if u == secret {
		return fmt.Sprintf("%s is a secret the preview does not show, so it is not verified here; the verifier checks it after up", path)
	}
	return fmt.Sprintf("%s is unknown until apply, so it is not verified here; the verifier checks it after up", path)
}

// plain unwraps one engine value: the unknown sentinels, a secret (known
// when the event carries its plaintext), an output value, a resource
// reference (its id). Maps and lists are returned as they are.
func plain(v any) (any, unreadable) {
	switch t := v.(type) {
	case string:
		if sig.IsUnknown(t) {
			return nil, unknown
		}
	case map[string]any:
		kind, _ := t[sig.Key].(string)
		switch kind {
		case sig.Secret:
			pt, ok := t["plaintext"].(string)
			if !ok {
				return nil, secret
			}
			var inner any
			if err := json.Unmarshal([]byte(pt), &inner); err != nil {
				return nil, secret
			}
			return plain(inner)
		case sig.OutputValue:
			inner, ok := t["value"]
			if !ok {
				return nil, unknown
			}
			v, st := plain(inner)
			if st == known {
				if s, _ := t["secret"].(bool); s {
					// A secret output shown in the clear is still known.
					return v, known
				}
			}
			return v, st
		case sig.ResourceReference:
			id, ok := t["id"]
			if !ok {
				return nil, unknown
			}
			return plain(id)
		}
	}
	return v, known
}

// read walks a dotted path through the inputs, unwrapping engine values on
// the way; a missing part is (nil, known).
func read(inputs map[string]any, path string) (any, unreadable) {
	var cur any = inputs
	for _, part := range strings.Split(path, ".") {
		v, st := plain(cur)
		if st != known {
			return nil, st
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, known
		}
		if cur, ok = m[part]; !ok {
			return nil, known
		}
	}
	return plain(cur)
}

// field reads a dotted path inside an element of a list input, recording
// it as unverified (under the element's path) when it cannot be read.
func (p *Plan) field(r Resource, elem any, elemPath, path string) (any, bool) {
	m, _ := elem.(map[string]any)
	v, st := read(m, path)
	if st != known {
		p.Unverified(r, elemPath+"."+path, st)
		return nil, false
	}
	return v, true
}

// deep unwraps a whole value; it is unreadable when any part is.
func deep(v any) (any, unreadable) {
	v, st := plain(v)
	if st != known {
		return nil, st
	}
	switch t := v.(type) {
	case string:
		// A string rendered from an unknown value (a policy document
		// templated around an ARN) carries the sentinel inside.
		if strings.Contains(t, UnknownValue) {
			return nil, unknown
		}
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			y, st := deep(x)
			if st != known {
				return nil, st
			}
			out[k] = y
		}
		return out, known
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			y, st := deep(x)
			if st != known {
				return nil, st
			}
			out[i] = y
		}
		return out, known
	}
	return v, known
}

// Bool reads a boolean input: missing is false; ok is false when it cannot
// be read (then it is recorded as unverified for the running rule).
func (p *Plan) Bool(r Resource, path string) (b, ok bool) {
	v, st := read(r.Inputs, path)
	if st != known {
		p.Unverified(r, path, st)
		return false, false
	}
	switch t := v.(type) {
	case bool:
		return t, true
	case string:
		return t == "true", true
	}
	return false, true
}

// Str reads a string input: missing is ""; ok as for Bool.
func (p *Plan) Str(r Resource, path string) (s string, ok bool) {
	v, st := read(r.Inputs, path)
	if st != known {
		p.Unverified(r, path, st)
		return "", false
	}
	s, _ = v.(string)
	return s, true
}

// List reads a list input, each element unwrapped (one level: a map
// element may hold unknown values); ok as for Bool. An element that cannot
// be read is recorded and left out.
func (p *Plan) List(r Resource, path string) (list []any, ok bool) {
	v, st := read(r.Inputs, path)
	if st != known {
		p.Unverified(r, path, st)
		return nil, false
	}
	raw, _ := v.([]any)
	for i, x := range raw {
		y, st := plain(x)
		if st != known {
			p.Unverified(r, fmt.Sprintf("%s[%d]", path, i), st)
			continue
		}
		list = append(list, y)
	}
	return list, len(list) == len(raw)
}

// Policy reads a policy document input. ok is false when it is missing,
// cannot be read before apply (recorded as unverified) or is not a policy
// document (recorded as a failure of the running rule).
func (p *Plan) Policy(r Resource, key string) ([]spec.Statement, bool) {
	v, st := read(r.Inputs, key)
	if st == known && v == nil {
		return nil, false
	}
	if st == known {
		v, st = deep(v)
	}
	if st != known {
		p.Unverified(r, key, st)
		return nil, false
	}
	doc, err := spec.ParsePolicy(v)
	if err != nil {
		p.Fail(r, "%s is not a readable policy document: %v", key, err)
		return nil, false
	}
	return doc.Statement, true
}
