package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"
)

// Restored tables: their descriptions (CREATING until the restore ends,
// the restorable window) and RestoreTableToPointInTime itself.

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

func (srv *Server) kumoTable(ctx context.Context, name string) (kumoTableDesc, bool) {
	code, out, err := srv.describeTable(ctx, name)
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
func (srv *Server) patchRestoring(desc map[string]any, table string) {
	srv.restore.mu.Lock()
	j, ok := srv.restore.restoring[table]
	srv.restore.mu.Unlock()
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

func (srv *Server) describeRestoring(next extHandler) extHandler {
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
				srv.patchRestoring(doc["Table"], req.TableName)
				if b, err := json.Marshal(doc); err == nil {
					out = b
				}
			}
		}
		writeRecorded(w, rec, out)
	}
}

// pitrWindow is a table's restorable window now.
func (srv *Server) pitrWindow(table string) (on bool, earliest, latest time.Time) {
	srv.restore.mu.Lock()
	lag := srv.restore.lag
	srv.restore.mu.Unlock()
	srv.ext.mu.Lock()
	t, ok := srv.ext.tables[table]
	if ok {
		on, earliest = t.pitr, t.pitrSince
	}
	srv.ext.mu.Unlock()
	latest = time.Now().Add(-lag)
	if earliest.After(latest) {
		earliest = latest
	}
	return on, earliest, latest
}

// restoreWindowAnswer puts the configured lag into a continuous-backups
// answer.
func (srv *Server) restoreWindowAnswer(next extHandler) extHandler {
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
				_, earliest, latest := srv.pitrWindow(req.TableName)
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

func (srv *Server) ddbRestoreToPointInTime(w http.ResponseWriter, r *http.Request, body []byte) {
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
	src, ok := srv.kumoTable(ctx, source)
	if !ok {
		writeJSONError(w, http.StatusBadRequest, "SourceTableNotFoundException", "Source table not found: "+source)
		return
	}
	if _, exists := srv.kumoTable(ctx, req.TargetTableName); exists {
		writeJSONError(w, http.StatusBadRequest, "TableAlreadyExistsException", "Table already exists: "+req.TargetTableName)
		return
	}
	on, earliest, latest := srv.pitrWindow(source)
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
	srv.restore.mu.Lock()
	items := srv.restore.itemsAt(source, point)
	srv.restore.mu.Unlock()
	srv.createRestored(w, r, req, src, srv.tableSSE(source), items, point)
}

// tableSSE is a table's recorded encryption (a copy), nil for none.
func (srv *Server) tableSSE(table string) *sseDesc {
	srv.ext.mu.Lock()
	defer srv.ext.mu.Unlock()
	if t, ok := srv.ext.tables[table]; ok && t.sse != nil {
		c := *t.sse
		return &c
	}
	return nil
}

// createRestored makes the restored table from src's shape and items, and
// answers with its description (CREATING).
func (srv *Server) createRestored(w http.ResponseWriter, r *http.Request, req restoreRequest, src kumoTableDesc, srcSSE *sseDesc, items []map[string]json.RawMessage, point time.Time) {
	ctx := r.Context()
	sse, ok := srv.restoredSSE(w, r, srcSSE, req)
	if !ok {
		return
	}
	srv.restore.mu.Lock()
	if srv.restore.dropIndexes {
		src.GlobalSecondaryIndexes = nil
	}
	srv.restore.mu.Unlock()
	create := restoredTableInput(req, src)
	cb, _ := json.Marshal(create)
	if code, out, err := srv.callKumo(ctx, "dynamodb", "DynamoDB_20120810.CreateTable", cb); err != nil || code != http.StatusOK {
		writeJSONError(w, http.StatusInternalServerError, "InternalServerError", "creating the restored table: "+string(out))
		return
	}
	now := time.Now()
	h := &itemHistory{keyAttrs: src.keyAttrs()}
	for _, it := range items {
		b, _ := json.Marshal(map[string]any{"TableName": req.TargetTableName, "Item": it})
		if code, out, err := srv.callKumo(ctx, "dynamodb", "DynamoDB_20120810.PutItem", b); err != nil || code != http.StatusOK {
			writeJSONError(w, http.StatusInternalServerError, "InternalServerError", "loading the restored table: "+string(out))
			return
		}
		hk, _ := historyKey(h.keyAttrs, it)
		h.writes = append(h.writes, itemWrite{at: now, key: hk, item: it})
	}
	srv.ext.mu.Lock()
	srv.ext.table(req.TargetTableName).sse = sse
	srv.ext.mu.Unlock()
	srv.restore.mu.Lock()
	srv.restore.history[req.TargetTableName] = h
	srv.restore.restoring[req.TargetTableName] = &restoreJob{ready: now.Add(srv.restore.duration), sourceArn: src.TableArn, point: point}
	srv.restore.mu.Unlock()

	_, out, _ := srv.describeTable(ctx, req.TargetTableName)
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
	srv.patchRestoring(desc, req.TargetTableName)
	writeJSON(w, map[string]any{"TableDescription": desc})
}

// restoredSSE is the restored table's encryption: the override's, else the
// source table's.
func (srv *Server) restoredSSE(w http.ResponseWriter, r *http.Request, srcSSE *sseDesc, req restoreRequest) (*sseDesc, bool) {
	if o := req.SSESpecificationOverride; o != nil {
		switch {
		case o.Enabled != nil && !*o.Enabled:
			return nil, true
		case o.KMSMasterKeyID != "":
			arn, ok := srv.resolveKey(r, o.KMSMasterKeyID)
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
