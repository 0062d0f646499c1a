package server

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/mirror-dissonance/mirror-infra/spec"
)

// Alarm evaluation and notification delivery, which kumo does not model:
//
//   - Evaluation (off by default, see EvaluateAlarms): an alarm created
//     with TreatMissingData notBreaching moves from INSUFFICIENT_DATA to OK
//     (breaching: to ALARM) as CloudWatch does on an idle table, firing
//     its actions.
//   - Delivery: CloudWatch can only publish to a KMS-encrypted topic when
//     the key policy lets cloudwatch.amazonaws.com use the key (SPEC 2.1,
//     defect 9.1). When no action topic of a state change is deliverable,
//     the change is applied here without reaching kumo, so no notification
//     is published, and it is listed by DroppedNotifications.

// alarmState is a state change applied in front of kumo (its notification
// was dropped); DescribeAlarms answers show it until the alarm changes
// again through kumo.
type alarmState struct {
	value, reason string
	at            time.Time
}

type alarmEval struct {
	mu      sync.Mutex
	enabled bool
	after   time.Duration
	gen     map[string]int
	timers  []*time.Timer
	over    map[string]alarmState
	dropped []string
}

func newAlarmEval() *alarmEval {
	return &alarmEval{gen: map[string]int{}, over: map[string]alarmState{}}
}

// EvaluateAlarms turns on alarm evaluation for alarms created from now on:
// after the delay (0: before PutMetricAlarm returns), an alarm whose
// TreatMissingData is notBreaching goes to OK and one with breaching goes
// to ALARM, firing their actions; missing or ignore leaves it in
// INSUFFICIENT_DATA. A negative delay turns evaluation off (the default).
func (srv *Server) EvaluateAlarms(after time.Duration) {
	srv.alarms.mu.Lock()
	defer srv.alarms.mu.Unlock()
	srv.alarms.enabled, srv.alarms.after = after >= 0, after
}

// DroppedNotifications lists the alarm notifications that could not be
// delivered ("<alarm> <state> -> <topic>: <why>"), oldest first.
func (srv *Server) DroppedNotifications() []string {
	srv.alarms.mu.Lock()
	defer srv.alarms.mu.Unlock()
	return append([]string(nil), srv.alarms.dropped...)
}

func (a *alarmEval) stop() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, t := range a.timers {
		t.Stop()
	}
	a.timers = nil
}

// alarmCreated is called after kumo accepted PutMetricAlarm: it resets any
// local state and schedules the evaluation.
func (srv *Server) alarmCreated(name, treat string) {
	a := srv.alarms
	a.mu.Lock()
	a.gen[name]++
	gen := a.gen[name]
	delete(a.over, name)
	state := map[string]string{spec.AlarmTreatMissingData: "OK", "breaching": "ALARM"}[treat]
	if !a.enabled || state == "" {
		a.mu.Unlock()
		return
	}
	after := a.after
	reason := fmt.Sprintf("Threshold Crossed: no datapoints were received; missing data treated as %s", treat)
	eval := func() {
		a.mu.Lock()
		current := a.gen[name] == gen
		a.mu.Unlock()
		if current {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, _ = srv.transition(ctx, name, state, reason)
		}
	}
	if after == 0 {
		a.mu.Unlock()
		eval()
		return
	}
	a.timers = append(a.timers, time.AfterFunc(after, eval))
	a.mu.Unlock()
}

func (srv *Server) cwPutMetricAlarm(w http.ResponseWriter, r *http.Request, body []byte) {
	var req struct {
		AlarmName        string `cbor:"AlarmName"`
		TreatMissingData string `cbor:"TreatMissingData"`
	}
	_ = cbor.Unmarshal(body, &req)
	rec := srv.forward(r, body)
	if rec.Code == http.StatusOK && req.AlarmName != "" {
		srv.ext.mu.Lock()
		if req.TreatMissingData != "" {
			srv.ext.treatMissing[req.AlarmName] = req.TreatMissingData
		} else {
			delete(srv.ext.treatMissing, req.AlarmName)
		}
		srv.ext.mu.Unlock()
		srv.alarmCreated(req.AlarmName, req.TreatMissingData)
	}
	writeRecorded(w, rec, rec.Body.Bytes())
}

// cwDescribeAlarms adds TreatMissingData to kumo's answer. Fields are kept
// as raw CBOR so timestamps keep their tags.
func (srv *Server) cwDescribeAlarms(w http.ResponseWriter, r *http.Request, body []byte) {
	rec := srv.forward(r, body)
	out := rec.Body.Bytes()
	if rec.Code == http.StatusOK {
		var doc map[string]cbor.RawMessage
		if cbor.Unmarshal(out, &doc) == nil && doc["MetricAlarms"] != nil {
			var alarms []map[string]cbor.RawMessage
			if cbor.Unmarshal(doc["MetricAlarms"], &alarms) == nil {
				srv.ext.mu.Lock()
				for _, a := range alarms {
					var name string
					_ = cbor.Unmarshal(a["AlarmName"], &name)
					if tmd, ok := srv.ext.treatMissing[name]; ok {
						a["TreatMissingData"], _ = cbor.Marshal(tmd)
					}
				}
				srv.ext.mu.Unlock()
				for _, a := range alarms {
					srv.applyOverride(a)
				}
				if b, err := cbor.Marshal(alarms); err == nil {
					doc["MetricAlarms"] = b
					if b, err := cbor.Marshal(doc); err == nil {
						out = b
					}
				}
			}
		}
	}
	writeRecorded(w, rec, out)
}

func (srv *Server) cwDeleteAlarms(w http.ResponseWriter, r *http.Request, body []byte) {
	var req struct {
		AlarmNames []string `cbor:"AlarmNames"`
	}
	_ = cbor.Unmarshal(body, &req)
	rec := srv.forward(r, body)
	if rec.Code == http.StatusOK {
		srv.ext.mu.Lock()
		for _, n := range req.AlarmNames {
			delete(srv.ext.treatMissing, n)
		}
		srv.ext.mu.Unlock()
		srv.alarms.mu.Lock()
		for _, n := range req.AlarmNames {
			srv.alarms.gen[n]++ // cancels a pending evaluation
			delete(srv.alarms.over, n)
		}
		srv.alarms.mu.Unlock()
	}
	writeRecorded(w, rec, rec.Body.Bytes())
}

// cwSetAlarmState applies a state change, dropping its notification when
// no action topic is deliverable.
func (srv *Server) cwSetAlarmState(w http.ResponseWriter, r *http.Request, body []byte) {
	var req struct {
		AlarmName   string `cbor:"AlarmName"`
		StateValue  string `cbor:"StateValue"`
		StateReason string `cbor:"StateReason"`
	}
	if cbor.Unmarshal(body, &req) == nil && req.AlarmName != "" {
		if handled, err := srv.transitionLocal(r.Context(), req.AlarmName, req.StateValue, req.StateReason); err == nil && handled {
			b, _ := cbor.Marshal(map[string]any{})
			w.Header().Set("Content-Type", "application/cbor")
			w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write(b)
			return
		}
	}
	srv.passThrough(w, r, body, func() {
		srv.alarms.mu.Lock()
		defer srv.alarms.mu.Unlock()
		delete(srv.alarms.over, req.AlarmName)
	})
}

// transition changes an alarm's state as SetAlarmState would, from inside
// the emulator (evaluation).
func (srv *Server) transition(ctx context.Context, name, state, reason string) (bool, error) {
	if handled, err := srv.transitionLocal(ctx, name, state, reason); err != nil || handled {
		return handled, err
	}
	b, err := cbor.Marshal(map[string]string{"AlarmName": name, "StateValue": state, "StateReason": reason})
	if err != nil {
		return false, err
	}
	code, out, err := srv.callKumoCBOR(ctx, "SetAlarmState", b)
	if err != nil {
		return false, err
	}
	if code != http.StatusOK {
		return false, fmt.Errorf("kumo SetAlarmState %s: HTTP %d: %x", name, code, out)
	}
	srv.alarms.mu.Lock()
	delete(srv.alarms.over, name)
	srv.alarms.mu.Unlock()
	return true, nil
}

type alarmView struct {
	AlarmName      string   `cbor:"AlarmName"`
	ActionsEnabled bool     `cbor:"ActionsEnabled"`
	AlarmActions   []string `cbor:"AlarmActions"`
	OKActions      []string `cbor:"OKActions"`
}

// transitionLocal applies the change here (and reports true) when the
// alarm has actions for the new state and none of them is deliverable.
// Otherwise kumo must apply it (and publish).
func (srv *Server) transitionLocal(ctx context.Context, name, state, reason string) (bool, error) {
	req, _ := cbor.Marshal(map[string]any{"AlarmNames": []string{name}})
	code, out, err := srv.callKumoCBOR(ctx, "DescribeAlarms", req)
	if err != nil || code != http.StatusOK {
		return false, err
	}
	var resp struct {
		MetricAlarms []alarmView `cbor:"MetricAlarms"`
	}
	if err := cbor.Unmarshal(out, &resp); err != nil || len(resp.MetricAlarms) != 1 {
		return false, err
	}
	al := resp.MetricAlarms[0]
	actions := map[string][]string{"ALARM": al.AlarmActions, "OK": al.OKActions}[state]
	if !al.ActionsEnabled || len(actions) == 0 {
		return false, nil
	}
	var why []string
	for _, topic := range actions {
		ok, reason := srv.deliverable(ctx, topic)
		if ok {
			return false, nil // kumo publishes to every action; good enough
		}
		why = append(why, fmt.Sprintf("%s %s -> %s: %s", name, state, topic, reason))
	}
	srv.alarms.mu.Lock()
	srv.alarms.over[name] = alarmState{value: state, reason: reason, at: time.Now().UTC()}
	srv.alarms.dropped = append(srv.alarms.dropped, why...)
	srv.alarms.mu.Unlock()
	return true, nil
}

// deliverable reports whether CloudWatch could publish to topic: it exists
// and, when encrypted, its key policy lets cloudwatch.amazonaws.com use the
// key.
func (srv *Server) deliverable(ctx context.Context, topic string) (bool, string) {
	form := url.Values{"Action": {"GetTopicAttributes"}, "Version": {"2010-03-31"}, "TopicArn": {topic}}
	code, out, err := srv.callKumoRaw(ctx, "sns", "application/x-www-form-urlencoded", "/", nil, []byte(form.Encode()))
	if err != nil || code != http.StatusOK {
		return false, "the topic does not exist"
	}
	var attrs struct {
		Entries []struct {
			Key   string `xml:"key"`
			Value string `xml:"value"`
		} `xml:"GetTopicAttributesResult>Attributes>entry"`
	}
	if err := xml.Unmarshal(out, &attrs); err != nil {
		return false, "unreadable topic attributes"
	}
	keyRef := ""
	for _, en := range attrs.Entries {
		if en.Key == "KmsMasterKeyId" {
			keyRef = en.Value
		}
	}
	if keyRef == "" {
		return true, ""
	}
	b, _ := json.Marshal(map[string]string{"KeyId": keyRef, "PolicyName": "default"})
	code, out, err = srv.callKumo(ctx, "kms", "TrentService.GetKeyPolicy", b)
	if err != nil || code != http.StatusOK {
		return false, "the topic's KMS key " + keyRef + " cannot be used"
	}
	var pol struct {
		Policy string `json:"Policy"`
	}
	_ = json.Unmarshal(out, &pol)
	doc, err := spec.ParsePolicy(pol.Policy)
	if err != nil || !doc.AllowsService(spec.CloudWatchPrincipal, spec.AlarmDeliveryActions...) {
		return false, fmt.Sprintf("the policy of KMS key %s does not let %s use it (%s)",
			keyRef, spec.CloudWatchPrincipal, strings.Join(spec.AlarmDeliveryActions, ", "))
	}
	return true, ""
}

// applyOverrides puts locally applied states into a DescribeAlarms answer.
func (srv *Server) applyOverride(a map[string]cbor.RawMessage) {
	var name string
	_ = cbor.Unmarshal(a["AlarmName"], &name)
	srv.alarms.mu.Lock()
	st, ok := srv.alarms.over[name]
	srv.alarms.mu.Unlock()
	if !ok {
		return
	}
	a["StateValue"], _ = cbor.Marshal(st.value)
	a["StateReason"], _ = cbor.Marshal(st.reason)
	a["StateUpdatedTimestamp"], _ = cborTime.Marshal(st.at)
}
