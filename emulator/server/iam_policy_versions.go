package server

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// kumo keeps a managed policy's document but serves no version of it
// (GetPolicyVersion, CreatePolicyVersion, ...), so the front server keeps
// each policy's versions, by the policy's ARN as the caller names it. A
// refresh then sees a boundary policy widened out of band, and an update
// makes a new default version, as on AWS (at most five versions).

type policyVersion struct {
	id, doc string
	created time.Time
}

type policyVersions struct {
	versions []policyVersion
	def      string
	next     int
}

const maxPolicyVersions = 5

// iamPolicyCreated keeps v1 of a policy kumo created; arn is read from
// kumo's answer (already in the front server's account).
func (srv *Server) iamPolicyCreated(form url.Values, out []byte) {
	var resp struct {
		Arn string `xml:"CreatePolicyResult>Policy>Arn"`
	}
	if xml.Unmarshal(out, &resp) != nil || resp.Arn == "" {
		return
	}
	srv.ext.mu.Lock()
	defer srv.ext.mu.Unlock()
	srv.ext.policies[resp.Arn] = &policyVersions{versions: []policyVersion{{id: "v1", doc: restoreAccount(form.Get("PolicyDocument")), created: time.Now().UTC()}}, def: "v1", next: 2}
}

// iamPolicyVersions answers the version operations; handled reports
// whether action is one of them.
func (srv *Server) iamPolicyVersions(w http.ResponseWriter, form url.Values) (handled bool) {
	action := form.Get("Action")
	switch action {
	case "CreatePolicyVersion", "GetPolicyVersion", "ListPolicyVersions", "DeletePolicyVersion":
	default:
		return false
	}
	arn := restoreAccount(form.Get("PolicyArn"))
	srv.ext.mu.Lock()
	defer srv.ext.mu.Unlock()
	p, ok := srv.ext.policies[arn]
	if !ok {
		iamError(w, http.StatusNotFound, "NoSuchEntity", "Policy "+arn+" does not exist or is not attachable.")
		return true
	}
	find := func(id string) int {
		for i, v := range p.versions {
			if v.id == id {
				return i
			}
		}
		return -1
	}
	var result string
	switch action {
	case "CreatePolicyVersion":
		if len(p.versions) >= maxPolicyVersions {
			iamError(w, http.StatusConflict, "LimitExceeded", "A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version.")
			return true
		}
		v := policyVersion{id: "v" + strconv.Itoa(p.next), doc: restoreAccount(form.Get("PolicyDocument")), created: time.Now().UTC()}
		p.next++
		p.versions = append(p.versions, v)
		if form.Get("SetAsDefault") == "true" {
			p.def = v.id
		}
		result = "<PolicyVersion>" + p.versionXML(v) + "</PolicyVersion>"
	case "GetPolicyVersion":
		i := find(form.Get("VersionId"))
		if i < 0 {
			iamError(w, http.StatusNotFound, "NoSuchEntity", "Policy "+arn+" version "+form.Get("VersionId")+" does not exist.")
			return true
		}
		result = "<PolicyVersion>" + p.versionXML(p.versions[i]) + "</PolicyVersion>"
	case "ListPolicyVersions":
		var b strings.Builder
		for _, v := range p.versions {
			b.WriteString("<member>" + p.versionXML(v) + "</member>")
		}
		result = "<Versions>" + b.String() + "</Versions><IsTruncated>false</IsTruncated>"
	case "DeletePolicyVersion":
		id := form.Get("VersionId")
		i := find(id)
		switch {
		case i < 0:
			iamError(w, http.StatusNotFound, "NoSuchEntity", "Policy "+arn+" version "+id+" does not exist.")
			return true
		case id == p.def:
			iamError(w, http.StatusConflict, "DeleteConflict", "Cannot delete the default version of a policy.")
			return true
		}
		p.versions = append(p.versions[:i], p.versions[i+1:]...)
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(xml.Header + "<" + action + `Response xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><` + action + "Result>" + result +
		"</" + action + "Result><ResponseMetadata><RequestId>policy-version</RequestId></ResponseMetadata></" + action + "Response>"))
	return true
}

func (p *policyVersions) versionXML(v policyVersion) string {
	return "<Document>" + xmlEscaped(url.QueryEscape(v.doc)) + "</Document><VersionId>" + v.id + "</VersionId><IsDefaultVersion>" +
		strconv.FormatBool(v.id == p.def) + "</IsDefaultVersion><CreateDate>" + v.created.Format(time.RFC3339) + "</CreateDate>"
}

// iamShowDefaultVersion writes the default version into a GetPolicy answer.
func (srv *Server) iamShowDefaultVersion(out []byte) []byte {
	srv.ext.mu.Lock()
	defer srv.ext.mu.Unlock()
	for arn, p := range srv.ext.policies {
		if !bytes.Contains(out, []byte("<Arn>"+xmlEscaped(arn)+"</Arn>")) {
			continue
		}
		at := bytes.Index(out, []byte("<DefaultVersionId>"))
		end := bytes.Index(out, []byte("</DefaultVersionId>"))
		if at >= 0 && end > at {
			out = append(append(append([]byte{}, out[:at]...), "<DefaultVersionId>"+p.def...), out[end:]...)
		}
	}
	return out
}

func iamError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(xml.Header + "<ErrorResponse><Error><Type>Sender</Type><Code>" + code + "</Code><Message>" + xmlEscaped(msg) +
		"</Message></Error><RequestId>policy-version</RequestId></ErrorResponse>"))
}
