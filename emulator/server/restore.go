package server

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Point-in-time restore, as DynamoDB does it (SPEC 3.5): the front server
// keeps every table's item history (each write with its time, read back
// from kumo after the write), so RestoreTableToPointInTime creates a new
// table holding exactly the items as of the requested time. The new table
// keeps keys, indexes, billing and encryption (or the SSE override) and
// starts without TTL, PITR, deletion protection, tags or streams; it is
// CREATING for the restore duration, during which data calls answer
// ResourceNotFoundException and changes ResourceInUseException, as on AWS.
// Deletions by kumo's TTL reaper bypass the front server and are not in the
// history.

// Defaults of the restore timing: a real restore takes 20 minutes or more
// and the latest restorable time trails by about five minutes; tests and
// md-emulator use seconds so that waits and timeouts can be exercised.
const (
	DefaultRestoreDuration = 2 * time.Second
	DefaultRestorableLag   = time.Second
)

type restoreState struct {
	mu        sync.Mutex
	duration  time.Duration
	lag       time.Duration
	history   map[string]*itemHistory // by table name
	restoring map[string]*restoreJob  // by restored table name
	backups   map[string]*tableBackup // by backup ARN (restore_backup.go)
	// dropIndexes is a defect: restores leave out the global secondary
	// indexes, which a drill must catch.
	dropIndexes bool
	// writeMu orders each write with the read-back that records it.
	writeMu sync.Mutex
}

type itemHistory struct {
	keyAttrs []string
	writes   []itemWrite
}

// itemWrite is the state of one item after a write; item nil is a delete.
type itemWrite struct {
	at   time.Time
	key  string
	item map[string]json.RawMessage
}

type restoreJob struct {
	ready     time.Time
	sourceArn string
	point     time.Time
}

func newRestoreState() *restoreState {
	return &restoreState{
		duration: DefaultRestoreDuration, lag: DefaultRestorableLag,
		history: map[string]*itemHistory{}, restoring: map[string]*restoreJob{},
		backups: map[string]*tableBackup{},
	}
}

// SetRestoreTiming sets how long a restored table stays CREATING and how
// far the latest restorable time trails now. Negative values keep the
// current setting.
func (srv *Server) SetRestoreTiming(duration, lag time.Duration) {
	srv.restore.mu.Lock()
	defer srv.restore.mu.Unlock()
	if duration >= 0 {
		srv.restore.duration = duration
	}
	if lag >= 0 {
		srv.restore.lag = lag
	}
}

// BreakRestoreIndexes makes every later restore drop the source table's
// global secondary indexes (a defect for the rehearsal: the drill's
// structure check must fail on it).
func (srv *Server) BreakRestoreIndexes(broken bool) {
	srv.restore.mu.Lock()
	defer srv.restore.mu.Unlock()
	srv.restore.dropIndexes = broken
}

// installRestore routes DynamoDB's writes and table operations through the
// history and adds the restore operation. It wraps whatever handler an
// operation already has (or the proxy to kumo).
func (srv *Server) installRestore() {
	srv.restore = newRestoreState()
	wrap := func(op string, f func(next extHandler) extHandler) {
		next, ok := srv.handlers["dynamodb."+op]
		if !ok {
			next = func(w http.ResponseWriter, r *http.Request, body []byte) {
				restoreBody(r, body)
				srv.proxy.ServeHTTP(w, r)
			}
		}
		srv.handlers["dynamodb."+op] = f(next)
	}
	for _, op := range []string{"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"} {
		wrap(op, srv.recordWrites(op))
	}
	for _, op := range []string{"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"} {
		wrap(op, srv.refuseWhileCreating("ResourceNotFoundException"))
	}
	for _, op := range []string{"UpdateTable", "UpdateTimeToLive", "TagResource", "UntagResource"} {
		wrap(op, srv.refuseWhileCreating("ResourceInUseException"))
	}
	wrap("CreateTable", srv.historyOnCreate)
	wrap("DeleteTable", srv.historyOnDelete)
	wrap("DescribeTable", srv.describeRestoring)
	wrap("DescribeContinuousBackups", srv.restoreWindowAnswer)
	wrap("UpdateContinuousBackups", func(next extHandler) extHandler {
		return srv.refuseWhileCreating("ResourceInUseException")(srv.restoreWindowAnswer(next))
	})
	srv.handlers["dynamodb.RestoreTableToPointInTime"] = srv.ddbRestoreToPointInTime
	srv.installBackups()
	// The drill publishes its figures (restore_metrics.go).
	srv.handlers["monitoring.PutMetricData"] = srv.cwPutMetricData
}

// ---- which tables a request names ----

type writeTarget struct {
	table string
	attrs map[string]json.RawMessage // the item or its key
}

// tablesIn lists the tables a DynamoDB request names, with the items or
// keys it writes.
func tablesIn(body []byte) (tables []string, writes []writeTarget) {
	var req struct {
		TableName     string
		ResourceArn   string
		Item, Key     map[string]json.RawMessage
		RequestItems  map[string]json.RawMessage
		TransactItems []map[string]struct {
			TableName string
			Item, Key map[string]json.RawMessage
		}
	}
	if json.Unmarshal(body, &req) != nil {
		return nil, nil
	}
	if req.TableName != "" {
		tables = append(tables, req.TableName)
		if a := firstNonNil(req.Item, req.Key); a != nil {
			writes = append(writes, writeTarget{req.TableName, a})
		}
	}
	if _, name, ok := strings.Cut(req.ResourceArn, ":table/"); ok {
		name, _, _ = strings.Cut(name, "/")
		tables = append(tables, name)
	}
	for t, raw := range req.RequestItems {
		tables = append(tables, t)
		var reqs []struct {
			PutRequest    *struct{ Item map[string]json.RawMessage }
			DeleteRequest *struct{ Key map[string]json.RawMessage }
		}
		if json.Unmarshal(raw, &reqs) != nil {
			continue // BatchGetItem: keys, not writes
		}
		for _, q := range reqs {
			switch {
			case q.PutRequest != nil:
				writes = append(writes, writeTarget{t, q.PutRequest.Item})
			case q.DeleteRequest != nil:
				writes = append(writes, writeTarget{t, q.DeleteRequest.Key})
			}
		}
	}
	for _, ti := range req.TransactItems {
		for kind, x := range ti {
			tables = append(tables, x.TableName)
			if kind == "ConditionCheck" || kind == "Get" {
				continue
			}
			if a := firstNonNil(x.Item, x.Key); a != nil {
				writes = append(writes, writeTarget{x.TableName, a})
			}
		}
	}
	return tables, writes
}

func firstNonNil(a, b map[string]json.RawMessage) map[string]json.RawMessage {
	if a != nil {
		return a
	}
	return b
}

// creating reports the first of tables that is still being restored.
func (srv *Server) creating(tables []string) (string, bool) {
	srv.restore.mu.Lock()
	defer srv.restore.mu.Unlock()
	now := time.Now()
	for _, t := range tables {
		if j, ok := srv.restore.restoring[t]; ok && now.Before(j.ready) {
			return t, true
		}
	}
	return "", false
}

func (srv *Server) refuseWhileCreating(code string) func(next extHandler) extHandler {
	return func(next extHandler) extHandler {
		return func(w http.ResponseWriter, r *http.Request, body []byte) {
			tables, _ := tablesIn(body)
			if t, ok := srv.creating(tables); ok {
				msg := "Requested resource not found: Table: " + t + " not found"
				if code == "ResourceInUseException" {
					msg = "Attempt to change a resource which is still in use: Table is being created: " + t
				}
				writeJSONError(w, http.StatusBadRequest, code, msg)
				return
			}
			restoreBody(r, body)
			next(w, r, body)
		}
	}
}
