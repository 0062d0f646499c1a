package server

import (
	"bytes"
	"encoding/json"
	"math/big"
	"net/http"
	"sort"
	"time"
)

// ddbPaged ends a Query or Scan page where DynamoDB does: after the item
// that brings the evaluated items (before any filter or projection) to
// 1 MB. kumo pages only by Limit, so the items the request would evaluate
// are read from kumo first (not counted, never faulted) and, when they
// exceed a page, the request goes on with the Limit that ends it there;
// kumo then returns the LastEvaluatedKey the client continues from.
func (srv *Server) ddbPaged(op string, next extHandler) extHandler {
	return func(w http.ResponseWriter, r *http.Request, body []byte) {
		var req map[string]json.RawMessage
		if json.Unmarshal(body, &req) != nil {
			next(w, r, body)
			return
		}
		if op == "Query" && req["IndexName"] != nil && req["FilterExpression"] == nil && req["ProjectionExpression"] == nil && req["Select"] == nil {
			srv.ddbIndexPage(w, r, req)
			return
		}
		probe := make(map[string]json.RawMessage, len(req))
		for k, v := range req {
			switch k {
			case "FilterExpression", "ProjectionExpression", "Select", "AttributesToGet", "QueryFilter", "ScanFilter":
			default:
				probe[k] = v
			}
		}
		pb, _ := json.Marshal(probe)
		code, out, err := srv.callKumo(r.Context(), "dynamodb", "DynamoDB_20120810."+op, pb)
		if err != nil || code != http.StatusOK {
			next(w, r, body)
			return
		}
		var evaluated struct {
			Items []map[string]map[string]json.RawMessage
		}
		if json.Unmarshal(out, &evaluated) != nil {
			next(w, r, body)
			return
		}
		size, n := 0, 0
		for _, it := range evaluated.Items {
			size += itemSize(it)
			n++
			if size >= pageBytes {
				break
			}
		}
		if n == len(evaluated.Items) {
			next(w, r, body)
			return
		}
		req["Limit"], _ = json.Marshal(n)
		nb, _ := json.Marshal(req)
		restoreBody(r, nb)
		next(w, r, nb)
	}
}

type ddbItem = map[string]map[string]json.RawMessage

// ddbIndexPage answers a Query through an index itself. kumo orders the
// items of one index key arbitrarily (and differently on every call), so
// its pages of an index whose items share a sort key value repeat some
// items and skip others; DynamoDB orders them by the table key. Only
// queries without a filter or projection (what the Oracle layer sends)
// are answered here; the others go to kumo.
func (srv *Server) ddbIndexPage(w http.ResponseWriter, r *http.Request, req map[string]json.RawMessage) {
	var in struct {
		TableName, IndexName string
		Limit                int
		ScanIndexForward     *bool
		ExclusiveStartKey    ddbItem
	}
	b, _ := json.Marshal(req)
	_ = json.Unmarshal(b, &in)
	probe := map[string]json.RawMessage{}
	for k, v := range req {
		if k != "Limit" && k != "ExclusiveStartKey" && k != "ReturnConsumedCapacity" {
			probe[k] = v
		}
	}
	pb, _ := json.Marshal(probe)
	code, out, err := srv.callKumo(r.Context(), "dynamodb", "DynamoDB_20120810.Query", pb)
	sch, ok := srv.ddbSchemaOf(r, in.TableName)
	ix, found := sch.indexes[in.IndexName]
	if err != nil || code != http.StatusOK || !ok || !found {
		restoreBody(r, b)
		srv.proxy.ServeHTTP(w, r)
		return
	}
	var all struct{ Items []ddbItem }
	_ = json.Unmarshal(out, &all)
	items := srv.propagated(in.TableName, all.Items)
	tableKey := func(it ddbItem) string {
		k, _ := json.Marshal([]map[string]json.RawMessage{it[sch.hash], it[sch.rng]})
		return string(k)
	}
	sort.SliceStable(items, func(i, j int) bool {
		if c := compareValues(items[i][ix.rng], items[j][ix.rng]); c != 0 {
			return c < 0
		}
		return tableKey(items[i]) < tableKey(items[j])
	})
	if in.ScanIndexForward != nil && !*in.ScanIndexForward {
		for i, j := 0, len(items)-1; i < j; i, j = i+1, j-1 {
			items[i], items[j] = items[j], items[i]
		}
	}
	if in.ExclusiveStartKey != nil {
		start := tableKey(in.ExclusiveStartKey)
		for i, it := range items {
			if tableKey(it) == start {
				items = items[i+1:]
				break
			}
		}
	}
	page, size := []ddbItem{}, 0
	for _, it := range items {
		page = append(page, it)
		size += itemSize(it)
		if size >= pageBytes || in.Limit > 0 && len(page) == in.Limit {
			break
		}
	}
	resp := map[string]any{"Items": page, "Count": len(page), "ScannedCount": len(page)}
	if len(page) < len(items) {
		last := page[len(page)-1]
		lek := ddbItem{}
		for _, k := range []string{sch.hash, sch.rng, ix.hash, ix.rng} {
			if v, ok := last[k]; ok && k != "" {
				lek[k] = v
			}
		}
		resp["LastEvaluatedKey"] = lek
	}
	writeJSON(w, resp)
}

// propagated leaves out the items written less than the index delay ago
// (see SetIndexDelay).
func (srv *Server) propagated(table string, items []ddbItem) []ddbItem {
	d := srv.index.active()
	if d == 0 {
		return items
	}
	now := time.Now()
	kept := items[:0]
	srv.index.mu.Lock()
	defer srv.index.mu.Unlock()
	for _, it := range items {
		attrs := map[string]json.RawMessage{}
		for k, v := range it {
			attrs[k], _ = json.Marshal(v)
		}
		if at, ok := srv.index.written[itemKey(table, attrs)]; ok && now.Sub(at) < d {
			continue // not yet propagated to the index
		}
		kept = append(kept, it)
	}
	return kept
}

// compareValues orders two key values of one type as DynamoDB does:
// numbers numerically, strings and binaries by bytes.
func compareValues(a, b map[string]json.RawMessage) int {
	if n, ok := a["N"]; ok {
		var x, y string
		_ = json.Unmarshal(n, &x)
		_ = json.Unmarshal(b["N"], &y)
		fx, _ := new(big.Float).SetString(x)
		fy, _ := new(big.Float).SetString(y)
		if fx != nil && fy != nil {
			return fx.Cmp(fy)
		}
	}
	for _, t := range []string{"S", "B"} {
		if v, ok := a[t]; ok {
			return bytes.Compare(v, b[t])
		}
	}
	return 0
}
