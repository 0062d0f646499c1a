package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"sort"
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
func (e *Emulator) SetRestoreTiming(duration, lag time.Duration) {
	e.restore.mu.Lock()
	defer e.restore.mu.Unlock()
	if duration >= 0 {
		e.restore.duration = duration
	}
	if lag >= 0 {
		e.restore.lag = lag
	}
}

// BreakRestoreIndexes makes every later restore drop the source table's
// global secondary indexes (a defect for the rehearsal: the drill's
// structure check must fail on it).
func (e *Emulator) BreakRestoreIndexes(broken bool) {
	e.restore.mu.Lock()
	defer e.restore.mu.Unlock()
	e.restore.dropIndexes = broken
}

// installRestore routes DynamoDB's writes and table operations through the
// history and adds the restore operation. It wraps whatever handler an
// operation already has (or the proxy to kumo).
func (e *Emulator) installRestore() {
	e.restore = newRestoreState()
	wrap := func(op string, f func(next extHandler) extHandler) {
		next, ok := e.handlers["dynamodb."+op]
		if !ok {
			next = func(w http.ResponseWriter, r *http.Request, body []byte) {
				restoreBody(r, body)
				e.proxy.ServeHTTP(w, r)
			}
		}
		e.handlers["dynamodb."+op] = f(next)
	}
	for _, op := range []string{"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"} {
		wrap(op, e.recordWrites(op))
	}
	for _, op := range []string{"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"} {
		wrap(op, e.refuseWhileCreating("ResourceNotFoundException"))
	}
	for _, op := range []string{"UpdateTable", "UpdateTimeToLive", "TagResource", "UntagResource"} {
		wrap(op, e.refuseWhileCreating("ResourceInUseException"))
	}
	wrap("CreateTable", e.historyOnCreate)
	wrap("DeleteTable", e.historyOnDelete)
	wrap("DescribeTable", e.describeRestoring)
	wrap("DescribeContinuousBackups", e.restoreWindowAnswer)
	wrap("UpdateContinuousBackups", func(next extHandler) extHandler {
		return e.refuseWhileCreating("ResourceInUseException")(e.restoreWindowAnswer(next))
	})
	e.handlers["dynamodb.RestoreTableToPointInTime"] = e.ddbRestoreToPointInTime
	e.installBackups()
	// The drill publishes its figures (restore_metrics.go).
	e.handlers["monitoring.PutMetricData"] = e.cwPutMetricData
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
func (e *Emulator) creating(tables []string) (string, bool) {
	e.restore.mu.Lock()
	defer e.restore.mu.Unlock()
	now := time.Now()
	for _, t := range tables {
		if j, ok := e.restore.restoring[t]; ok && now.Before(j.ready) {
			return t, true
		}
	}
	return "", false
}

func (e *Emulator) refuseWhileCreating(code string) func(next extHandler) extHandler {
	return func(next extHandler) extHandler {
		return func(w http.ResponseWriter, r *http.Request, body []byte) {
			tables, _ := tablesIn(body)
			if t, ok := e.creating(tables); ok {
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

// ---- the history ----

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
func (e *Emulator) keyAttrs(ctx context.Context, table string) []string {
	e.restore.mu.Lock()
	h, ok := e.restore.history[table]
	e.restore.mu.Unlock()
	if ok && len(h.keyAttrs) > 0 {
		return h.keyAttrs
	}
	d, ok := e.kumoTable(ctx, table)
	if !ok {
		return nil
	}
	attrs := d.keyAttrs()
	e.restore.mu.Lock()
	e.restore.historyOf(table).keyAttrs = attrs
	e.restore.mu.Unlock()
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
func (e *Emulator) recordWrites(op string) func(next extHandler) extHandler {
	return func(next extHandler) extHandler {
		return func(w http.ResponseWriter, r *http.Request, body []byte) {
			tables, writes := tablesIn(body)
			if t, ok := e.creating(tables); ok {
				writeJSONError(w, http.StatusBadRequest, "ResourceNotFoundException", "Requested resource not found: Table: "+t+" not found")
				return
			}
			e.restore.writeMu.Lock()
			defer e.restore.writeMu.Unlock()
			rec := httptest.NewRecorder()
			restoreBody(r, body)
			next(rec, r, body)
			if rec.Code == http.StatusOK {
				for _, wt := range writes {
					e.recordItem(r.Context(), wt)
				}
			}
			writeRecorded(w, rec, rec.Body.Bytes())
		}
	}
}

func (e *Emulator) recordItem(ctx context.Context, wt writeTarget) {
	attrs := e.keyAttrs(ctx, wt.table)
	if attrs == nil {
		return
	}
	hk, key := historyKey(attrs, wt.attrs)
	b, _ := json.Marshal(map[string]any{"TableName": wt.table, "Key": key, "ConsistentRead": true})
	code, out, err := e.callKumo(ctx, "dynamodb", "DynamoDB_20120810.GetItem", b)
	if err != nil || code != http.StatusOK {
		return
	}
	var got struct{ Item map[string]json.RawMessage }
	_ = json.Unmarshal(out, &got)
	e.restore.mu.Lock()
	h := e.restore.historyOf(wt.table)
	h.writes = append(h.writes, itemWrite{at: time.Now(), key: hk, item: got.Item})
	e.restore.mu.Unlock()
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

func (e *Emulator) historyOnCreate(next extHandler) extHandler {
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
			e.restore.mu.Lock()
			e.restore.history[req.TableName] = h // a new table: a new history
			delete(e.restore.restoring, req.TableName)
			e.restore.mu.Unlock()
		}
		writeRecorded(w, rec, rec.Body.Bytes())
	}
}

func (e *Emulator) historyOnDelete(next extHandler) extHandler {
	guarded := e.refuseWhileCreating("ResourceInUseException")
	return guarded(func(w http.ResponseWriter, r *http.Request, body []byte) {
		var req struct{ TableName string }
		_ = json.Unmarshal(body, &req)
		rec := httptest.NewRecorder()
		restoreBody(r, body)
		next(rec, r, body)
		if rec.Code == http.StatusOK {
			e.restore.mu.Lock()
			delete(e.restore.history, req.TableName)
			delete(e.restore.restoring, req.TableName)
			e.restore.mu.Unlock()
		}
		writeRecorded(w, rec, rec.Body.Bytes())
	})
}

// ---- table descriptions ----

type kumoTableDesc struct {
	TableArn              string
	KeySchema             []struct{ AttributeName, KeyType string }
	AttributeDefinitions  json.RawMessage
	BillingModeSummary    *struct{ BillingMode string }
	ProvisionedThroughput *struct {
		ReadCapacityUnits, WriteCapacityUnits int64
	}
	GlobalSecondaryIndexes []struct {
		IndexName             string
		KeySchema             json.RawMessage
		Projection            json.RawMessage
		ProvisionedThroughput *struct{ ReadCapacityUnits, WriteCapacityUnits int64 }
	}
	LocalSecondaryIndexes []struct {
		IndexName  string
		KeySchema  json.RawMessage
		Projection json.RawMessage
	}
}

func (d kumoTableDesc) keyAttrs() []string {
	var out []string
	for _, k := range d.KeySchema {
		out = append(out, k.AttributeName)
	}
	return out
}

func (e *Emulator) kumoTable(ctx context.Context, name string) (kumoTableDesc, bool) {
	b, _ := json.Marshal(map[string]string{"TableName": name})
	code, out, err := e.callKumo(ctx, "dynamodb", "DynamoDB_20120810.DescribeTable", b)
	if err != nil || code != http.StatusOK {
		return kumoTableDesc{}, false
	}
	var resp struct{ Table kumoTableDesc }
	if json.Unmarshal(out, &resp) != nil {
		return kumoTableDesc{}, false
	}
	return resp.Table, true
}

// patchRestoring marks a restored table's description: CREATING until the
// restore ends, and its RestoreSummary.
func (e *Emulator) patchRestoring(desc map[string]any, table string) {
	e.restore.mu.Lock()
	j, ok := e.restore.restoring[table]
	e.restore.mu.Unlock()
	if !ok {
		return
	}
	inProgress := time.Now().Before(j.ready)
	if inProgress {
		desc["TableStatus"] = "CREATING"
	}
	desc["RestoreSummary"] = map[string]any{
		"SourceTableArn": j.sourceArn, "RestoreDateTime": epoch(j.point), "RestoreInProgress": inProgress,
	}
}

func (e *Emulator) describeRestoring(next extHandler) extHandler {
	return func(w http.ResponseWriter, r *http.Request, body []byte) {
		var req struct{ TableName string }
		_ = json.Unmarshal(body, &req)
		rec := httptest.NewRecorder()
		restoreBody(r, body)
		next(rec, r, body)
		out := rec.Body.Bytes()
		if rec.Code == http.StatusOK {
			var doc map[string]map[string]any
			d := json.NewDecoder(bytes.NewReader(out))
			d.UseNumber()
			if d.Decode(&doc) == nil && doc["Table"] != nil {
				e.patchRestoring(doc["Table"], req.TableName)
				if b, err := json.Marshal(doc); err == nil {
					out = b
				}
			}
		}
		writeRecorded(w, rec, out)
	}
}

// pitrWindow is a table's restorable window now.
func (e *Emulator) pitrWindow(table string) (on bool, earliest, latest time.Time) {
	e.restore.mu.Lock()
	lag := e.restore.lag
	e.restore.mu.Unlock()
	e.ext.mu.Lock()
	t, ok := e.ext.tables[table]
	if ok {
		on, earliest = t.pitr, t.pitrSince
	}
	e.ext.mu.Unlock()
	latest = time.Now().Add(-lag)
	if earliest.After(latest) {
		earliest = latest
	}
	return on, earliest, latest
}

// restoreWindowAnswer puts the configured lag into a continuous-backups
// answer.
func (e *Emulator) restoreWindowAnswer(next extHandler) extHandler {
	return func(w http.ResponseWriter, r *http.Request, body []byte) {
		var req struct{ TableName string }
		_ = json.Unmarshal(body, &req)
		rec := httptest.NewRecorder()
		restoreBody(r, body)
		next(rec, r, body)
		out := rec.Body.Bytes()
		var doc map[string]map[string]json.RawMessage
		if rec.Code == http.StatusOK && json.Unmarshal(out, &doc) == nil && doc["ContinuousBackupsDescription"] != nil {
			var p map[string]any
			cb := doc["ContinuousBackupsDescription"]
			if json.Unmarshal(cb["PointInTimeRecoveryDescription"], &p) == nil && p["PointInTimeRecoveryStatus"] == "ENABLED" {
				_, earliest, latest := e.pitrWindow(req.TableName)
				p["EarliestRestorableDateTime"], p["LatestRestorableDateTime"] = epoch(earliest), epoch(latest)
				cb["PointInTimeRecoveryDescription"], _ = json.Marshal(p)
				if b, err := json.Marshal(doc); err == nil {
					out = b
				}
			}
		}
		writeRecorded(w, rec, out)
	}
}

// ---- RestoreTableToPointInTime ----

type restoreRequest struct {
	SourceTableArn, SourceTableName, TargetTableName, BackupArn string
	UseLatestRestorableTime                                     bool
	RestoreDateTime                                             *float64
	BillingModeOverride                                         string
	SSESpecificationOverride                                    *struct {
		Enabled        *bool
		SSEType        string
		KMSMasterKeyID string `json:"KMSMasterKeyId"`
	}
	GlobalSecondaryIndexOverride []json.RawMessage
	LocalSecondaryIndexOverride  []json.RawMessage
}

func fromEpoch(f float64) time.Time {
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(math.Round(frac*1000))*int64(time.Millisecond))
}

func (e *Emulator) ddbRestoreToPointInTime(w http.ResponseWriter, r *http.Request, body []byte) {
	ctx := r.Context()
	var req restoreRequest
	if err := json.Unmarshal(body, &req); err != nil || req.TargetTableName == "" {
		writeJSONError(w, http.StatusBadRequest, "ValidationException", "TargetTableName is required")
		return
	}
	source := req.SourceTableName
	if source == "" {
		_, source, _ = strings.Cut(req.SourceTableArn, ":table/")
	}
	src, ok := e.kumoTable(ctx, source)
	if !ok {
		writeJSONError(w, http.StatusBadRequest, "SourceTableNotFoundException", "Source table not found: "+source)
		return
	}
	if _, exists := e.kumoTable(ctx, req.TargetTableName); exists {
		writeJSONError(w, http.StatusBadRequest, "TableAlreadyExistsException", "Table already exists: "+req.TargetTableName)
		return
	}
	on, earliest, latest := e.pitrWindow(source)
	if !on {
		writeJSONError(w, http.StatusBadRequest, "PointInTimeRecoveryUnavailableException",
			"Point in time recovery is not enabled for table '"+source+"'")
		return
	}
	point := latest
	if !req.UseLatestRestorableTime {
		if req.RestoreDateTime == nil {
			writeJSONError(w, http.StatusBadRequest, "ValidationException", "RestoreDateTime or UseLatestRestorableTime is required")
			return
		}
		point = fromEpoch(*req.RestoreDateTime)
		if point.Before(earliest.Truncate(time.Millisecond)) || point.After(latest) {
			writeJSONError(w, http.StatusBadRequest, "InvalidRestoreTimeException", fmt.Sprintf(
				"RestoreDateTime %s is outside the restorable window of %s: %s to %s",
				point.UTC().Format(time.RFC3339Nano), source, earliest.UTC().Format(time.RFC3339Nano), latest.UTC().Format(time.RFC3339Nano)))
			return
		}
	}
	e.restore.mu.Lock()
	items := e.restore.itemsAt(source, point)
	e.restore.mu.Unlock()
	e.createRestored(w, r, req, src, e.tableSSE(source), items, point)
}

// tableSSE is a table's recorded encryption (a copy), nil for none.
func (e *Emulator) tableSSE(table string) *sseDesc {
	e.ext.mu.Lock()
	defer e.ext.mu.Unlock()
	if t, ok := e.ext.tables[table]; ok && t.sse != nil {
		c := *t.sse
		return &c
	}
	return nil
}

// createRestored makes the restored table from src's shape and items, and
// answers with its description (CREATING).
func (e *Emulator) createRestored(w http.ResponseWriter, r *http.Request, req restoreRequest, src kumoTableDesc, srcSSE *sseDesc, items []map[string]json.RawMessage, point time.Time) {
	ctx := r.Context()
	sse, ok := e.restoredSSE(w, r, srcSSE, req)
	if !ok {
		return
	}
	e.restore.mu.Lock()
	if e.restore.dropIndexes {
		src.GlobalSecondaryIndexes = nil
	}
	e.restore.mu.Unlock()
	create := restoredTableInput(req, src)
	cb, _ := json.Marshal(create)
	if code, out, err := e.callKumo(ctx, "dynamodb", "DynamoDB_20120810.CreateTable", cb); err != nil || code != http.StatusOK {
		writeJSONError(w, http.StatusInternalServerError, "InternalServerError", "creating the restored table: "+string(out))
		return
	}
	now := time.Now()
	h := &itemHistory{keyAttrs: src.keyAttrs()}
	for _, it := range items {
		b, _ := json.Marshal(map[string]any{"TableName": req.TargetTableName, "Item": it})
		if code, out, err := e.callKumo(ctx, "dynamodb", "DynamoDB_20120810.PutItem", b); err != nil || code != http.StatusOK {
			writeJSONError(w, http.StatusInternalServerError, "InternalServerError", "loading the restored table: "+string(out))
			return
		}
		hk, _ := historyKey(h.keyAttrs, it)
		h.writes = append(h.writes, itemWrite{at: now, key: hk, item: it})
	}
	e.ext.mu.Lock()
	e.ext.table(req.TargetTableName).sse = sse
	e.ext.mu.Unlock()
	e.restore.mu.Lock()
	e.restore.history[req.TargetTableName] = h
	e.restore.restoring[req.TargetTableName] = &restoreJob{ready: now.Add(e.restore.duration), sourceArn: src.TableArn, point: point}
	e.restore.mu.Unlock()

	b, _ := json.Marshal(map[string]string{"TableName": req.TargetTableName})
	_, out, _ := e.callKumo(ctx, "dynamodb", "DynamoDB_20120810.DescribeTable", b)
	var doc map[string]map[string]any
	d := json.NewDecoder(bytes.NewReader(out))
	d.UseNumber()
	_ = d.Decode(&doc)
	desc := doc["Table"]
	if desc == nil {
		desc = map[string]any{"TableName": req.TargetTableName}
	}
	if sse != nil {
		desc["SSEDescription"] = *sse
	}
	e.patchRestoring(desc, req.TargetTableName)
	writeJSON(w, map[string]any{"TableDescription": desc})
}

// restoredSSE is the restored table's encryption: the override's, else the
// source table's.
func (e *Emulator) restoredSSE(w http.ResponseWriter, r *http.Request, srcSSE *sseDesc, req restoreRequest) (*sseDesc, bool) {
	if o := req.SSESpecificationOverride; o != nil {
		switch {
		case o.Enabled != nil && !*o.Enabled:
			return nil, true
		case o.KMSMasterKeyID != "":
			arn, ok := e.resolveKey(r, o.KMSMasterKeyID)
			if !ok {
				writeJSONError(w, http.StatusBadRequest, "ValidationException", "KMSMasterKeyId "+o.KMSMasterKeyID+" does not exist")
				return nil, false
			}
			return &sseDesc{Status: "ENABLED", SSEType: "KMS", KMSMasterKeyArn: arn}, true
		default:
			return &sseDesc{Status: "ENABLED", SSEType: "KMS", KMSMasterKeyArn: fmt.Sprintf("arn:aws:kms:%s:%s:key/aws-managed-dynamodb", Region, AccountID)}, true
		}
	}
	return srcSSE, true
}

// restoredTableInput is the CreateTable request of a restored table: the
// source's keys, indexes and billing, or the overrides.
func restoredTableInput(req restoreRequest, src kumoTableDesc) map[string]any {
	billing := "PROVISIONED"
	if src.BillingModeSummary != nil && src.BillingModeSummary.BillingMode != "" {
		billing = src.BillingModeSummary.BillingMode
	}
	if req.BillingModeOverride != "" {
		billing = req.BillingModeOverride
	}
	throughput := func(p *struct{ ReadCapacityUnits, WriteCapacityUnits int64 }) map[string]int64 {
		if p == nil || p.ReadCapacityUnits == 0 {
			return map[string]int64{"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
		}
		return map[string]int64{"ReadCapacityUnits": p.ReadCapacityUnits, "WriteCapacityUnits": p.WriteCapacityUnits}
	}
	in := map[string]any{
		"TableName": req.TargetTableName, "KeySchema": src.KeySchema,
		"AttributeDefinitions": src.AttributeDefinitions, "BillingMode": billing,
	}
	if billing == "PROVISIONED" {
		var p *struct{ ReadCapacityUnits, WriteCapacityUnits int64 }
		if src.ProvisionedThroughput != nil {
			p = &struct{ ReadCapacityUnits, WriteCapacityUnits int64 }{src.ProvisionedThroughput.ReadCapacityUnits, src.ProvisionedThroughput.WriteCapacityUnits}
		}
		in["ProvisionedThroughput"] = throughput(p)
	}
	if req.GlobalSecondaryIndexOverride != nil {
		in["GlobalSecondaryIndexes"] = req.GlobalSecondaryIndexOverride
	} else if len(src.GlobalSecondaryIndexes) > 0 {
		var gsis []map[string]any
		for _, g := range src.GlobalSecondaryIndexes {
			gi := map[string]any{"IndexName": g.IndexName, "KeySchema": g.KeySchema, "Projection": g.Projection}
			if billing == "PROVISIONED" {
				gi["ProvisionedThroughput"] = throughput(g.ProvisionedThroughput)
			}
			gsis = append(gsis, gi)
		}
		in["GlobalSecondaryIndexes"] = gsis
	}
	if req.LocalSecondaryIndexOverride != nil {
		in["LocalSecondaryIndexes"] = req.LocalSecondaryIndexOverride
	} else if len(src.LocalSecondaryIndexes) > 0 {
		in["LocalSecondaryIndexes"] = src.LocalSecondaryIndexes
	}
	return in
}
