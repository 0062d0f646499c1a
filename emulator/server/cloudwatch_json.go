package server

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/fxamacker/cbor/v2"
)

// CloudWatch speaks Smithy RPC v2 CBOR to current Go SDKs, which is all
// kumo understands, while other clients (botocore and the AWS CLI) use AWS
// JSON 1.0 with X-Amz-Target "GraniteServiceVersion20100801.<Op>". The
// front server translates those: the request body to CBOR, the answer back
// to JSON, so one emulator serves both (and the extensions apply to both).

// cwJSON answers a JSON CloudWatch request through the CBOR path.
func (srv *Server) cwJSON(w http.ResponseWriter, r *http.Request, op Operation, body []byte) {
	var in any
	if len(bytes.TrimSpace(body)) > 0 {
		d := json.NewDecoder(bytes.NewReader(body))
		d.UseNumber()
		if err := d.Decode(&in); err != nil {
			writeJSONError(w, http.StatusBadRequest, "SerializationException", "cannot parse the JSON request")
			return
		}
	} else {
		in = map[string]any{}
	}
	cb, err := cbor.Marshal(jsonToCBOR(in))
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, "SerializationException", "cannot encode the request")
		return
	}
	req := r.Clone(r.Context())
	req.URL.Path = "/service/" + cwService + "/operation/" + op.Operation
	req.URL.RawPath = ""
	req.Header.Del("X-Amz-Target")
	req.Header.Set("Content-Type", "application/cbor")
	req.Header.Set("Accept", "application/cbor")
	req.Header.Set("Smithy-Protocol", "rpc-v2-cbor")
	restoreBody(req, cb)

	rec := httptest.NewRecorder()
	if h, ok := srv.handlers[op.Service+"."+op.Operation]; ok {
		h(rec, req, cb)
	} else {
		srv.proxy.ServeHTTP(rec, req)
	}
	var out any = map[string]any{}
	if rec.Body.Len() > 0 {
		if err := cbor.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			writeJSONError(w, http.StatusInternalServerError, "InternalFailure", "cannot decode kumo's answer")
			return
		}
	}
	jb, err := json.Marshal(cborToJSON(out))
	if err != nil {
		writeJSONError(w, http.StatusInternalServerError, "InternalFailure", fmt.Sprintf("cannot encode the answer: %v", err))
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	if rec.Code >= 300 {
		if m, ok := out.(map[any]any); ok {
			if t, ok := m["__type"].(string); ok {
				w.Header().Set("X-Amzn-ErrorType", t)
			}
		}
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(jb)
}

// jsonToCBOR turns JSON numbers into integers where they are integral, so
// kumo's int32 fields decode.
func jsonToCBOR(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, x := range t {
			m[k] = jsonToCBOR(x)
		}
		return m
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = jsonToCBOR(x)
		}
		return out
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return i
		}
		f, _ := t.Float64()
		return f
	}
	return v
}

// cborToJSON makes a decoded CBOR value encodable as AWS JSON: string map
// keys, timestamps as epoch seconds, byte strings as base64.
func cborToJSON(v any) any {
	switch t := v.(type) {
	case map[any]any:
		m := make(map[string]any, len(t))
		for k, x := range t {
			m[fmt.Sprint(k)] = cborToJSON(x)
		}
		return m
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, x := range t {
			m[k] = cborToJSON(x)
		}
		return m
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = cborToJSON(x)
		}
		return out
	case time.Time:
		return float64(t.UnixMilli()) / 1000
	case cbor.Tag:
		return cborToJSON(t.Content)
	case []byte:
		return base64.StdEncoding.EncodeToString(t)
	case float64:
		if math.IsNaN(t) || math.IsInf(t, 0) {
			return nil
		}
	}
	return v
}
