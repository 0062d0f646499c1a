package server

import (
	"encoding/json"
	"net/http"
)

type rotationExt struct {
	enabled bool
	days    int
}

// resolveKey asks kumo for a key's ARN given an id, ARN or alias.
func (srv *Server) resolveKey(r *http.Request, keyID string) (string, bool) {
	b, _ := json.Marshal(map[string]string{"KeyId": keyID})
	code, out, err := srv.callKumo(r.Context(), "kms", "TrentService.DescribeKey", b)
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
func (srv *Server) kmsKey(w http.ResponseWriter, r *http.Request, body []byte) (kmsKeyRequest, string, bool) {
	var req kmsKeyRequest
	_ = json.Unmarshal(body, &req)
	arn, ok := srv.resolveKey(r, req.KeyID)
	if !ok {
		writeJSONError(w, http.StatusBadRequest, "NotFoundException", "Key '"+req.KeyID+"' does not exist")
	}
	return req, arn, ok
}

func (srv *Server) kmsSetRotation(enable bool) extHandler {
	return func(w http.ResponseWriter, r *http.Request, body []byte) {
		req, arn, ok := srv.kmsKey(w, r, body)
		if !ok {
			return
		}
		days := req.RotationPeriodInDays
		if days == 0 {
			days = 365
		}
		srv.ext.mu.Lock()
		srv.ext.rotation[arn] = rotationExt{enabled: enable, days: days}
		srv.ext.mu.Unlock()
		writeJSON(w, map[string]any{})
	}
}

func (srv *Server) kmsGetRotation(w http.ResponseWriter, r *http.Request, body []byte) {
	_, arn, ok := srv.kmsKey(w, r, body)
	if !ok {
		return
	}
	srv.ext.mu.Lock()
	rot := srv.ext.rotation[arn]
	srv.ext.mu.Unlock()
	out := map[string]any{"KeyId": arn, "KeyRotationEnabled": rot.enabled}
	if rot.enabled {
		out["RotationPeriodInDays"] = rot.days
	}
	writeJSON(w, out)
}

// kmsUpdateDescription keeps a key's new description: kumo has no
// UpdateKeyDescription, and the converging deploy after an adoption
// changes the Terraform-era description in place.
func (srv *Server) kmsUpdateDescription(w http.ResponseWriter, r *http.Request, body []byte) {
	_, arn, ok := srv.kmsKey(w, r, body)
	if !ok {
		return
	}
	var req struct {
		Description *string `json:"Description"`
	}
	_ = json.Unmarshal(body, &req)
	if req.Description == nil {
		writeJSONError(w, http.StatusBadRequest, "ValidationException", "1 validation error detected: Value null at 'description' failed to satisfy constraint: Member must not be null")
		return
	}
	srv.ext.mu.Lock()
	srv.ext.keyDescriptions[arn] = *req.Description
	srv.ext.mu.Unlock()
	writeJSON(w, map[string]any{})
}

// kmsDescribeKey answers with kumo's metadata and the description
// UpdateKeyDescription set, if any.
func (srv *Server) kmsDescribeKey(w http.ResponseWriter, r *http.Request, body []byte) {
	rec := srv.forward(r, body)
	out := rec.Body.Bytes()
	var resp map[string]map[string]any
	if rec.Code == http.StatusOK && json.Unmarshal(out, &resp) == nil {
		arn, _ := resp["KeyMetadata"]["Arn"].(string)
		srv.ext.mu.Lock()
		desc, ok := srv.ext.keyDescriptions[arn]
		srv.ext.mu.Unlock()
		if ok {
			resp["KeyMetadata"]["Description"] = desc
			if b, err := json.Marshal(resp); err == nil {
				out = b
			}
		}
	}
	writeRecorded(w, rec, out)
}
