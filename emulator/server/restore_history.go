package server

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"time"
)

// The item history: every write to a table through the front server, read
// back from kumo with its time, so a restore can rebuild any point.

// canonical re-encodes a JSON value so equal values have equal bytes.
func canonical(raw json.RawMessage) string {
	var v any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if d.Decode(&v) != nil {
		return string(raw)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func historyKey(keyAttrs []string, attrs map[string]json.RawMessage) (string, map[string]json.RawMessage) {
	k := map[string]json.RawMessage{}
	parts := make([]string, 0, len(keyAttrs))
	for _, a := range keyAttrs {
		if v, ok := attrs[a]; ok {
			k[a] = v
			parts = append(parts, a+"="+canonical(v))
		}
	}
	return strings.Join(parts, "\x00"), k
}

// keyAttrs returns a table's key attribute names, asking kumo once.
func (srv *Server) keyAttrs(ctx context.Context, table string) []string {
	srv.restore.mu.Lock()
	h, ok := srv.restore.history[table]
	srv.restore.mu.Unlock()
	if ok && len(h.keyAttrs) > 0 {
		return h.keyAttrs
	}
	d, ok := srv.kumoTable(ctx, table)
	if !ok {
		return nil
	}
	attrs := d.keyAttrs()
	srv.restore.mu.Lock()
	srv.restore.historyOf(table).keyAttrs = attrs
	srv.restore.mu.Unlock()
	return attrs
}

func (s *restoreState) historyOf(table string) *itemHistory {
	h, ok := s.history[table]
	if !ok {
		h = &itemHistory{}
		s.history[table] = h
	}
	return h
}

// recordWrites lets the write happen, then reads each written item back
// from kumo and records its state with the time.
func (srv *Server) recordWrites(op string) func(next extHandler) extHandler {
	return func(next extHandler) extHandler {
		return func(w http.ResponseWriter, r *http.Request, body []byte) {
			tables, writes := tablesIn(body)
			if t, ok := srv.creating(tables); ok {
				writeJSONError(w, http.StatusBadRequest, "ResourceNotFoundException", "Requested resource not found: Table: "+t+" not found")
				return
			}
			srv.restore.writeMu.Lock()
			defer srv.restore.writeMu.Unlock()
			rec := httptest.NewRecorder()
			restoreBody(r, body)
			next(rec, r, body)
			if rec.Code == http.StatusOK {
				for _, wt := range writes {
					srv.recordItem(r.Context(), wt)
				}
			}
			writeRecorded(w, rec, rec.Body.Bytes())
		}
	}
}

func (srv *Server) recordItem(ctx context.Context, wt writeTarget) {
	attrs := srv.keyAttrs(ctx, wt.table)
	if attrs == nil {
		return
	}
	hk, key := historyKey(attrs, wt.attrs)
	b, _ := json.Marshal(map[string]any{"TableName": wt.table, "Key": key, "ConsistentRead": true})
	code, out, err := srv.callKumo(ctx, "dynamodb", "DynamoDB_20120810.GetItem", b)
	if err != nil || code != http.StatusOK {
		return
	}
	var got struct{ Item map[string]json.RawMessage }
	_ = json.Unmarshal(out, &got)
	srv.restore.mu.Lock()
	h := srv.restore.historyOf(wt.table)
	h.writes = append(h.writes, itemWrite{at: time.Now(), key: hk, item: got.Item})
	srv.restore.mu.Unlock()
}

// itemsAt are the items of a table as of t, in key order.
func (s *restoreState) itemsAt(table string, t time.Time) []map[string]json.RawMessage {
	h, ok := s.history[table]
	if !ok {
		return nil
	}
	state := map[string]map[string]json.RawMessage{}
	for _, w := range h.writes {
		if w.at.After(t) {
			break // writes are recorded in time order
		}
		state[w.key] = w.item
	}
	keys := make([]string, 0, len(state))
	for k, it := range state {
		if it != nil {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	out := make([]map[string]json.RawMessage, 0, len(keys))
	for _, k := range keys {
		out = append(out, state[k])
	}
	return out
}

func (srv *Server) historyOnCreate(next extHandler) extHandler {
	return func(w http.ResponseWriter, r *http.Request, body []byte) {
		var req struct {
			TableName string
			KeySchema []struct{ AttributeName, KeyType string }
		}
		_ = json.Unmarshal(body, &req)
		rec := httptest.NewRecorder()
		restoreBody(r, body)
		next(rec, r, body)
		if rec.Code == http.StatusOK {
			h := &itemHistory{}
			for _, k := range req.KeySchema {
				h.keyAttrs = append(h.keyAttrs, k.AttributeName)
			}
			srv.restore.mu.Lock()
			srv.restore.history[req.TableName] = h // a new table: a new history
			delete(srv.restore.restoring, req.TableName)
			srv.restore.mu.Unlock()
		}
		writeRecorded(w, rec, rec.Body.Bytes())
	}
}

func (srv *Server) historyOnDelete(next extHandler) extHandler {
	guarded := srv.refuseWhileCreating("ResourceInUseException")
	return guarded(func(w http.ResponseWriter, r *http.Request, body []byte) {
		var req struct{ TableName string }
		_ = json.Unmarshal(body, &req)
		rec := httptest.NewRecorder()
		restoreBody(r, body)
		next(rec, r, body)
		if rec.Code == http.StatusOK {
			srv.restore.mu.Lock()
			delete(srv.restore.history, req.TableName)
			delete(srv.restore.restoring, req.TableName)
			srv.restore.mu.Unlock()
		}
		writeRecorded(w, rec, rec.Body.Bytes())
	})
}
