package server

import (
	"encoding/json"
	"net/http"
	"sync"
	"time"
)

// indexDelay makes DynamoDB's global secondary indexes eventually
// consistent, as they are on AWS: an item written less than delay ago is
// left out of a Query through an index. kumo's indexes are immediate, so
// without this no test could show a read-after-write race.
type indexDelay struct {
	mu      sync.Mutex
	delay   time.Duration
	written map[string]time.Time // table + "\x00" + primary key JSON
}

// SetIndexDelay makes items written (PutItem, UpdateItem) show up in
// index queries only after d; 0 turns the delay off. Base-table reads are
// unaffected, as on AWS.
func (srv *Server) SetIndexDelay(d time.Duration) {
	srv.index.mu.Lock()
	defer srv.index.mu.Unlock()
	srv.index.delay = d
	if srv.index.written == nil {
		srv.index.written = map[string]time.Time{}
	}
}

func (x *indexDelay) active() time.Duration {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.delay
}

// itemKey identifies an item by its table and its primary key attributes
// (pk/sk for the tables that have them, else the whole key map).
func itemKey(table string, attrs map[string]json.RawMessage) string {
	k := map[string]json.RawMessage{}
	for _, a := range []string{"pk", "sk"} {
		if v, ok := attrs[a]; ok {
			k[a] = v
		}
	}
	if len(k) == 0 {
		k = attrs
	}
	b, _ := json.Marshal(k)
	return table + "\x00" + string(b)
}

// ddbWrite records when an item was written, then lets kumo write it.
func (srv *Server) ddbWrite(w http.ResponseWriter, r *http.Request, body []byte) {
	if srv.index.active() == 0 {
		srv.proxy.ServeHTTP(w, r)
		return
	}
	var in struct {
		TableName string
		Item, Key map[string]json.RawMessage
	}
	_ = json.Unmarshal(body, &in)
	attrs := in.Item
	if attrs == nil {
		attrs = in.Key
	}
	srv.passThrough(w, r, body, func() {
		srv.index.mu.Lock()
		srv.index.written[itemKey(in.TableName, attrs)] = time.Now()
		srv.index.mu.Unlock()
	})
}

// ddbQuery hides, from a query through an index, the items written less
// than the delay ago.
func (srv *Server) ddbQuery(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct{ TableName, IndexName string }
	_ = json.Unmarshal(body, &in)
	if srv.index.active() == 0 || in.IndexName == "" {
		srv.proxy.ServeHTTP(w, r)
		return
	}
	rec := srv.forward(r, body)
	var out map[string]json.RawMessage
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &out) != nil {
		writeRecorded(w, rec, rec.Body.Bytes())
		return
	}
	var items []ddbItem
	_ = json.Unmarshal(out["Items"], &items)
	kept := srv.propagated(in.TableName, items)
	out["Items"], _ = json.Marshal(kept)
	out["Count"], _ = json.Marshal(len(kept))
	b, _ := json.Marshal(out)
	writeRecorded(w, rec, b)
}
