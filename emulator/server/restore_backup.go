package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// On-demand backups, as cheap as the history makes them: CreateBackup
// keeps a copy of the table's shape, key and items as of now, which
// RestoreTableFromBackup restores like a point-in-time restore (it
// survives the table's deletion, as a real backup does).

type tableBackup struct {
	arn, name, table string
	created          time.Time
	desc             kumoTableDesc
	sse              *sseDesc
	items            []map[string]json.RawMessage
}

func (srv *Server) installBackups() {
	srv.handlers["dynamodb.CreateBackup"] = srv.ddbCreateBackup
	srv.handlers["dynamodb.DescribeBackup"] = srv.ddbDescribeBackup
	srv.handlers["dynamodb.DeleteBackup"] = srv.ddbDeleteBackup
	srv.handlers["dynamodb.RestoreTableFromBackup"] = srv.ddbRestoreFromBackup
}

func (b *tableBackup) description(status string) map[string]any {
	return map[string]any{
		"BackupDetails": map[string]any{"BackupArn": b.arn, "BackupName": b.name, "BackupStatus": status,
			"BackupType": "USER", "BackupCreationDateTime": epoch(b.created)},
		"SourceTableDetails": map[string]any{"TableName": b.table, "TableArn": b.desc.TableArn,
			"KeySchema": b.desc.KeySchema, "ItemCount": len(b.items), "TableCreationDateTime": epoch(b.created)},
	}
}

func (srv *Server) ddbCreateBackup(w http.ResponseWriter, r *http.Request, body []byte) {
	var req struct{ TableName, BackupName string }
	if json.Unmarshal(body, &req) != nil || req.TableName == "" || req.BackupName == "" {
		writeJSONError(w, http.StatusBadRequest, "ValidationException", "TableName and BackupName are required")
		return
	}
	if t, ok := srv.creating([]string{req.TableName}); ok {
		writeJSONError(w, http.StatusBadRequest, "TableInUseException", "Table is being created: "+t)
		return
	}
	desc, ok := srv.kumoTable(r.Context(), req.TableName)
	if !ok {
		writeJSONError(w, http.StatusBadRequest, "TableNotFoundException", "Table not found: "+req.TableName)
		return
	}
	now := time.Now()
	b := &tableBackup{name: req.BackupName, table: req.TableName, created: now, desc: desc, sse: srv.tableSSE(req.TableName),
		arn: fmt.Sprintf("%s/backup/%013d-%08x", desc.TableArn, now.UnixMilli(), now.Nanosecond())}
	srv.restore.mu.Lock()
	b.items = srv.restore.itemsAt(req.TableName, now)
	srv.restore.backups[b.arn] = b
	srv.restore.mu.Unlock()
	d := b.description("AVAILABLE")
	writeJSON(w, map[string]any{"BackupDetails": d["BackupDetails"]})
}

func (srv *Server) backup(w http.ResponseWriter, body []byte) (*tableBackup, bool) {
	var req struct{ BackupArn string }
	_ = json.Unmarshal(body, &req)
	srv.restore.mu.Lock()
	b, ok := srv.restore.backups[req.BackupArn]
	srv.restore.mu.Unlock()
	if !ok {
		writeJSONError(w, http.StatusBadRequest, "BackupNotFoundException", "Backup not found: "+req.BackupArn)
	}
	return b, ok
}

func (srv *Server) ddbDescribeBackup(w http.ResponseWriter, _ *http.Request, body []byte) {
	if b, ok := srv.backup(w, body); ok {
		writeJSON(w, map[string]any{"BackupDescription": b.description("AVAILABLE")})
	}
}

func (srv *Server) ddbDeleteBackup(w http.ResponseWriter, _ *http.Request, body []byte) {
	if b, ok := srv.backup(w, body); ok {
		srv.restore.mu.Lock()
		delete(srv.restore.backups, b.arn)
		srv.restore.mu.Unlock()
		writeJSON(w, map[string]any{"BackupDescription": b.description("DELETED")})
	}
}

func (srv *Server) ddbRestoreFromBackup(w http.ResponseWriter, r *http.Request, body []byte) {
	var req restoreRequest
	if err := json.Unmarshal(body, &req); err != nil || req.TargetTableName == "" {
		writeJSONError(w, http.StatusBadRequest, "ValidationException", "TargetTableName is required")
		return
	}
	b, ok := srv.backup(w, body)
	if !ok {
		return
	}
	if _, exists := srv.kumoTable(r.Context(), req.TargetTableName); exists {
		writeJSONError(w, http.StatusBadRequest, "TableAlreadyExistsException", "Table already exists: "+req.TargetTableName)
		return
	}
	srv.createRestored(w, r, req, b.desc, b.sse, b.items, b.created)
}
