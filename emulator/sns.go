package emulator

import (
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

type listSubsByTopic struct {
	XMLName   xml.Name    `xml:"ListSubscriptionsByTopicResponse"`
	Xmlns     string      `xml:"xmlns,attr"`
	Members   []snsMember `xml:"ListSubscriptionsByTopicResult>Subscriptions>member"`
	NextToken string      `xml:"ListSubscriptionsByTopicResult>NextToken,omitempty"`
	RequestID string      `xml:"ResponseMetadata>RequestId"`
}

type listSubs struct {
	XMLName   xml.Name    `xml:"ListSubscriptionsResponse"`
	Xmlns     string      `xml:"xmlns,attr"`
	Members   []snsMember `xml:"ListSubscriptionsResult>Subscriptions>member"`
	NextToken string      `xml:"ListSubscriptionsResult>NextToken,omitempty"`
	RequestID string      `xml:"ResponseMetadata>RequestId"`
}

func isEmail(protocol string) bool { return strings.HasPrefix(protocol, "email") }

// ConfirmEmailSubscriptions marks every current email subscription as
// confirmed, as if each recipient had followed the link.
func (e *Emulator) ConfirmEmailSubscriptions() {
	e.ext.mu.Lock()
	defer e.ext.mu.Unlock()
	e.ext.emailConfirmed = true
}

func (e *Emulator) pending(m *snsMember) {
	if isEmail(m.Protocol) && !e.ext.emailConfirmed {
		m.SubscriptionArn = "PendingConfirmation"
	}
}

func (e *Emulator) snsListSubscriptionsByTopic(w http.ResponseWriter, r *http.Request, body []byte) {
	var doc listSubsByTopic
	e.showPending(w, r, body, &doc, func() []snsMember { return doc.Members })
}

func (e *Emulator) snsListSubscriptions(w http.ResponseWriter, r *http.Request, body []byte) {
	var doc listSubs
	e.showPending(w, r, body, &doc, func() []snsMember { return doc.Members })
}

// showPending forwards a subscription listing to kumo and rewrites its
// email members as pending. doc is the response document and members
// returns its (decoded) member slice.
func (e *Emulator) showPending(w http.ResponseWriter, r *http.Request, body []byte, doc any, members func() []snsMember) {
	rec := e.forward(r, body)
	out := rec.Body.Bytes()
	if rec.Code == http.StatusOK && xml.Unmarshal(out, doc) == nil {
		e.ext.mu.Lock()
		ms := members()
		for i := range ms {
			e.pending(&ms[i])
		}
		e.ext.mu.Unlock()
		if b, err := xml.Marshal(doc); err == nil {
			out = b
		}
	}
	writeRecorded(w, rec, out)
}
