package server

import (
	"fmt"
	"net/http"

	"github.com/fxamacker/cbor/v2"
)

// CloudWatch dashboards, which kumo does not hold: enough for the
// rehearsal to create the dashboard the program declares and for tests to
// read its body back.

func (srv *Server) cwPutDashboard(w http.ResponseWriter, _ *http.Request, body []byte) {
	var req struct {
		DashboardName string `cbor:"DashboardName"`
		DashboardBody string `cbor:"DashboardBody"`
	}
	if err := cbor.Unmarshal(body, &req); err != nil || req.DashboardName == "" || req.DashboardBody == "" {
		writeCBORError(w, http.StatusBadRequest, "InvalidParameterInput", "DashboardName and DashboardBody are required")
		return
	}
	srv.ext.mu.Lock()
	srv.ext.dashboards[req.DashboardName] = req.DashboardBody
	srv.ext.mu.Unlock()
	writeCBOR(w, map[string]any{"DashboardValidationMessages": []any{}})
}

func (srv *Server) cwGetDashboard(w http.ResponseWriter, _ *http.Request, body []byte) {
	var req struct {
		DashboardName string `cbor:"DashboardName"`
	}
	_ = cbor.Unmarshal(body, &req)
	srv.ext.mu.Lock()
	b, ok := srv.ext.dashboards[req.DashboardName]
	srv.ext.mu.Unlock()
	if !ok {
		writeCBORError(w, http.StatusNotFound, "ResourceNotFound", fmt.Sprintf("Dashboard %s does not exist", req.DashboardName))
		return
	}
	writeCBOR(w, map[string]any{
		"DashboardName": req.DashboardName, "DashboardBody": b,
		"DashboardArn": fmt.Sprintf("arn:aws:cloudwatch::%s:dashboard/%s", AccountID, req.DashboardName),
	})
}

func (srv *Server) cwDeleteDashboards(w http.ResponseWriter, _ *http.Request, body []byte) {
	var req struct {
		DashboardNames []string `cbor:"DashboardNames"`
	}
	_ = cbor.Unmarshal(body, &req)
	srv.ext.mu.Lock()
	defer srv.ext.mu.Unlock()
	for _, n := range req.DashboardNames {
		if _, ok := srv.ext.dashboards[n]; !ok {
			writeCBORError(w, http.StatusNotFound, "ResourceNotFound", fmt.Sprintf("Dashboard %s does not exist", n))
			return
		}
	}
	for _, n := range req.DashboardNames {
		delete(srv.ext.dashboards, n)
	}
	writeCBOR(w, map[string]any{})
}
