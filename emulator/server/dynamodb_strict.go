package server

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// DynamoDB's rules that kumo does not enforce, checked before a request
// reaches it, so that a request AWS would reject fails here too (each rule
// answers ValidationException, as DynamoDB does):
//
//   - reserved words used unescaped in any expression;
//   - expression attribute names or values defined but unused, or used
//     but not defined (also when the request has no expression at all);
//   - ConsistentRead on a global secondary index;
//   - an item over 400 KB (PutItem);
//   - an empty string or binary as a table or index key value;
//   - an update whose paths overlap;
//   - a key condition that is not: equality on the hash key, optionally
//     one condition on the range key (no begins_with on the hash key, no
//     non-key attribute);
//   - Limit below 1.
//
// Query and Scan pages end at 1 MB of evaluated items, as on AWS (see
// ddbPaged).

// maxItemBytes is DynamoDB's item size limit, pageBytes its page size.
const (
	maxItemBytes = 400 * 1024
	pageBytes    = 1024 * 1024
)

type ddbRequest struct {
	TableName                 string
	IndexName                 string
	KeyConditionExpression    string
	FilterExpression          string
	ProjectionExpression      string
	ConditionExpression       string
	UpdateExpression          string
	ExpressionAttributeNames  map[string]string
	ExpressionAttributeValues map[string]map[string]json.RawMessage
	ConsistentRead            *bool
	Limit                     *int
	Item                      map[string]map[string]json.RawMessage
	Key                       map[string]map[string]json.RawMessage
}

// ddbSchema is what validation needs of a table: key attributes of the
// table and of each index.
type ddbSchema struct {
	hash, rng string
	indexes   map[string]ddbIndex
}

type ddbIndex struct {
	hash, rng string
	global    bool
}

// ddbStrict wraps next (the operation's handler) with DynamoDB's request
// validation.
func (srv *Server) ddbStrict(op string, next extHandler) extHandler {
	return func(w http.ResponseWriter, r *http.Request, body []byte) {
		var req ddbRequest
		if err := json.Unmarshal(body, &req); err != nil {
			next(w, r, body)
			return
		}
		if msg := srv.ddbViolation(r, op, &req); msg != "" {
			writeJSONError(w, http.StatusBadRequest, "ValidationException", msg)
			return
		}
		next(w, r, body)
	}
}

func (srv *Server) ddbViolation(r *http.Request, op string, req *ddbRequest) string {
	if req.Limit != nil && *req.Limit < 1 {
		return fmt.Sprintf("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1", *req.Limit)
	}
	if msg := exprViolation(req); msg != "" {
		return msg
	}
	if op == "PutItem" && itemSize(req.Item) > maxItemBytes {
		return "Item size has exceeded the maximum allowed size"
	}
	if op == "UpdateItem" && req.UpdateExpression != "" {
		targets, _ := updateTargets(req.UpdateExpression, req.ExpressionAttributeNames)
		if a, b, ok := overlapping(targets); ok {
			return expressionError("Update", fmt.Sprintf("Two document paths overlap with each other; must remove or rewrite one of these paths; path one: %s, path two: %s", a, b))
		}
	}
	needSchema := op == "Query" || op == "PutItem" || op == "UpdateItem" || op == "GetItem" || op == "DeleteItem" ||
		op == "Scan" && req.IndexName != "" && req.ConsistentRead != nil && *req.ConsistentRead
	if !needSchema {
		return ""
	}
	sch, ok := srv.ddbSchemaOf(r, req.TableName)
	if !ok {
		return "" // kumo answers for a table that does not exist
	}
	if req.IndexName != "" && req.ConsistentRead != nil && *req.ConsistentRead {
		if ix, ok := sch.indexes[req.IndexName]; ok && ix.global {
			return "Consistent reads are not supported on global secondary indexes"
		}
	}
	switch op {
	case "Query":
		return keyConditionViolation(req, sch)
	case "PutItem":
		return emptyKeyViolation(sch, req.Item, nil)
	case "UpdateItem":
		if msg := emptyKeyViolation(sch, req.Key, nil); msg != "" {
			return msg
		}
		_, set := updateTargets(req.UpdateExpression, req.ExpressionAttributeNames)
		assigned := map[string]map[string]json.RawMessage{}
		for path, v := range set {
			if val, ok := req.ExpressionAttributeValues[v]; ok {
				assigned[path] = val
			}
		}
		return emptyKeyViolation(sch, nil, assigned)
	default:
		return emptyKeyViolation(sch, req.Key, nil)
	}
}

// exprViolation checks the expressions' words and placeholders.
func exprViolation(req *ddbRequest) string {
	exprs := []struct{ kind, text string }{
		{"KeyCondition", req.KeyConditionExpression}, {"Filter", req.FilterExpression},
		{"Projection", req.ProjectionExpression}, {"Condition", req.ConditionExpression},
		{"Update", req.UpdateExpression},
	}
	usedNames, usedValues := map[string]bool{}, map[string]bool{}
	hasExpr := false
	for _, x := range exprs {
		if x.text == "" {
			continue
		}
		hasExpr = true
		if w := reservedInExpr(x.text, x.kind == "Update"); w != "" {
			return expressionError(x.kind, "Attribute name is a reserved keyword; reserved keyword: "+w)
		}
		placeholders(x.text, usedNames, usedValues)
	}
	if !hasExpr {
		if len(req.ExpressionAttributeNames) > 0 {
			return "ExpressionAttributeNames can only be specified when using expressions"
		}
		if len(req.ExpressionAttributeValues) > 0 {
			return "ExpressionAttributeValues can only be specified when using expressions"
		}
		return ""
	}
	defValues := map[string]bool{}
	for k := range req.ExpressionAttributeValues {
		defValues[k] = true
	}
	return unusedOrMissing(req.ExpressionAttributeNames, defValues, usedNames, usedValues)
}

// keyConditionViolation checks a Query's key condition against the key
// schema of the table or the index it reads.
func keyConditionViolation(req *ddbRequest, sch ddbSchema) string {
	if req.KeyConditionExpression == "" {
		return "" // kumo rejects a Query without one
	}
	hash, rng := sch.hash, sch.rng
	if req.IndexName != "" {
		ix, ok := sch.indexes[req.IndexName]
		if !ok {
			return "The table does not have the specified index: " + req.IndexName
		}
		hash, rng = ix.hash, ix.rng
	}
	conds, ok := keyConditions(req.KeyConditionExpression, req.ExpressionAttributeNames)
	if !ok {
		return expressionError("KeyCondition", "the key condition has an unsupported form")
	}
	seen := map[string]bool{}
	for _, c := range conds {
		if seen[c.attr] {
			return "KeyConditionExpressions must only contain one condition per key"
		}
		seen[c.attr] = true
		switch {
		case c.attr == hash && c.op != "=":
			return "Query key condition not supported"
		case c.attr == rng && rng != "":
			if c.op != "=" && c.op != "<" && c.op != "<=" && c.op != ">" && c.op != ">=" && c.op != "BETWEEN" && c.op != "begins_with" {
				return "Query key condition not supported"
			}
		case c.attr != hash:
			return "Query key condition not supported"
		}
	}
	if !seen[hash] {
		return "Query condition missed key schema element: " + hash
	}
	return ""
}

// emptyKeyViolation rejects an empty string or binary as the value of a
// table key (in item or key) or an index key (in item or assigned).
func emptyKeyViolation(sch ddbSchema, item, assigned map[string]map[string]json.RawMessage) string {
	for _, k := range []string{sch.hash, sch.rng} {
		if k != "" && emptyValue(item[k]) {
			return "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: " + k
		}
	}
	for name, ix := range sch.indexes {
		for _, k := range []string{ix.hash, ix.rng} {
			if k == "" {
				continue
			}
			if emptyValue(item[k]) || emptyValue(assigned[k]) {
				return fmt.Sprintf("One or more parameter values are not valid. A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty string value. IndexName: %s, IndexKey: %s", name, k)
			}
		}
	}
	return ""
}

func emptyValue(v map[string]json.RawMessage) bool {
	for _, t := range []string{"S", "B"} {
		if raw, ok := v[t]; ok && string(raw) == `""` {
			return true
		}
	}
	return false
}

// ddbSchemaOf asks kumo for a table's key schema and indexes.
func (srv *Server) ddbSchemaOf(r *http.Request, table string) (ddbSchema, bool) {
	code, out, err := srv.describeTable(r.Context(), table)
	if err != nil || code != http.StatusOK {
		return ddbSchema{}, false
	}
	type keyElem struct{ AttributeName, KeyType string }
	type index struct {
		IndexName string
		KeySchema []keyElem
	}
	var resp struct {
		Table struct {
			KeySchema              []keyElem
			GlobalSecondaryIndexes []index
			LocalSecondaryIndexes  []index
		}
	}
	if json.Unmarshal(out, &resp) != nil {
		return ddbSchema{}, false
	}
	keys := func(ks []keyElem) (hash, rng string) {
		for _, k := range ks {
			if k.KeyType == "HASH" {
				hash = k.AttributeName
			} else {
				rng = k.AttributeName
			}
		}
		return hash, rng
	}
	sch := ddbSchema{indexes: map[string]ddbIndex{}}
	sch.hash, sch.rng = keys(resp.Table.KeySchema)
	for _, ix := range resp.Table.GlobalSecondaryIndexes {
		h, rg := keys(ix.KeySchema)
		sch.indexes[ix.IndexName] = ddbIndex{hash: h, rng: rg, global: true}
	}
	for _, ix := range resp.Table.LocalSecondaryIndexes {
		h, rg := keys(ix.KeySchema)
		sch.indexes[ix.IndexName] = ddbIndex{hash: h, rng: rg}
	}
	return sch, true
}

// itemSize is an item's size as DynamoDB counts it against the 400 KB
// limit: attribute names plus values.
func itemSize(item map[string]map[string]json.RawMessage) int {
	n := 0
	for name, v := range item {
		n += len(name) + valueSize(v)
	}
	return n
}

func valueSize(v map[string]json.RawMessage) int {
	for t, raw := range v {
		switch t {
		case "S":
			var s string
			_ = json.Unmarshal(raw, &s)
			return len(s)
		case "N":
			var s string
			_ = json.Unmarshal(raw, &s)
			return numberSize(s)
		case "B":
			var s string
			_ = json.Unmarshal(raw, &s)
			b, _ := base64.StdEncoding.DecodeString(s)
			return len(b)
		case "BOOL", "NULL":
			return 1
		case "SS", "NS", "BS":
			var ss []string
			_ = json.Unmarshal(raw, &ss)
			n := 0
			for _, s := range ss {
				switch t {
				case "NS":
					n += numberSize(s)
				case "BS":
					b, _ := base64.StdEncoding.DecodeString(s)
					n += len(b)
				default:
					n += len(s)
				}
			}
			return n
		case "L":
			var l []map[string]json.RawMessage
			_ = json.Unmarshal(raw, &l)
			n := 3
			for _, x := range l {
				n += 1 + valueSize(x)
			}
			return n
		case "M":
			var m map[string]map[string]json.RawMessage
			_ = json.Unmarshal(raw, &m)
			return 3 + itemSize(m) + len(m)
		}
	}
	return 0
}

// numberSize approximates a number's stored size: one byte per two
// significant digits plus one.
func numberSize(s string) int {
	digits := strings.TrimLeft(strings.NewReplacer("-", "", ".", "", "+", "").Replace(strings.ToLower(strings.SplitN(s, "e", 2)[0])), "0")
	return (len(digits)+1)/2 + 1
}
