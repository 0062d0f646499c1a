package spec

import (
	"fmt"
	"strings"
)

// IAM policy evaluation, enough to prove a role's policy against the
// operations its job performs (spec.Operation) and a resource policy
// against who may call it: actions match case-insensitively with * and ?
// (Action and NotAction), resource ARNs segment by segment with * and ? (a
// * in the resource segment spans '/' and ':', as IAM's does; Resource and
// NotResource), principals by kind (Principal and NotPrincipal), an
// explicit Deny wins, and conditions are read from the request context.
// The emulator enforces no IAM: this is the reviewer's reading of a
// policy, made executable, shared by the gate and the permission tests.

// Decision is the outcome of evaluating a request.
type Decision int

// Decisions, in IAM's terms.
const (
	ImplicitDeny Decision = iota
	Allowed
	ExplicitDeny
)

func (d Decision) String() string {
	switch d {
	case Allowed:
		return "allowed"
	case ExplicitDeny:
		return "explicitly denied"
	}
	return "implicitly denied"
}

// IAMRequest is one authorisation request: an action on a resource ARN with
// the condition keys the request carries (aws:ResourceTag/..., kms:ViaService,
// iam:PermissionsBoundary, ...).
type IAMRequest struct {
	Action   string
	Resource string
	// Principal is who asks. Resource policies (key, topic, queue and
	// trust policies) name principals, and their statements apply only to
	// a request that carries one; identity policies name none.
	Principal Principal
	Context   map[string]string
}

// Principal is a caller as a policy's Principal element names it: a kind
// ("AWS", "Service", "Federated") and an id (an ARN, an account id, a
// service principal, an OIDC provider ARN).
type Principal struct {
	Kind, ID string
}

func (r IAMRequest) String() string {
	return fmt.Sprintf("%s on %s", r.Action, r.Resource)
}

// Evaluate decides a request against one identity policy.
func Evaluate(p PolicyDocument, r IAMRequest) Decision {
	allowed := false
	for _, s := range p.Statement {
		if !statementMatches(s, r) {
			continue
		}
		switch s.Effect {
		case "Deny":
			return ExplicitDeny
		case "Allow":
			allowed = true
		}
	}
	if allowed {
		return Allowed
	}
	return ImplicitDeny
}

// EvaluateBounded decides a request against an identity policy limited by
// a permissions boundary: both must allow it, and a Deny in either wins.
func EvaluateBounded(identity, boundary PolicyDocument, r IAMRequest) Decision {
	i, b := Evaluate(identity, r), Evaluate(boundary, r)
	switch {
	case i == ExplicitDeny || b == ExplicitDeny:
		return ExplicitDeny
	case i == Allowed && b == Allowed:
		return Allowed
	}
	return ImplicitDeny
}

func statementMatches(s Statement, r IAMRequest) bool {
	actionOK := false
	for _, a := range s.Action {
		actionOK = actionOK || ActionMatches(a, r.Action)
	}
	if len(s.NotAction) > 0 {
		actionOK = true
		for _, a := range s.NotAction {
			if ActionMatches(a, r.Action) {
				actionOK = false
			}
		}
	}
	if !actionOK || !principalOK(s, r.Principal) || !resourceOK(s, r.Resource) {
		return false
	}
	return conditionsHold(s.Condition, r.Context)
}

// resourceOK: the request's resource is one Resource names, or none that
// NotResource names. A resource policy statement may name neither (a
// trust policy's resource is its role).
func resourceOK(s Statement, resource string) bool {
	if len(s.NotResource) > 0 {
		for _, res := range s.NotResource {
			if ResourceMatches(res, resource) {
				return false
			}
		}
		return true
	}
	if len(s.Resource) == 0 {
		return s.Principal != nil || s.NotPrincipal != nil
	}
	for _, res := range s.Resource {
		if ResourceMatches(res, resource) {
			return true
		}
	}
	return false
}

// principalOK: a statement of an identity policy (no Principal or
// NotPrincipal) applies to its own principal; otherwise the request must
// come from a principal Principal names, or from one NotPrincipal does not.
func principalOK(s Statement, p Principal) bool {
	switch {
	case s.Principal == nil && s.NotPrincipal == nil:
		return true
	case p.ID == "":
		return false
	case s.NotPrincipal != nil:
		return !principalNamed(s.NotPrincipal, p)
	}
	return principalNamed(s.Principal, p)
}

// principalNamed reports whether a Principal element names p: "*" (as the
// AWS kind) is anyone; an AWS account (its id or root ARN) names every
// principal of that account.
func principalNamed(elem map[string]any, p Principal) bool {
	for _, v := range StringsOf(elem["AWS"]) {
		if v == "*" {
			return true
		}
	}
	for _, v := range StringsOf(elem[p.Kind]) {
		switch {
		case v == p.ID:
			return true
		case p.Kind == "AWS" && (v == accountOfArn(p.ID) || v == "arn:aws:iam::"+accountOfArn(p.ID)+":root"):
			return true
		}
	}
	return false
}

func accountOfArn(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) == 6 && parts[4] != "" {
		return parts[4]
	}
	return "\x00" // no account: matches no account entry
}

// ActionMatches matches an action pattern ("kms:GenerateDataKey*", "s3:*",
// "*") against an action, case-insensitively.
func ActionMatches(pattern, action string) bool {
	return globMatch(strings.ToLower(pattern), strings.ToLower(action))
}

// ResourceMatches matches a resource pattern against an ARN the way IAM
// does: "*" matches everything; otherwise partition, service, region and
// account are matched segment by segment, and the resource part (which may
// itself contain ':' and '/') as one segment.
func ResourceMatches(pattern, arn string) bool {
	if pattern == "*" {
		return true
	}
	ps, as := strings.SplitN(pattern, ":", 6), strings.SplitN(arn, ":", 6)
	if len(ps) != 6 || len(as) != 6 {
		return globMatch(pattern, arn)
	}
	for i := range ps {
		if !globMatch(ps[i], as[i]) {
			return false
		}
	}
	return true
}

// globMatch matches * (any run of characters) and ? (one character).
func globMatch(pattern, s string) bool {
	for len(pattern) > 0 {
		switch pattern[0] {
		case '*':
			for i := len(s); i >= 0; i-- {
				if globMatch(pattern[1:], s[i:]) {
					return true
				}
			}
			return false
		case '?':
			if len(s) == 0 {
				return false
			}
		default:
			if len(s) == 0 || s[0] != pattern[0] {
				return false
			}
		}
		pattern, s = pattern[1:], s[1:]
	}
	return len(s) == 0
}

// conditionsHold evaluates every condition block; all must hold. Positive
// operators fail on a key the request lacks; negated operators hold on
// one, as IAM's do. Unknown operators never hold, so a policy relying on
// one is never read as allowing more than it does.
func conditionsHold(conds map[string]map[string]any, ctx map[string]string) bool {
	for op, kv := range conds {
		ifExists := strings.HasSuffix(op, "IfExists")
		// The request context holds one value per key, so a set operator
		// over it reads as its base operator.
		base := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(op, "ForAnyValue:"), "ForAllValues:"), "IfExists")
		for key, want := range kv {
			got, present := lookupFold(ctx, key)
			values := condValues(want)
			if base == "Null" {
				isNull := !present
				if !anyEqual(values, fmt.Sprint(isNull)) {
					return false
				}
				continue
			}
			if !present {
				if ifExists || strings.Contains(base, "Not") {
					continue
				}
				return false
			}
			if !conditionMatch(base, values, got) {
				return false
			}
		}
	}
	return true
}

func conditionMatch(op string, values []string, got string) bool {
	switch op {
	case "StringEquals", "ArnEquals":
		return anyEqual(values, got)
	case "StringEqualsIgnoreCase":
		for _, v := range values {
			if strings.EqualFold(v, got) {
				return true
			}
		}
		return false
	case "StringLike", "ArnLike":
		for _, v := range values {
			if globMatch(v, got) {
				return true
			}
		}
		return false
	case "StringNotEquals", "ArnNotEquals":
		return !anyEqual(values, got)
	case "StringNotEqualsIgnoreCase":
		return !conditionMatch("StringEqualsIgnoreCase", values, got)
	case "StringNotLike", "ArnNotLike":
		return !conditionMatch("StringLike", values, got)
	case "Bool":
		for _, v := range values {
			if strings.EqualFold(v, got) {
				return true
			}
		}
		return false
	}
	return false
}

func lookupFold(ctx map[string]string, key string) (string, bool) {
	if v, ok := ctx[key]; ok {
		return v, true
	}
	for k, v := range ctx {
		if strings.EqualFold(k, key) { // condition key names are case-insensitive
			return v, true
		}
	}
	return "", false
}

func condValues(v any) []string {
	switch t := v.(type) {
	case bool:
		return []string{fmt.Sprint(t)}
	case []any:
		var out []string
		for _, x := range t {
			out = append(out, condValues(x)...)
		}
		return out
	}
	return StringsOf(v)
}

func anyEqual(values []string, got string) bool {
	for _, v := range values {
		if v == got {
			return true
		}
	}
	return false
}
