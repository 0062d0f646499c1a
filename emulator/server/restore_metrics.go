package server

import (
	"net/http"
	"reflect"
	"time"

	"github.com/fxamacker/cbor/v2"
)

// cwPutMetricData makes kumo accept PutMetricData from the Go SDK: the SDK
// sends each datum's Timestamp as a CBOR time (tag 1), which kumo's CBOR
// handler only reads as a string, so it refused every datum with a time.
// The front server rewrites the times as RFC 3339 strings.
func (srv *Server) cwPutMetricData(w http.ResponseWriter, r *http.Request, body []byte) {
	dm, err := cbor.DecOptions{DefaultMapType: reflect.TypeOf(map[string]any{})}.DecMode()
	if err == nil {
		var doc map[string]any
		if dm.Unmarshal(body, &doc) == nil {
			if data, ok := doc["MetricData"].([]any); ok {
				for _, d := range data {
					if m, ok := d.(map[string]any); ok {
						if ts, ok := metricTime(m["Timestamp"]); ok {
							m["Timestamp"] = ts.UTC().Format(time.RFC3339Nano)
						}
					}
				}
				if b, err := cbor.Marshal(doc); err == nil {
					body = b
				}
			}
		}
	}
	rec := srv.forward(r, body)
	writeRecorded(w, rec, rec.Body.Bytes())
}

func metricTime(v any) (time.Time, bool) {
	switch t := v.(type) {
	case time.Time:
		return t, true
	case cbor.Tag:
		if f, ok := t.Content.(float64); ok {
			return fromEpoch(f), true
		}
		if i, ok := t.Content.(uint64); ok {
			return time.Unix(int64(i), 0), true
		}
	}
	return time.Time{}, false
}
