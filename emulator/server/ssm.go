package server

import (
	"bytes"
	"encoding/json"
	"net/http"
)

func (srv *Server) ssmPutParameter(w http.ResponseWriter, r *http.Request, body []byte) {
	var req struct {
		Name  string `json:"Name"`
		Type  string `json:"Type"`
		KeyID string `json:"KeyId"`
	}
	_ = json.Unmarshal(body, &req)
	srv.passThrough(w, r, body, func() {
		srv.ext.mu.Lock()
		defer srv.ext.mu.Unlock()
		switch {
		case req.Type == "SecureString" && req.KeyID != "":
			srv.ext.paramKeys[req.Name] = req.KeyID
		case req.Type == "SecureString":
			srv.ext.paramKeys[req.Name] = "alias/aws/ssm"
		case req.Type != "":
			delete(srv.ext.paramKeys, req.Name)
		}
	})
}

// ssmDescribeParameters adds the KeyId of SecureString parameters, which
// kumo drops.
func (srv *Server) ssmDescribeParameters(w http.ResponseWriter, r *http.Request, body []byte) {
	rec := srv.forward(r, body)
	out := rec.Body.Bytes()
	if rec.Code == http.StatusOK {
		var doc map[string]any
		d := json.NewDecoder(bytes.NewReader(out))
		d.UseNumber()
		if d.Decode(&doc) == nil {
			if params, ok := doc["Parameters"].([]any); ok {
				srv.ext.mu.Lock()
				for _, p := range params {
					m, ok := p.(map[string]any)
					if !ok {
						continue
					}
					name, _ := m["Name"].(string)
					if k, ok := srv.ext.paramKeys[name]; ok && m["Type"] == "SecureString" {
						m["KeyId"] = k
					}
				}
				srv.ext.mu.Unlock()
				if b, err := json.Marshal(doc); err == nil {
					out = b
				}
			}
		}
	}
	writeRecorded(w, rec, out)
}

func (srv *Server) ssmDeleteParameters(w http.ResponseWriter, r *http.Request, body []byte) {
	var req struct {
		Name  string   `json:"Name"`
		Names []string `json:"Names"`
	}
	_ = json.Unmarshal(body, &req)
	srv.passThrough(w, r, body, func() {
		srv.ext.mu.Lock()
		defer srv.ext.mu.Unlock()
		for _, n := range append(req.Names, req.Name) {
			delete(srv.ext.paramKeys, n)
		}
	})
}
