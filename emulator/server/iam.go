package server

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
)

// kumoIAMAccount is the account kumo's IAM puts in its ARNs; every other
// kumo service (and STS) uses AccountID.
const kumoIAMAccount = "123456789012"

// iamAccount makes IAM agree with the other services on the account: ARNs
// in requests are translated to kumo's IAM account and back in answers, so
// an ARN built from sts:GetCallerIdentity finds the OIDC provider.
func (srv *Server) iamAccount(w http.ResponseWriter, r *http.Request, body []byte) {
	form, err := url.ParseQuery(string(body))
	if err == nil {
		for k, vals := range form {
			for i := range vals {
				vals[i] = strings.ReplaceAll(vals[i], ":"+AccountID+":", ":"+kumoIAMAccount+":")
			}
			form[k] = vals
		}
		body = []byte(form.Encode())
	}
	action := form.Get("Action")
	if srv.iamPolicyVersions(w, form) {
		return
	}
	switch action {
	case "UntagRole":
		srv.iamUntag(w, r, form)
		return
	case "PutRolePermissionsBoundary":
		srv.iamSetBoundary(w, r, form, restoreAccount(form.Get("PermissionsBoundary")))
		return
	case "DeleteRolePermissionsBoundary":
		srv.iamSetBoundary(w, r, form, "")
		return
	}
	rec := srv.forward(r, body)
	out := bytes.ReplaceAll(rec.Body.Bytes(), []byte(":"+kumoIAMAccount+":"), []byte(":"+AccountID+":"))
	switch {
	case rec.Code != http.StatusOK:
	case action == "TagRole":
		srv.iamTagged(form)
	case action == "CreateRole" && form.Get("PermissionsBoundary") != "":
		srv.ext.mu.Lock()
		srv.ext.roleBoundary[form.Get("RoleName")] = restoreAccount(form.Get("PermissionsBoundary"))
		srv.ext.mu.Unlock()
		out = srv.iamShowBoundaries(out)
	case action == "DeleteRole":
		srv.iamForget(form.Get("RoleName"))
	case action == "CreatePolicy":
		srv.iamPolicyCreated(form, out)
	case action == "GetPolicy":
		out = srv.iamShowDefaultVersion(out)
	case action == "DeletePolicy":
		srv.ext.mu.Lock()
		delete(srv.ext.policies, restoreAccount(form.Get("PolicyArn")))
		srv.ext.mu.Unlock()
	case action == "GetRole" || action == "ListRoles":
		out = srv.iamShowBoundaries(srv.iamHideUntagged(out))
	}
	writeRecorded(w, rec, out)
}

// restoreAccount undoes the request translation for a value the front
// server keeps.
func restoreAccount(v string) string {
	return strings.ReplaceAll(v, ":"+kumoIAMAccount+":", ":"+AccountID+":")
}
