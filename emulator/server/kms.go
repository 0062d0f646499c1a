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
