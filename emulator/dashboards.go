package emulator

import (
	"fmt"
	"net/http"

	"github.com/fxamacker/cbor/v2"
)

// CloudWatch dashboards, which kumo does not hold: enough for the
// rehearsal to create the dashboard the program declares and for tests to
// read its body back.

func writeCBOR(w http.ResponseWriter, v any) {
	b, _ := cbor.Marshal(v)
	w.Header().Set("Content-Type", "application/cbor")
	w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

func (e *Emulator) cwPutDashboard(w http.ResponseWriter, _ *http.Request, body []byte) {
	var req struct {
		DashboardName string `cbor:"DashboardName"`
		DashboardBody string `cbor:"DashboardBody"`
	}
	if err := cbor.Unmarshal(body, &req); err != nil || req.DashboardName == "" || req.DashboardBody == "" {
		writeCBORError(w, http.StatusBadRequest, "InvalidParameterInput", "DashboardName and DashboardBody are required")
		return
	}
	e.ext.mu.Lock()
	e.ext.dashboards[req.DashboardName] = req.DashboardBody
	e.ext.mu.Unlock()
	writeCBOR(w, map[string]any{"DashboardValidationMessages": []any{}})
}

func (e *Emulator) cwGetDashboard(w http.ResponseWriter, _ *http.Request, body []byte) {
	var req struct {
		DashboardName string `cbor:"DashboardName"`
	}
	_ = cbor.Unmarshal(body, &req)
	e.ext.mu.Lock()
	b, ok := e.ext.dashboards[req.DashboardName]
	e.ext.mu.Unlock()
	if !ok {
		writeCBORError(w, http.StatusNotFound, "ResourceNotFound", fmt.Sprintf("Dashboard %s does not exist", req.DashboardName))
		return
	}
	writeCBOR(w, map[string]any{
		"DashboardName": req.DashboardName, "DashboardBody": b,
		"DashboardArn": fmt.Sprintf("arn:aws:cloudwatch::%s:dashboard/%s", AccountID, req.DashboardName),
	})
}

func (e *Emulator) cwDeleteDashboards(w http.ResponseWriter, _ *http.Request, body []byte) {
	var req struct {
		DashboardNames []string `cbor:"DashboardNames"`
	}
	_ = cbor.Unmarshal(body, &req)
	e.ext.mu.Lock()
	defer e.ext.mu.Unlock()
	for _, n := range req.DashboardNames {
		if _, ok := e.ext.dashboards[n]; !ok {
			writeCBORError(w, http.StatusNotFound, "ResourceNotFound", fmt.Sprintf("Dashboard %s does not exist", n))
			return
		}
	}
	for _, n := range req.DashboardNames {
		delete(e.ext.dashboards, n)
	}
	writeCBOR(w, map[string]any{})
}
