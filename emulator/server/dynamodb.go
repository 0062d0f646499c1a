package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"
)

type tableExt struct {
	pitr        bool
	pitrSince   time.Time
	pitrDays    int
	sse         *sseDesc
	delProtect  bool
	delProtSeen bool
}

type sseDesc struct {
	Status          string `json:"Status"`
	SSEType         string `json:"SSEType"`
	KMSMasterKeyArn string `json:"KMSMasterKeyArn"`
}

func (s *extState) table(name string) *tableExt {
	t, ok := s.tables[name]
	if !ok {
		t = &tableExt{}
		s.tables[name] = t
	}
	return t
}

type ddbTableRequest struct {
	TableName        string `json:"TableName"`
	SSESpecification *struct {
		Enabled        *bool  `json:"Enabled"`
		SSEType        string `json:"SSEType"`
		KMSMasterKeyID string `json:"KMSMasterKeyId"`
	} `json:"SSESpecification"`
	DeletionProtectionEnabled *bool `json:"DeletionProtectionEnabled"`
}

// ddbCreateOrUpdateTable lets kumo create or update the table, then records
// the SSE specification and deletion protection kumo ignores.
func (srv *Server) ddbCreateOrUpdateTable(w http.ResponseWriter, r *http.Request, body []byte) {
	var req ddbTableRequest
	if err := json.Unmarshal(body, &req); err != nil {
		writeJSONError(w, http.StatusBadRequest, "ValidationException", "cannot parse the request")
		return
	}
	var sse *sseDesc
	if s := req.SSESpecification; s != nil {
		switch {
		case s.Enabled != nil && !*s.Enabled:
			// AWS-owned key: DescribeTable shows no SSEDescription.
		case s.KMSMasterKeyID != "":
			arn, ok := srv.resolveKey(r, s.KMSMasterKeyID)
			if !ok {
				writeJSONError(w, http.StatusBadRequest, "ValidationException", "KMSMasterKeyId "+s.KMSMasterKeyID+" does not exist")
				return
			}
			sse = &sseDesc{Status: "ENABLED", SSEType: "KMS", KMSMasterKeyArn: arn}
		default:
			// KMS without a key id is the AWS managed key.
			sse = &sseDesc{Status: "ENABLED", SSEType: "KMS", KMSMasterKeyArn: fmt.Sprintf("arn:aws:kms:%s:%s:key/aws-managed-dynamodb", Region, AccountID)}
		}
	}
	rec := srv.forward(r, body)
	if rec.Code == http.StatusOK {
		srv.ext.mu.Lock()
		t := srv.ext.table(req.TableName)
		if req.SSESpecification != nil {
			t.sse = sse
		}
		if req.DeletionProtectionEnabled != nil {
			t.delProtect, t.delProtSeen = *req.DeletionProtectionEnabled, true
		}
		srv.ext.mu.Unlock()
	}
	srv.writeTableResponse(w, rec, "TableDescription", req.TableName)
}

func (srv *Server) ddbDescribeTable(w http.ResponseWriter, r *http.Request, body []byte) {
	var req ddbTableRequest
	_ = json.Unmarshal(body, &req)
	processKumo.describe.Lock()
	rec := srv.forward(r, body)
	processKumo.describe.Unlock()
	srv.writeTableResponse(w, rec, "Table", req.TableName)
}

// writeTableResponse adds SSEDescription and deletion protection to a table
// description kumo returned under field.
func (srv *Server) writeTableResponse(w http.ResponseWriter, rec *httptest.ResponseRecorder, field, table string) {
	out := rec.Body.Bytes()
	if rec.Code == http.StatusOK {
		var doc map[string]map[string]any
		d := json.NewDecoder(bytes.NewReader(out))
		d.UseNumber()
		if err := d.Decode(&doc); err == nil && doc[field] != nil {
			srv.ext.mu.Lock()
			if t, ok := srv.ext.tables[table]; ok {
				if t.sse != nil {
					doc[field]["SSEDescription"] = *t.sse
				}
				if t.delProtSeen {
					doc[field]["DeletionProtectionEnabled"] = t.delProtect
				}
			}
			srv.ext.mu.Unlock()
			if b, err := json.Marshal(doc); err == nil {
				out = b
			}
		}
	}
	writeRecorded(w, rec, out)
}

// ddbDeleteTable enforces deletion protection, which kumo does not.
func (srv *Server) ddbDeleteTable(w http.ResponseWriter, r *http.Request, body []byte) {
	var req ddbTableRequest
	_ = json.Unmarshal(body, &req)
	srv.ext.mu.Lock()
	t, ok := srv.ext.tables[req.TableName]
	protected := ok && t.delProtect
	srv.ext.mu.Unlock()
	if protected {
		writeJSONError(w, http.StatusBadRequest, "ValidationException",
			"Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first.")
		return
	}
	srv.passThrough(w, r, body, func() {
		srv.ext.mu.Lock()
		defer srv.ext.mu.Unlock()
		delete(srv.ext.tables, req.TableName)
	})
}

// tableExists asks kumo whether a table exists.
func (srv *Server) tableExists(r *http.Request, name string) bool {
	code, _, err := srv.describeTable(r.Context(), name)
	return err == nil && code == http.StatusOK
}

func (srv *Server) ddbUpdateContinuousBackups(w http.ResponseWriter, r *http.Request, body []byte) {
	var req struct {
		TableName                        string `json:"TableName"`
		PointInTimeRecoverySpecification struct {
			PointInTimeRecoveryEnabled bool `json:"PointInTimeRecoveryEnabled"`
			RecoveryPeriodInDays       int  `json:"RecoveryPeriodInDays"`
		} `json:"PointInTimeRecoverySpecification"`
	}
	if err := json.Unmarshal(body, &req); err != nil || req.TableName == "" {
		writeJSONError(w, http.StatusBadRequest, "ValidationException", "TableName is required")
		return
	}
	if !srv.tableExists(r, req.TableName) {
		writeJSONError(w, http.StatusBadRequest, "TableNotFoundException", "Table not found: "+req.TableName)
		return
	}
	srv.ext.mu.Lock()
	t := srv.ext.table(req.TableName)
	spec := req.PointInTimeRecoverySpecification
	if spec.PointInTimeRecoveryEnabled && !t.pitr {
		t.pitrSince = time.Now()
	}
	t.pitr = spec.PointInTimeRecoveryEnabled
	t.pitrDays = 35
	if spec.RecoveryPeriodInDays > 0 {
		t.pitrDays = spec.RecoveryPeriodInDays
	}
	desc := continuousBackups(t)
	srv.ext.mu.Unlock()
	writeJSON(w, map[string]any{"ContinuousBackupsDescription": desc})
}

func (srv *Server) ddbDescribeContinuousBackups(w http.ResponseWriter, r *http.Request, body []byte) {
	var req ddbTableRequest
	_ = json.Unmarshal(body, &req)
	rec := srv.forward(r, body)
	if rec.Code != http.StatusOK {
		writeRecorded(w, rec, rec.Body.Bytes())
		return
	}
	srv.ext.mu.Lock()
	t := srv.ext.tables[req.TableName]
	if t == nil {
		t = &tableExt{}
	}
	desc := continuousBackups(t)
	srv.ext.mu.Unlock()
	writeJSON(w, map[string]any{"ContinuousBackupsDescription": desc})
}

func continuousBackups(t *tableExt) map[string]any {
	pitr := map[string]any{"PointInTimeRecoveryStatus": "DISABLED"}
	if t.pitr {
		latest := time.Now().Add(-5 * time.Minute)
		earliest := t.pitrSince
		if earliest.After(latest) {
			earliest = latest
		}
		pitr = map[string]any{
			"PointInTimeRecoveryStatus":  "ENABLED",
			"EarliestRestorableDateTime": epoch(earliest),
			"LatestRestorableDateTime":   epoch(latest),
			"RecoveryPeriodInDays":       t.pitrDays,
		}
	}
	return map[string]any{"ContinuousBackupsStatus": "ENABLED", "PointInTimeRecoveryDescription": pitr}
}
