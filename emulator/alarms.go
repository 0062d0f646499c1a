package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
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

// cwService is the Smithy service name in CloudWatch's RPC v2 CBOR paths.
const cwService = "GraniteServiceVersion20100801"

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
func (e *Emulator) EvaluateAlarms(after time.Duration) {
	e.alarms.mu.Lock()
	defer e.alarms.mu.Unlock()
	e.alarms.enabled, e.alarms.after = after >= 0, after
}

// DroppedNotifications lists the alarm notifications that could not be
// delivered ("<alarm> <state> -> <topic>: <why>"), oldest first.
func (e *Emulator) DroppedNotifications() []string {
	e.alarms.mu.Lock()
	defer e.alarms.mu.Unlock()
	return append([]string(nil), e.alarms.dropped...)
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
func (e *Emulator) alarmCreated(name, treat string) {
	a := e.alarms
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
			_, _ = e.transition(ctx, name, state, reason)
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

// cwSetAlarmState applies a state change, dropping its notification when
// no action topic is deliverable.
func (e *Emulator) cwSetAlarmState(w http.ResponseWriter, r *http.Request, body []byte) {
	var req struct {
		AlarmName   string `cbor:"AlarmName"`
		StateValue  string `cbor:"StateValue"`
		StateReason string `cbor:"StateReason"`
	}
	if cbor.Unmarshal(body, &req) == nil && req.AlarmName != "" {
		if handled, err := e.transitionLocal(r.Context(), req.AlarmName, req.StateValue, req.StateReason); err == nil && handled {
			b, _ := cbor.Marshal(map[string]any{})
			w.Header().Set("Content-Type", "application/cbor")
			w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write(b)
			return
		}
	}
	e.passThrough(w, r, body, func() {
		e.alarms.mu.Lock()
		defer e.alarms.mu.Unlock()
		delete(e.alarms.over, req.AlarmName)
	})
}

// transition changes an alarm's state as SetAlarmState would, from inside
// the emulator (evaluation).
func (e *Emulator) transition(ctx context.Context, name, state, reason string) (bool, error) {
	if handled, err := e.transitionLocal(ctx, name, state, reason); err != nil || handled {
		return handled, err
	}
	b, err := cbor.Marshal(map[string]string{"AlarmName": name, "StateValue": state, "StateReason": reason})
	if err != nil {
		return false, err
	}
	code, out, err := e.callKumoCBOR(ctx, "SetAlarmState", b)
	if err != nil {
		return false, err
	}
	if code != http.StatusOK {
		return false, fmt.Errorf("kumo SetAlarmState %s: HTTP %d: %x", name, code, out)
	}
	e.alarms.mu.Lock()
	delete(e.alarms.over, name)
	e.alarms.mu.Unlock()
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
func (e *Emulator) transitionLocal(ctx context.Context, name, state, reason string) (bool, error) {
	req, _ := cbor.Marshal(map[string]any{"AlarmNames": []string{name}})
	code, out, err := e.callKumoCBOR(ctx, "DescribeAlarms", req)
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
		ok, reason := e.deliverable(ctx, topic)
		if ok {
			return false, nil // kumo publishes to every action; good enough
		}
		why = append(why, fmt.Sprintf("%s %s -> %s: %s", name, state, topic, reason))
	}
	e.alarms.mu.Lock()
	e.alarms.over[name] = alarmState{value: state, reason: reason, at: time.Now().UTC()}
	e.alarms.dropped = append(e.alarms.dropped, why...)
	e.alarms.mu.Unlock()
	return true, nil
}

// deliverable reports whether CloudWatch could publish to topic: it exists
// and, when encrypted, its key policy lets cloudwatch.amazonaws.com use the
// key.
func (e *Emulator) deliverable(ctx context.Context, topic string) (bool, string) {
	form := url.Values{"Action": {"GetTopicAttributes"}, "Version": {"2010-03-31"}, "TopicArn": {topic}}
	code, out, err := e.callKumoRaw(ctx, "sns", "application/x-www-form-urlencoded", "/", nil, []byte(form.Encode()))
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
	code, out, err = e.callKumo(ctx, "kms", "TrentService.GetKeyPolicy", b)
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

// cborTime encodes times as CBOR tag 1, as CloudWatch's answers do.
var cborTime, _ = cbor.EncOptions{Time: cbor.TimeUnixDynamic, TimeTag: cbor.EncTagRequired}.EncMode()

// applyOverrides puts locally applied states into a DescribeAlarms answer.
func (e *Emulator) applyOverride(a map[string]cbor.RawMessage) {
	var name string
	_ = cbor.Unmarshal(a["AlarmName"], &name)
	e.alarms.mu.Lock()
	st, ok := e.alarms.over[name]
	e.alarms.mu.Unlock()
	if !ok {
		return
	}
	a["StateValue"], _ = cbor.Marshal(st.value)
	a["StateReason"], _ = cbor.Marshal(st.reason)
	a["StateUpdatedTimestamp"], _ = cborTime.Marshal(st.at)
}

func (e *Emulator) callKumoCBOR(ctx context.Context, op string, body []byte) (int, []byte, error) {
	return e.callKumoRaw(ctx, "monitoring", "application/cbor", "/service/"+cwService+"/operation/"+op,
		map[string]string{"Smithy-Protocol": "rpc-v2-cbor", "Accept": "application/cbor"}, body)
}

// callKumoRaw makes one request straight to kumo (not counted, never
// faulted).
func (e *Emulator) callKumoRaw(ctx context.Context, signingName, contentType, path string, headers map[string]string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.kumoURL+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=test/20260101/"+Region+"/"+signingName+"/aws4_request, SignedHeaders=host, Signature=0")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}
