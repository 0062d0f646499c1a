package server

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"time"

	"github.com/fxamacker/cbor/v2"
)

func restoreBody(r *http.Request, body []byte) {
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
}

// writeRecorded copies a recorded response, replacing its body. DynamoDB
// clients verify X-Amz-Crc32, so it is recomputed for the new body.
func writeRecorded(w http.ResponseWriter, rec *httptest.ResponseRecorder, body []byte) {
	for k, v := range rec.Header() {
		if http.CanonicalHeaderKey(k) == "Content-Length" {
			continue
		}
		w.Header()[k] = v
	}
	if w.Header().Get("X-Amz-Crc32") != "" {
		w.Header().Set("X-Amz-Crc32", crc(body))
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(body)
}

// addCRC32 sets the X-Amz-Crc32 header DynamoDB clients verify and kumo
// omits (without it the SDK logs a checksum warning on every response).
func addCRC32(resp *http.Response) error {
	if !strings.HasPrefix(resp.Request.Header.Get("X-Amz-Target"), "DynamoDB_") {
		return nil
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("reading kumo's answer: %w", err)
	}
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	resp.ContentLength = int64(len(b))
	resp.Header.Set("Content-Length", strconv.Itoa(len(b)))
	resp.Header.Set("X-Amz-Crc32", crc(b))
	return nil
}

func crc(b []byte) string { return strconv.FormatUint(uint64(crc32.ChecksumIEEE(b)), 10) }

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

func writeJSONError(w http.ResponseWriter, status int, code, msg string) {
	body := fmt.Sprintf(`{"__type":%q,"message":%q}`, code, msg)
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("X-Amzn-ErrorType", code)
	w.Header().Set("X-Amz-Crc32", crc([]byte(body)))
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

func writeCBOR(w http.ResponseWriter, v any) {
	b, _ := cbor.Marshal(v)
	w.Header().Set("Content-Type", "application/cbor")
	w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

func writeCBORError(w http.ResponseWriter, status int, code, msg string) {
	b, _ := cbor.Marshal(map[string]string{"__type": code, "message": msg})
	w.Header().Set("Content-Type", "application/cbor")
	w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// cborTime encodes times as CBOR tag 1, as CloudWatch's answers do.
var cborTime, _ = cbor.EncOptions{Time: cbor.TimeUnixDynamic, TimeTag: cbor.EncTagRequired}.EncMode()

// cwService is the Smithy service name in CloudWatch's RPC v2 CBOR paths.
const cwService = "GraniteServiceVersion20100801"

type queryError struct {
	XMLName xml.Name `xml:"ErrorResponse"`
	Type    string   `xml:"Error>Type"`
	Code    string   `xml:"Error>Code"`
	Message string   `xml:"Error>Message"`
	ReqID   string   `xml:"RequestId"`
}

func writeQueryError(w http.ResponseWriter, status int, code, msg string) {
	kind := "Sender"
	if status >= 500 {
		kind = "Receiver"
	}
	b, _ := xml.Marshal(queryError{Type: kind, Code: code, Message: msg, ReqID: "00000000-0000-0000-0000-000000000000"})
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

type s3Error struct {
	XMLName xml.Name `xml:"Error"`
	Code    string   `xml:"Code"`
	Message string   `xml:"Message"`
	ReqID   string   `xml:"RequestId"`
}

// writeS3Error answers as S3 does: an XML <Error> document (HEAD answers
// carry no body, so the SDK reads the status alone).
func writeS3Error(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	b, _ := xml.Marshal(s3Error{Code: code, Message: msg, ReqID: "00000000-0000-0000-0000-000000000000"})
	_, _ = w.Write(append([]byte(xml.Header), b...))
}
