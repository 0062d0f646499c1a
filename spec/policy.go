package spec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"path"
	"strings"
)

// PolicyVersion is the policy language version every document uses.
const PolicyVersion = "2012-10-17"

// PolicyDocument is an IAM, KMS or SNS policy document. Policies are built
// from it (never templated) and read back into it by ParsePolicy, so the
// program, the gate, the verifier and the emulator agree on one shape.
type PolicyDocument struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Statement is one policy statement. Principal and Condition values are a
// string or a list of strings, as AWS writes them.
type Statement struct {
	Sid          string                    `json:"Sid,omitempty"`
	Effect       string                    `json:"Effect"`
	Principal    map[string]any            `json:"Principal,omitempty"`
	NotPrincipal map[string]any            `json:"NotPrincipal,omitempty"`
	Action       Strings                   `json:"Action,omitempty"`
	NotAction    Strings                   `json:"NotAction,omitempty"`
	Resource     Strings                   `json:"Resource,omitempty"`
	NotResource  Strings                   `json:"NotResource,omitempty"`
	Condition    map[string]map[string]any `json:"Condition,omitempty"`
}

// Strings is a policy field that AWS writes as one string or a list; it
// always renders as a list.
type Strings []string

// UnmarshalJSON accepts a string or a list of strings.
func (s *Strings) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*s = Strings{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("want a string or a list of strings, got %s", b)
	}
	*s = many
	return nil
}

// Allow is an Allow statement of actions on resources.
func Allow(sid string, actions []string, resources ...string) Statement {
	return Statement{Sid: sid, Effect: "Allow", Action: actions, Resource: resources}
}

// Policy makes a document of statements.
func Policy(statements ...Statement) PolicyDocument {
	return PolicyDocument{Version: PolicyVersion, Statement: statements}
}

// JSON renders the document.
func (p PolicyDocument) JSON() (string, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return "", fmt.Errorf("rendering policy document: %w", err)
	}
	return string(b), nil
}

// ParsePolicy is the one reader of policy JSON: it accepts what AWS returns
// (IAM's URL-encoded documents, a single statement object instead of a
// list, "Principal": "*") and what plans carry (a string or a decoded
// object).
func ParsePolicy(doc any) (PolicyDocument, error) {
	var raw []byte
	switch v := doc.(type) {
	case string:
		s := strings.TrimSpace(v)
		if !strings.HasPrefix(s, "{") {
			if d, err := url.QueryUnescape(s); err == nil {
				s = strings.TrimSpace(d) // IAM returns documents URL-encoded
			}
		}
		raw = []byte(s)
	case []byte:
		raw = v
	case nil:
		return PolicyDocument{}, fmt.Errorf("no policy document")
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return PolicyDocument{}, fmt.Errorf("reading policy document: %w", err)
		}
		raw = b
	}
	var top struct {
		Version   string          `json:"Version"`
		Statement json.RawMessage `json:"Statement"`
	}
	if err := json.Unmarshal(raw, &top); err != nil {
		return PolicyDocument{}, fmt.Errorf("policy document is not valid JSON: %w", err)
	}
	p := PolicyDocument{Version: top.Version}
	st := bytes.TrimSpace(top.Statement)
	if len(st) == 0 {
		return p, nil
	}
	if st[0] == '{' {
		var one rawStatement
		if err := json.Unmarshal(st, &one); err != nil {
			return PolicyDocument{}, fmt.Errorf("policy statement: %w", err)
		}
		p.Statement = []Statement{one.statement()}
		return p, nil
	}
	var many []rawStatement
	if err := json.Unmarshal(st, &many); err != nil {
		return PolicyDocument{}, fmt.Errorf("policy statements: %w", err)
	}
	for _, r := range many {
		p.Statement = append(p.Statement, r.statement())
	}
	return p, nil
}

type rawStatement struct {
	Sid          string                    `json:"Sid"`
	Effect       string                    `json:"Effect"`
	Principal    any                       `json:"Principal"`
	NotPrincipal any                       `json:"NotPrincipal"`
	Action       Strings                   `json:"Action"`
	NotAction    Strings                   `json:"NotAction"`
	Resource     Strings                   `json:"Resource"`
	NotResource  Strings                   `json:"NotResource"`
	Condition    map[string]map[string]any `json:"Condition"`
}

func (r rawStatement) statement() Statement {
	return Statement{Sid: r.Sid, Effect: r.Effect, Principal: principalMap(r.Principal), NotPrincipal: principalMap(r.NotPrincipal),
		Action: r.Action, NotAction: r.NotAction, Resource: r.Resource, NotResource: r.NotResource, Condition: r.Condition}
}

// principalMap reads a Principal element: "*" means any AWS principal.
func principalMap(v any) map[string]any {
	switch p := v.(type) {
	case string:
		return map[string]any{"AWS": p}
	case map[string]any:
		return p
	}
	return nil
}

// StringsOf flattens a policy value (a string, a list, or a map of them)
// into its strings.
func StringsOf(v any) []string {
	switch t := v.(type) {
	case string:
		return []string{t}
	case []string:
		return t
	case Strings:
		return t
	case []any:
		var out []string
		for _, x := range t {
			out = append(out, StringsOf(x)...)
		}
		return out
	case map[string]any:
		var out []string
		for _, x := range t {
			out = append(out, StringsOf(x)...)
		}
		return out
	}
	return nil
}

// Principals returns the principals of a kind ("AWS", "Service",
// "Federated"); kind "" returns all of them.
func (s Statement) Principals(kind string) []string {
	if kind == "" {
		return StringsOf(map[string]any(s.Principal))
	}
	return StringsOf(s.Principal[kind])
}

// ConditionValues returns the values a condition operator sets for a key.
func (s Statement) ConditionValues(op, key string) []string {
	return StringsOf(s.Condition[op][key])
}

// HasCondition reports whether any operator constrains key, and returns the
// operators that do.
func (s Statement) HasCondition(key string) []string {
	var ops []string
	for op, conds := range s.Condition {
		if _, ok := conds[key]; ok {
			ops = append(ops, op)
		}
	}
	return ops
}

// Allows reports whether an Allow statement grants action, with IAM's
// case-insensitive wildcard matching ("kms:*", "kms:GenerateDataKey*").
func (s Statement) Allows(action string) bool {
	if s.Effect != "Allow" {
		return false
	}
	for _, a := range s.Action {
		if ok, _ := path.Match(strings.ToLower(a), strings.ToLower(action)); ok {
			return true
		}
	}
	return false
}

// Statements returns the statements whose Principal of kind includes
// principal.
func (p PolicyDocument) Statements(kind, principal string) []Statement {
	var out []Statement
	for _, s := range p.Statement {
		for _, v := range s.Principals(kind) {
			if v == principal {
				out = append(out, s)
				break
			}
		}
	}
	return out
}

// AllowsService reports whether the document lets a service principal
// call every one of actions.
func (p PolicyDocument) AllowsService(service string, actions ...string) bool {
	sts := p.Statements("Service", service)
	for _, a := range actions {
		ok := false
		for _, s := range sts {
			ok = ok || s.Allows(a)
		}
		if !ok {
			return false
		}
	}
	return true
}

// Without returns a copy of the document without the statements with the
// given Sids.
func (p PolicyDocument) Without(sids ...string) PolicyDocument {
	out := PolicyDocument{Version: p.Version}
	for _, s := range p.Statement {
		drop := false
		for _, sid := range sids {
			drop = drop || s.Sid == sid
		}
		if !drop {
			out.Statement = append(out.Statement, s)
		}
	}
	return out
}
