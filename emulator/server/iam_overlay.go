package server

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
)

// What kumo's IAM does not keep of a role, the front server does, by role
// name, and writes into the roles it answers with (GetRole, ListRoles):
//   - the tag keys UntagRole removed (kumo can tag but not untag); a later
//     TagRole of a key brings it back, as on AWS;
//   - the permissions boundary (kumo ignores CreateRole's and has no
//     Put/DeleteRolePermissionsBoundary), so a refresh sees a boundary
//     removed out of band.

// iamTagMember matches one tag of a role's Tags list as kumo encodes it.
var iamTagMember = regexp.MustCompile(`<member><Key>([^<]*)</Key><Value>[^<]*</Value></member>`)

// iamUntag answers UntagRole: the role must exist (kumo's GetRole says), the
// keys are remembered as removed.
func (srv *Server) iamUntag(w http.ResponseWriter, r *http.Request, form url.Values) {
	role := form.Get("RoleName")
	get := url.Values{"Action": {"GetRole"}, "Version": {"2010-05-08"}, "RoleName": {role}}
	rec := srv.forward(r, []byte(get.Encode()))
	if rec.Code != http.StatusOK {
		writeRecorded(w, rec, rec.Body.Bytes())
		return
	}
	srv.ext.mu.Lock()
	gone := srv.ext.roleUntagged[role]
	if gone == nil {
		gone = map[string]bool{}
		srv.ext.roleUntagged[role] = gone
	}
	for _, k := range listMembers(form, "TagKeys") {
		gone[k] = true
	}
	srv.ext.mu.Unlock()
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(xml.Header + `<UntagRoleResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><ResponseMetadata><RequestId>untag-role</RequestId></ResponseMetadata></UntagRoleResponse>`))
}

// iamTagged notes that TagRole (accepted by kumo) set these keys again.
func (srv *Server) iamTagged(form url.Values) {
	role := form.Get("RoleName")
	srv.ext.mu.Lock()
	defer srv.ext.mu.Unlock()
	for i := 1; ; i++ {
		k, ok := form["Tags.member."+strconv.Itoa(i)+".Key"]
		if !ok {
			return
		}
		delete(srv.ext.roleUntagged[role], k[0])
	}
}

// iamHideUntagged removes the untagged keys from the roles in an answer.
func (srv *Server) iamHideUntagged(out []byte) []byte {
	srv.ext.mu.Lock()
	defer srv.ext.mu.Unlock()
	for role, gone := range srv.ext.roleUntagged {
		if len(gone) == 0 {
			continue
		}
		mark := []byte("<RoleName>" + xmlEscaped(role) + "</RoleName>")
		at := bytes.Index(out, mark)
		if at < 0 {
			continue
		}
		// The role's element runs to the next role's name (or the end).
		end := len(out)
		if next := bytes.Index(out[at+len(mark):], []byte("<RoleName>")); next >= 0 {
			end = at + len(mark) + next
		}
		block := iamTagMember.ReplaceAllFunc(out[at:end], func(m []byte) []byte {
			if gone[xmlText(iamTagMember.FindSubmatch(m)[1])] {
				return nil
			}
			return m
		})
		out = append(append(append([]byte{}, out[:at]...), block...), out[end:]...)
	}
	return out
}

// xmlText is the text an XML-escaped character data stands for.
func xmlText(escaped []byte) string {
	var v struct {
		Text string `xml:",chardata"`
	}
	_ = xml.Unmarshal(append(append([]byte("<v>"), escaped...), "</v>"...), &v)
	return v.Text
}

// listMembers reads a Query-protocol list (Name.member.1, Name.member.2, ...).
func listMembers(form url.Values, name string) []string {
	var out []string
	for i := 1; ; i++ {
		v, ok := form[name+".member."+strconv.Itoa(i)]
		if !ok {
			return out
		}
		out = append(out, v[0])
	}
}

// iamSetBoundary answers PutRolePermissionsBoundary and
// DeleteRolePermissionsBoundary for a role kumo has.
func (srv *Server) iamSetBoundary(w http.ResponseWriter, r *http.Request, form url.Values, arn string) {
	role := form.Get("RoleName")
	get := url.Values{"Action": {"GetRole"}, "Version": {"2010-05-08"}, "RoleName": {role}}
	rec := srv.forward(r, []byte(get.Encode()))
	if rec.Code != http.StatusOK {
		writeRecorded(w, rec, rec.Body.Bytes())
		return
	}
	srv.ext.mu.Lock()
	if arn == "" {
		delete(srv.ext.roleBoundary, role)
	} else {
		srv.ext.roleBoundary[role] = arn
	}
	srv.ext.mu.Unlock()
	action := form.Get("Action")
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(xml.Header + "<" + action + `Response xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><ResponseMetadata><RequestId>boundary</RequestId></ResponseMetadata></` + action + "Response>"))
}

// iamShowBoundaries writes each role's boundary after its name. The ARN is
// kept with the front server's account (answers are translated back).
func (srv *Server) iamShowBoundaries(out []byte) []byte {
	srv.ext.mu.Lock()
	defer srv.ext.mu.Unlock()
	for role, arn := range srv.ext.roleBoundary {
		mark := []byte("<RoleName>" + xmlEscaped(role) + "</RoleName>")
		at := bytes.Index(out, mark)
		if at < 0 {
			continue
		}
		cut := at + len(mark)
		add := "<PermissionsBoundary><PermissionsBoundaryType>Policy</PermissionsBoundaryType><PermissionsBoundaryArn>" + xmlEscaped(arn) + "</PermissionsBoundaryArn></PermissionsBoundary>"
		out = append(append(append([]byte{}, out[:cut]...), add...), out[cut:]...)
	}
	return out
}

// iamForget drops what the front server kept of a deleted role.
func (srv *Server) iamForget(role string) {
	srv.ext.mu.Lock()
	defer srv.ext.mu.Unlock()
	delete(srv.ext.roleBoundary, role)
	delete(srv.ext.roleUntagged, role)
}

func xmlEscaped(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
