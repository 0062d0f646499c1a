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
	if action == "UntagRole" {
		srv.iamUntag(w, r, form)
		return
	}
	rec := srv.forward(r, body)
	out := bytes.ReplaceAll(rec.Body.Bytes(), []byte(":"+kumoIAMAccount+":"), []byte(":"+AccountID+":"))
	switch {
	case rec.Code != http.StatusOK:
	case action == "TagRole":
		srv.iamTagged(form)
	case action == "GetRole" || action == "ListRoles":
		out = srv.iamHideUntagged(out)
	}
	writeRecorded(w, rec, out)
}
