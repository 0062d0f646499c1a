package server

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"strings"
)

// kumo confirms every subscription at once; AWS leaves email subscriptions
// "PendingConfirmation" until the recipient follows the link. The front
// server shows them pending until ConfirmEmailSubscriptions, so the sns
// check's report of pending confirmations can be exercised.

type snsMember struct {
	SubscriptionArn string `xml:"SubscriptionArn"`
	Owner           string `xml:"Owner"`
	Protocol        string `xml:"Protocol"`
	Endpoint        string `xml:"Endpoint"`
	TopicArn        string `xml:"TopicArn"`
}

// listSubs is a ListSubscriptions or ListSubscriptionsByTopic answer: the
// element names are kept as read, so one type serves both.
type listSubs struct {
	XMLName xml.Name
	Xmlns   string `xml:"xmlns,attr"`
	Result  struct {
		XMLName   xml.Name
		Members   []snsMember `xml:"Subscriptions>member"`
		NextToken string      `xml:"NextToken,omitempty"`
	} `xml:",any"`
	RequestID string `xml:"ResponseMetadata>RequestId"`
}

func isEmail(protocol string) bool { return strings.HasPrefix(protocol, "email") }

// ConfirmEmailSubscriptions marks every current email subscription as
// confirmed, as if each recipient had followed the link.
func (srv *Server) ConfirmEmailSubscriptions() {
	srv.ext.mu.Lock()
	defer srv.ext.mu.Unlock()
	srv.ext.emailConfirmed = true
}

func (srv *Server) pending(m *snsMember) {
	if isEmail(m.Protocol) && !srv.ext.emailConfirmed {
		m.SubscriptionArn = "PendingConfirmation"
	}
}

// showPending forwards a subscription listing to kumo and rewrites its
// email members as pending.
func (srv *Server) showPending(w http.ResponseWriter, r *http.Request, body []byte) {
	rec := srv.forward(r, body)
	out := rec.Body.Bytes()
	var doc listSubs
	if rec.Code == http.StatusOK && xml.Unmarshal(out, &doc) == nil {
		srv.ext.mu.Lock()
		for i := range doc.Result.Members {
			srv.pending(&doc.Result.Members[i])
		}
		srv.ext.mu.Unlock()
		if b, err := xml.Marshal(doc); err == nil {
			out = b
		}
	}
	writeRecorded(w, rec, out)
}

// snsWithResult forwards a tagging request and adds the empty result
// element kumo leaves out of its answer: the AWS SDK refuses an answer
// without <TagResourceResult/> (or <UntagResourceResult/>).
func (srv *Server) snsWithResult(op string) extHandler {
	return func(w http.ResponseWriter, r *http.Request, body []byte) {
		rec := srv.forward(r, body)
		out := rec.Body.Bytes()
		result := []byte("<" + op + "Result")
		open := []byte("<" + op + "Response")
		if at := bytes.Index(out, open); rec.Code == http.StatusOK && at >= 0 && !bytes.Contains(out, result) {
			if end := bytes.IndexByte(out[at:], '>'); end >= 0 {
				cut := at + end + 1
				out = append(append(append([]byte{}, out[:cut]...), "<"+op+"Result></"+op+"Result>"...), out[cut:]...)
			}
		}
		writeRecorded(w, rec, out)
	}
}
