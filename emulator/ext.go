package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/fxamacker/cbor/v2"
)

// extState is what the front server remembers for operations kumo does not
// model. It is per emulator (kumo's own state is per process; see the
// package doc).
type extState struct {
	mu sync.Mutex
	// tables by name.
	tables map[string]*tableExt
	// rotation by key ARN.
	rotation map[string]rotationExt
	// paramKeys: the KMS key id given to PutParameter for a SecureString.
	paramKeys map[string]string
	// treatMissing: an alarm's TreatMissingData, by alarm name.
	treatMissing map[string]string
	// emailConfirmed: email subscriptions no longer show as pending.
	emailConfirmed bool
	// dashboards: CloudWatch dashboard bodies by name.
	dashboards map[string]string
}

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

type rotationExt struct {
	enabled bool
	days    int
}

func newExtState() *extState {
	return &extState{
		tables:       map[string]*tableExt{},
		rotation:     map[string]rotationExt{},
		paramKeys:    map[string]string{},
		treatMissing: map[string]string{},
		dashboards:   map[string]string{},
	}
}

func (s *extState) table(name string) *tableExt {
	t, ok := s.tables[name]
	if !ok {
		t = &tableExt{}
		s.tables[name] = t
	}
	return t
}

func (e *Emulator) extensionHandlers() map[string]extHandler {
	return map[string]extHandler{
		"dynamodb.CreateTable":               e.ddbCreateOrUpdateTable,
		"dynamodb.PutItem":                   e.ddbWrite,
		"dynamodb.UpdateItem":                e.ddbWrite,
		"dynamodb.Query":                     e.ddbQuery,
		"dynamodb.UpdateTable":               e.ddbCreateOrUpdateTable,
		"dynamodb.DescribeTable":             e.ddbDescribeTable,
		"dynamodb.DeleteTable":               e.ddbDeleteTable,
		"dynamodb.UpdateContinuousBackups":   e.ddbUpdateContinuousBackups,
		"dynamodb.DescribeContinuousBackups": e.ddbDescribeContinuousBackups,
		"kms.EnableKeyRotation":              e.kmsSetRotation(true),
		"kms.DisableKeyRotation":             e.kmsSetRotation(false),
		"kms.GetKeyRotationStatus":           e.kmsGetRotation,
		"ssm.PutParameter":                   e.ssmPutParameter,
		"ssm.DescribeParameters":             e.ssmDescribeParameters,
		"ssm.DeleteParameter":                e.ssmDeleteParameters,
		"ssm.DeleteParameters":               e.ssmDeleteParameters,
		"monitoring.PutMetricAlarm":          e.cwPutMetricAlarm,
		"monitoring.DescribeAlarms":          e.cwDescribeAlarms,
		"monitoring.DeleteAlarms":            e.cwDeleteAlarms,
		"monitoring.SetAlarmState":           e.cwSetAlarmState,
		"monitoring.PutDashboard":            e.cwPutDashboard,
		"monitoring.GetDashboard":            e.cwGetDashboard,
		"monitoring.DeleteDashboards":        e.cwDeleteDashboards,
		"sns.ListSubscriptionsByTopic":       e.showPending,
		"sns.ListSubscriptions":              e.showPending,
	}
}

// ---- DynamoDB ----

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
func (e *Emulator) ddbCreateOrUpdateTable(w http.ResponseWriter, r *http.Request, body []byte) {
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
			arn, ok := e.resolveKey(r, s.KMSMasterKeyID)
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
	rec := e.forward(r, body)
	if rec.Code == http.StatusOK {
		e.ext.mu.Lock()
		t := e.ext.table(req.TableName)
		if req.SSESpecification != nil {
			t.sse = sse
		}
		if req.DeletionProtectionEnabled != nil {
			t.delProtect, t.delProtSeen = *req.DeletionProtectionEnabled, true
		}
		e.ext.mu.Unlock()
	}
	e.writeTableResponse(w, rec, "TableDescription", req.TableName)
}

func (e *Emulator) ddbDescribeTable(w http.ResponseWriter, r *http.Request, body []byte) {
	var req ddbTableRequest
	_ = json.Unmarshal(body, &req)
	e.writeTableResponse(w, e.forward(r, body), "Table", req.TableName)
}

// writeTableResponse adds SSEDescription and deletion protection to a table
// description kumo returned under field.
func (e *Emulator) writeTableResponse(w http.ResponseWriter, rec *httptest.ResponseRecorder, field, table string) {
	out := rec.Body.Bytes()
	if rec.Code == http.StatusOK {
		var doc map[string]map[string]any
		d := json.NewDecoder(bytes.NewReader(out))
		d.UseNumber()
		if err := d.Decode(&doc); err == nil && doc[field] != nil {
			e.ext.mu.Lock()
			if t, ok := e.ext.tables[table]; ok {
				if t.sse != nil {
					doc[field]["SSEDescription"] = *t.sse
				}
				if t.delProtSeen {
					doc[field]["DeletionProtectionEnabled"] = t.delProtect
				}
			}
			e.ext.mu.Unlock()
			if b, err := json.Marshal(doc); err == nil {
				out = b
			}
		}
	}
	writeRecorded(w, rec, out)
}

// ddbDeleteTable enforces deletion protection, which kumo does not.
func (e *Emulator) ddbDeleteTable(w http.ResponseWriter, r *http.Request, body []byte) {
	var req ddbTableRequest
	_ = json.Unmarshal(body, &req)
	e.ext.mu.Lock()
	t, ok := e.ext.tables[req.TableName]
	protected := ok && t.delProtect
	e.ext.mu.Unlock()
	if protected {
		writeJSONError(w, http.StatusBadRequest, "ValidationException",
			"Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first.")
		return
	}
	e.passThrough(w, r, body, func() {
		e.ext.mu.Lock()
		defer e.ext.mu.Unlock()
		delete(e.ext.tables, req.TableName)
	})
}

// tableExists asks kumo whether a table exists.
func (e *Emulator) tableExists(r *http.Request, name string) bool {
	b, _ := json.Marshal(map[string]string{"TableName": name})
	code, _, err := e.callKumo(r.Context(), "dynamodb", "DynamoDB_20120810.DescribeTable", b)
	return err == nil && code == http.StatusOK
}

func (e *Emulator) ddbUpdateContinuousBackups(w http.ResponseWriter, r *http.Request, body []byte) {
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
	if !e.tableExists(r, req.TableName) {
		writeJSONError(w, http.StatusBadRequest, "TableNotFoundException", "Table not found: "+req.TableName)
		return
	}
	e.ext.mu.Lock()
	t := e.ext.table(req.TableName)
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
	e.ext.mu.Unlock()
	writeJSON(w, map[string]any{"ContinuousBackupsDescription": desc})
}

func (e *Emulator) ddbDescribeContinuousBackups(w http.ResponseWriter, r *http.Request, body []byte) {
	var req ddbTableRequest
	_ = json.Unmarshal(body, &req)
	rec := e.forward(r, body)
	if rec.Code != http.StatusOK {
		writeRecorded(w, rec, rec.Body.Bytes())
		return
	}
	e.ext.mu.Lock()
	t := e.ext.tables[req.TableName]
	if t == nil {
		t = &tableExt{}
	}
	desc := continuousBackups(t)
	e.ext.mu.Unlock()
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

func epoch(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeJSONError(w, http.StatusInternalServerError, "InternalServerError", "encoding the answer")
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("X-Amz-Crc32", crc(b))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// ---- KMS ----

// resolveKey asks kumo for a key's ARN given an id, ARN or alias.
func (e *Emulator) resolveKey(r *http.Request, keyID string) (string, bool) {
	b, _ := json.Marshal(map[string]string{"KeyId": keyID})
	code, out, err := e.callKumo(r.Context(), "kms", "TrentService.DescribeKey", b)
	if err != nil || code != http.StatusOK {
		return "", false
	}
	var resp struct {
		KeyMetadata struct {
			Arn string `json:"Arn"`
		} `json:"KeyMetadata"`
	}
	if json.Unmarshal(out, &resp) != nil || resp.KeyMetadata.Arn == "" {
		return "", false
	}
	return resp.KeyMetadata.Arn, true
}

type kmsKeyRequest struct {
	KeyID                string `json:"KeyId"`
	RotationPeriodInDays int    `json:"RotationPeriodInDays"`
}

// kmsKey reads a key request and resolves its key, answering
// NotFoundException (and reporting false) when the key does not exist.
func (e *Emulator) kmsKey(w http.ResponseWriter, r *http.Request, body []byte) (kmsKeyRequest, string, bool) {
	var req kmsKeyRequest
	_ = json.Unmarshal(body, &req)
	arn, ok := e.resolveKey(r, req.KeyID)
	if !ok {
		writeJSONError(w, http.StatusBadRequest, "NotFoundException", "Key '"+req.KeyID+"' does not exist")
	}
	return req, arn, ok
}

func (e *Emulator) kmsSetRotation(enable bool) extHandler {
	return func(w http.ResponseWriter, r *http.Request, body []byte) {
		req, arn, ok := e.kmsKey(w, r, body)
		if !ok {
			return
		}
		days := req.RotationPeriodInDays
		if days == 0 {
			days = 365
		}
		e.ext.mu.Lock()
		e.ext.rotation[arn] = rotationExt{enabled: enable, days: days}
		e.ext.mu.Unlock()
		writeJSON(w, map[string]any{})
	}
}

func (e *Emulator) kmsGetRotation(w http.ResponseWriter, r *http.Request, body []byte) {
	_, arn, ok := e.kmsKey(w, r, body)
	if !ok {
		return
	}
	e.ext.mu.Lock()
	rot := e.ext.rotation[arn]
	e.ext.mu.Unlock()
	out := map[string]any{"KeyId": arn, "KeyRotationEnabled": rot.enabled}
	if rot.enabled {
		out["RotationPeriodInDays"] = rot.days
	}
	writeJSON(w, out)
}

// ---- SSM ----

func (e *Emulator) ssmPutParameter(w http.ResponseWriter, r *http.Request, body []byte) {
	var req struct {
		Name  string `json:"Name"`
		Type  string `json:"Type"`
		KeyID string `json:"KeyId"`
	}
	_ = json.Unmarshal(body, &req)
	e.passThrough(w, r, body, func() {
		e.ext.mu.Lock()
		defer e.ext.mu.Unlock()
		switch {
		case req.Type == "SecureString" && req.KeyID != "":
			e.ext.paramKeys[req.Name] = req.KeyID
		case req.Type == "SecureString":
			e.ext.paramKeys[req.Name] = "alias/aws/ssm"
		case req.Type != "":
			delete(e.ext.paramKeys, req.Name)
		}
	})
}

// ssmDescribeParameters adds the KeyId of SecureString parameters, which
// kumo drops.
func (e *Emulator) ssmDescribeParameters(w http.ResponseWriter, r *http.Request, body []byte) {
	rec := e.forward(r, body)
	out := rec.Body.Bytes()
	if rec.Code == http.StatusOK {
		var doc map[string]any
		d := json.NewDecoder(bytes.NewReader(out))
		d.UseNumber()
		if d.Decode(&doc) == nil {
			if params, ok := doc["Parameters"].([]any); ok {
				e.ext.mu.Lock()
				for _, p := range params {
					m, ok := p.(map[string]any)
					if !ok {
						continue
					}
					name, _ := m["Name"].(string)
					if k, ok := e.ext.paramKeys[name]; ok && m["Type"] == "SecureString" {
						m["KeyId"] = k
					}
				}
				e.ext.mu.Unlock()
				if b, err := json.Marshal(doc); err == nil {
					out = b
				}
			}
		}
	}
	writeRecorded(w, rec, out)
}

func (e *Emulator) ssmDeleteParameters(w http.ResponseWriter, r *http.Request, body []byte) {
	var req struct {
		Name  string   `json:"Name"`
		Names []string `json:"Names"`
	}
	_ = json.Unmarshal(body, &req)
	e.passThrough(w, r, body, func() {
		e.ext.mu.Lock()
		defer e.ext.mu.Unlock()
		for _, n := range append(req.Names, req.Name) {
			delete(e.ext.paramKeys, n)
		}
	})
}

// ---- CloudWatch (RPC v2 CBOR) ----

func (e *Emulator) cwPutMetricAlarm(w http.ResponseWriter, r *http.Request, body []byte) {
	var req struct {
		AlarmName        string `cbor:"AlarmName"`
		TreatMissingData string `cbor:"TreatMissingData"`
	}
	_ = cbor.Unmarshal(body, &req)
	rec := e.forward(r, body)
	if rec.Code == http.StatusOK && req.AlarmName != "" {
		e.ext.mu.Lock()
		if req.TreatMissingData != "" {
			e.ext.treatMissing[req.AlarmName] = req.TreatMissingData
		} else {
			delete(e.ext.treatMissing, req.AlarmName)
		}
		e.ext.mu.Unlock()
		e.alarmCreated(req.AlarmName, req.TreatMissingData)
	}
	writeRecorded(w, rec, rec.Body.Bytes())
}

// cwDescribeAlarms adds TreatMissingData to kumo's answer. Fields are kept
// as raw CBOR so timestamps keep their tags.
func (e *Emulator) cwDescribeAlarms(w http.ResponseWriter, r *http.Request, body []byte) {
	rec := e.forward(r, body)
	out := rec.Body.Bytes()
	if rec.Code == http.StatusOK {
		var doc map[string]cbor.RawMessage
		if cbor.Unmarshal(out, &doc) == nil && doc["MetricAlarms"] != nil {
			var alarms []map[string]cbor.RawMessage
			if cbor.Unmarshal(doc["MetricAlarms"], &alarms) == nil {
				e.ext.mu.Lock()
				for _, a := range alarms {
					var name string
					_ = cbor.Unmarshal(a["AlarmName"], &name)
					if tmd, ok := e.ext.treatMissing[name]; ok {
						a["TreatMissingData"], _ = cbor.Marshal(tmd)
					}
				}
				e.ext.mu.Unlock()
				for _, a := range alarms {
					e.applyOverride(a)
				}
				if b, err := cbor.Marshal(alarms); err == nil {
					doc["MetricAlarms"] = b
					if b, err := cbor.Marshal(doc); err == nil {
						out = b
					}
				}
			}
		}
	}
	writeRecorded(w, rec, out)
}

func (e *Emulator) cwDeleteAlarms(w http.ResponseWriter, r *http.Request, body []byte) {
	var req struct {
		AlarmNames []string `cbor:"AlarmNames"`
	}
	_ = cbor.Unmarshal(body, &req)
	rec := e.forward(r, body)
	if rec.Code == http.StatusOK {
		e.ext.mu.Lock()
		for _, n := range req.AlarmNames {
			delete(e.ext.treatMissing, n)
		}
		e.ext.mu.Unlock()
		e.alarms.mu.Lock()
		for _, n := range req.AlarmNames {
			e.alarms.gen[n]++ // cancels a pending evaluation
			delete(e.alarms.over, n)
		}
		e.alarms.mu.Unlock()
	}
	writeRecorded(w, rec, rec.Body.Bytes())
}
