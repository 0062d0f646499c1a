package server

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Faults makes requests fail: every request a rule matches, and shares of
// the others the way AWS and the network fail under load (the SDK's
// retryer treats every kind as retryable). The shares are drawn from one
// number per request, so they add up: their sum must stay within 1.
type Faults struct {
	// Rules fail every request they match, first match wins.
	Rules []FaultRule
	// ThrottleShare (0..1) of requests get a throttling error (HTTP 400,
	// ThrottlingException / Throttling).
	ThrottleShare float64
	// ServerErrorShare (0..1) of requests get HTTP 503 ServiceUnavailable.
	ServerErrorShare float64
	// DropShare (0..1) of requests have their connection dropped before
	// they reach kumo (FaultUnreachable): nothing happens, no answer.
	DropShare float64
	// LostResponseShare (0..1) of requests reach kumo and take effect, but
	// their answer is dropped (FaultLostResponse): the client cannot tell
	// this from a dropped connection, and its retry meets its own write.
	LostResponseShare float64
	// LatencyShare (0..1) of requests are answered Latency late
	// (FaultLatency).
	LatencyShare float64
	// Latency is the delay of FaultLatency, for shares and for rules
	// without a Delay (DefaultLatency if 0).
	Latency time.Duration
	// Seed makes the sequence of faults reproducible.
	Seed uint64
	// Services limits the shares to these signing names; empty means all.
	Services []string
}

// FaultRule fails the requests that match it.
type FaultRule struct {
	// Operation is an operation name ("PutItem") or "service.Operation"
	// ("dynamodb.PutItem"); empty matches any.
	Operation string
	// BodyContains is a substring of the request body, e.g. a table name;
	// empty matches any.
	BodyContains string
	// Kind of failure; the zero value is FaultUnreachable.
	Kind FaultKind
	// Delay is the latency of a FaultLatency rule (Faults.Latency if 0).
	Delay time.Duration
	// Times limits the rule to the first Times requests it matches after
	// SetFaults (0: every one), e.g. to lose one answer and then heal.
	Times int
}

// FaultKind is how an injected fault looks to the client.
type FaultKind int

const (
	// FaultUnreachable drops the connection before the request reaches
	// kumo: the client sees a transport error, as with an endpoint it
	// cannot reach. POST requests are not replayed by net/http, so with
	// SDK retries off the code under test sees it exactly once.
	FaultUnreachable FaultKind = iota
	// FaultThrottle answers with a throttling error.
	FaultThrottle
	// FaultServerError answers HTTP 503 ServiceUnavailable.
	FaultServerError
	// FaultLostResponse forwards the request (it takes effect) and then
	// drops the connection instead of answering: the request reached
	// AWS, the answer never arrived.
	FaultLostResponse
	// FaultLatency delays the request, then serves it normally.
	FaultLatency
)

// DropConnection is FaultUnreachable by the name the fault matrix uses.
const DropConnection = FaultUnreachable

// DefaultLatency is the delay of FaultLatency when none is configured:
// long enough to reorder concurrent requests, short enough for tests.
const DefaultLatency = 150 * time.Millisecond

// String names the kind as md-emulator's flags and test tables do.
func (k FaultKind) String() string {
	switch k {
	case FaultUnreachable:
		return "drop"
	case FaultThrottle:
		return "throttle"
	case FaultServerError:
		return "5xx"
	case FaultLostResponse:
		return "lost"
	case FaultLatency:
		return "latency"
	}
	return fmt.Sprintf("FaultKind(%d)", int(k))
}

// ParseFaultKind reads the names String gives.
func ParseFaultKind(s string) (FaultKind, error) {
	for _, k := range []FaultKind{FaultUnreachable, FaultThrottle, FaultServerError, FaultLostResponse, FaultLatency} {
		if s == k.String() {
			return k, nil
		}
	}
	return 0, fmt.Errorf("fault kind %q: want drop, throttle, 5xx, lost or latency", s)
}

// WithShare returns f with share (0..1) of requests given fault kind k.
func (f Faults) WithShare(k FaultKind, share float64) Faults {
	switch k {
	case FaultUnreachable:
		f.DropShare = share
	case FaultThrottle:
		f.ThrottleShare = share
	case FaultServerError:
		f.ServerErrorShare = share
	case FaultLostResponse:
		f.LostResponseShare = share
	case FaultLatency:
		f.LatencyShare = share
	}
	return f
}

// Validate rejects shares outside 0..1, shares adding up past 1 and
// negative delays.
func (f Faults) Validate() error {
	shares := []struct {
		name string
		v    float64
	}{{"throttle", f.ThrottleShare}, {"5xx", f.ServerErrorShare}, {"drop", f.DropShare}, {"lost", f.LostResponseShare}, {"latency", f.LatencyShare}}
	sum := 0.0
	for _, s := range shares {
		if s.v < 0 || s.v > 1 {
			return fmt.Errorf("%s share %v is outside 0..1", s.name, s.v)
		}
		sum += s.v
	}
	if sum > 1 {
		return fmt.Errorf("fault shares add up to %v, more than 1", sum)
	}
	if f.Latency < 0 {
		return fmt.Errorf("latency %s is negative", f.Latency)
	}
	for i, r := range f.Rules {
		if r.Delay < 0 || r.Times < 0 {
			return fmt.Errorf("rule %d: negative delay or times", i)
		}
	}
	return nil
}

func (r FaultRule) matches(op Operation, body []byte) bool {
	if r.Operation != "" && r.Operation != op.Operation && r.Operation != op.String() {
		return false
	}
	return r.BodyContains == "" || bytes.Contains(body, []byte(r.BodyContains))
}

type faulter struct {
	mu  sync.Mutex
	cfg Faults
	rng *rand.Rand
	// hits counts the matches of each rule, for FaultRule.Times.
	hits []int
}

// SetFaults replaces the fault configuration; the zero Faults turns faults
// off.
func (srv *Server) SetFaults(f Faults) {
	srv.faults.mu.Lock()
	defer srv.faults.mu.Unlock()
	srv.faults.cfg = f
	srv.faults.hits = make([]int, len(f.Rules))
	srv.faults.rng = rand.New(rand.NewPCG(f.Seed, f.Seed^0x9e3779b97f4a7c15))
}

// fault is the decision for one request.
type fault struct {
	kind  FaultKind
	delay time.Duration
}

func (f *faulter) pick(op Operation, body []byte) (fault, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	latency := cmpOr(f.cfg.Latency, DefaultLatency)
	for i, r := range f.cfg.Rules {
		if !r.matches(op, body) || (r.Times > 0 && f.hits[i] >= r.Times) {
			continue
		}
		f.hits[i]++
		return fault{kind: r.Kind, delay: cmpOr(r.Delay, latency)}, true
	}
	c := f.cfg
	if f.rng == nil || c.ThrottleShare+c.ServerErrorShare+c.DropShare+c.LostResponseShare+c.LatencyShare <= 0 {
		return fault{}, false
	}
	if len(c.Services) > 0 && !slices.Contains(c.Services, op.Service) {
		return fault{}, false
	}
	x := f.rng.Float64()
	for _, s := range []struct {
		share float64
		kind  FaultKind
	}{{c.ThrottleShare, FaultThrottle}, {c.ServerErrorShare, FaultServerError}, {c.DropShare, FaultUnreachable}, {c.LostResponseShare, FaultLostResponse}, {c.LatencyShare, FaultLatency}} {
		if x < s.share {
			return fault{kind: s.kind, delay: latency}, true
		}
		x -= s.share
	}
	return fault{}, false
}

func cmpOr(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// dropConnection closes the client's connection without an answer.
func dropConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	// Without hijacking, aborting the handler also drops the connection.
	panic(http.ErrAbortHandler)
}

// writeFault answers with an error shaped for the request's protocol, so
// the SDK decodes the code and its retryer classifies it as it would a real
// one.
func writeFault(w http.ResponseWriter, r *http.Request, op Operation, kind FaultKind) {
	if kind == FaultUnreachable {
		dropConnection(w)
		return
	}
	status, code, msg := http.StatusBadRequest, "ThrottlingException", "Rate exceeded (injected by the emulator)"
	if kind == FaultServerError {
		status, code, msg = http.StatusServiceUnavailable, "ServiceUnavailable", "Service unavailable (injected by the emulator)"
	}
	switch op.Protocol {
	case ProtoQuery:
		if code == "ThrottlingException" {
			code = "Throttling"
		}
		writeQueryError(w, status, code, msg)
	case ProtoCBOR:
		writeCBORError(w, status, code, msg)
	case ProtoRESTXML:
		// S3 throttles with 503 SlowDown.
		if code == "ThrottlingException" {
			status, code = http.StatusServiceUnavailable, "SlowDown"
		}
		writeS3Error(w, r, status, code, msg)
	default:
		writeJSONError(w, status, code, msg)
	}
}
