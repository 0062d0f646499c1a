// Package emulator runs an in-process AWS emulator (github.com/sivchari/kumo)
// for tests, the rehearsal and local work. A front server sits before kumo:
// it answers what the checks need and kumo lacks (PITR, the SSE description
// and deletion protection of a table, KMS key rotation, SSM parameter keys,
// alarm missing-data treatment, alarm evaluation, alarm notifications that
// depend on the topic key's policy, CloudWatch over AWS JSON for the AWS
// CLI, one account id across services), counts requests per operation
// (Counts) and can inject faults (SetFaults: dropped connections, lost
// responses, latency, throttling, 5xx). Seed provisions a correct environment (SPEC section 2
// plus nonce v1) with optional single Defects from the Catalogue.
// Clients built from Config talk to it through the unmodified AWS SDK;
// Env gives the variables that point a CLI process at it.
//
// kumo keeps its service state per process, not per server: two emulators in
// one test binary see each other's tables, keys and alarms, while the front
// server's own state (PITR, rotation, ...) belongs to one Emulator. Give
// every seeded environment its own name (Seed picks a random one when none
// is given) and do not reuse resources across emulators.
//
// Tests, here and in other repositories, need one call: NewTestEnv(t, opts)
// starts an emulator, seeds an environment and, when the test ends, tears
// it down (Teardown) and closes the emulator, so tests may run in parallel
// and a fixed name may be seeded again by the next test or -count run.
package emulator

import (
	"bytes"
	"context"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/sivchari/kumo"

	"github.com/mirror-dissonance/mirror-infra/spec"
)

// Region is the region the emulator pretends to be in.
const Region = spec.DefaultRegion

// AccountID is the account the emulator reports.
const AccountID = "000000000000"

// Emulator is a running in-process emulator: a front server that answers the
// extension operations itself and proxies everything else to kumo.
type Emulator struct {
	// URL is the endpoint SDK clients use.
	URL string

	kumo    *kumo.Server
	kumoURL string
	front   *httptest.Server
	proxy   *httputil.ReverseProxy
	ext     *extState
	stats   *counter
	faults  *faulter
	alarms  *alarmEval
	// handlers answer operations in front of kumo, keyed "service.Operation"
	// with the SigV4 signing name as service.
	handlers map[string]extHandler
	index    indexDelay
	restore  *restoreState // item history and restores (restore.go)
}

// extHandler answers one intercepted operation; body is the request body
// already read.
type extHandler func(w http.ResponseWriter, r *http.Request, body []byte)

// Start starts an emulator on a loopback port. Close it when done.
func Start() *Emulator {
	k := kumo.NewServer()
	// kumo keeps its handler private, so the front server proxies to it.
	u, err := url.Parse(k.URL)
	if err != nil {
		panic("emulator: kumo returned an unparsable URL: " + err.Error())
	}
	e := &Emulator{
		kumo:    k,
		kumoURL: k.URL,
		proxy:   httputil.NewSingleHostReverseProxy(u),
		ext:     newExtState(),
		stats:   newCounter(),
		faults:  &faulter{},
		alarms:  newAlarmEval(),
	}
	e.proxy.ModifyResponse = addCRC32
	e.handlers = e.extensionHandlers()
	e.installRestore() // wraps the DynamoDB handlers (restore.go)
	e.front = httptest.NewServer(http.HandlerFunc(e.serve))
	e.URL = e.front.URL
	return e
}

// Close stops the emulator.
func (e *Emulator) Close() {
	e.alarms.stop()
	e.front.Close()
	e.kumo.Close()
}

// Config returns an AWS config whose clients reach the emulator with static
// test credentials.
func (e *Emulator) Config(ctx context.Context) (aws.Config, error) {
	return config.LoadDefaultConfig(ctx,
		config.WithRegion(Region),
		config.WithBaseEndpoint(e.URL),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("test", "test", "")),
	)
}

// serve is the front server: identify the operation, count it, maybe inject
// a fault, answer it here if kumo lacks it, otherwise proxy to kumo.
func (e *Emulator) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "reading the request body: "+err.Error(), http.StatusBadRequest)
		return
	}
	_ = r.Body.Close()
	op := identify(r, body)
	restoreBody(r, body)

	if f, ok := e.faults.pick(op, body); ok {
		switch f.kind {
		case FaultLatency:
			e.stats.addKind(op, false, false, true)
			select {
			case <-time.After(f.delay):
			case <-r.Context().Done():
				return
			}
			e.answer(w, r, op, body)
		case FaultLostResponse:
			// The request takes effect (kumo or an extension answers
			// it), then the answer is thrown away and the connection
			// dropped, as when a response is lost on the way back.
			e.stats.addKind(op, true, true, false)
			e.answer(httptest.NewRecorder(), r, op, body)
			dropConnection(w)
		default:
			e.stats.add(op, true)
			writeFault(w, r, op, f.kind)
		}
		return
	}
	e.stats.add(op, false)
	e.answer(w, r, op, body)
}

// answer serves a request that was not faulted away: here when kumo lacks
// the operation, otherwise by kumo.
func (e *Emulator) answer(w http.ResponseWriter, r *http.Request, op Operation, body []byte) {
	if op.Service == "monitoring" && op.Protocol == ProtoJSON {
		e.cwJSON(w, r, op, body)
		return
	}
	if op.Service == "iam" {
		e.iamAccount(w, r, body)
		return
	}
	if h, ok := e.handlers[op.Service+"."+op.Operation]; ok {
		h(w, r, body)
		return
	}
	e.proxy.ServeHTTP(w, r)
}

func restoreBody(r *http.Request, body []byte) {
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
}

// forward sends the request to kumo and returns its recorded response, so an
// extension can inspect or rewrite it.
func (e *Emulator) forward(r *http.Request, body []byte) *httptest.ResponseRecorder {
	restoreBody(r, body)
	rec := httptest.NewRecorder()
	e.proxy.ServeHTTP(rec, r)
	return rec
}

// passThrough proxies the request to kumo and, when kumo accepted it, runs
// accepted (which keeps what kumo ignores) before answering.
func (e *Emulator) passThrough(w http.ResponseWriter, r *http.Request, body []byte, accepted func()) {
	rec := e.forward(r, body)
	if rec.Code == http.StatusOK {
		accepted()
	}
	writeRecorded(w, rec, rec.Body.Bytes())
}

// writeRecorded copies a recorded response, replacing its body. DynamoDB
// clients verify X-Amz-Crc32, so it is recomputed for the new body.
func writeRecorded(w http.ResponseWriter, rec *httptest.ResponseRecorder, body []byte) {
	for k, v := range rec.Header() {
		if http.CanonicalHeaderKey(k) == "Content-Length" {
			continue
		}
		w.Header()[k] = v
	}
	if w.Header().Get("X-Amz-Crc32") != "" {
		w.Header().Set("X-Amz-Crc32", crc(body))
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(body)
}

// callKumo makes an AWS JSON call straight to kumo (not counted, never
// faulted), for extensions that need kumo's view, e.g. resolving a key.
func (e *Emulator) callKumo(ctx context.Context, signingName, target string, payload []byte) (int, []byte, error) {
	return e.callKumoRaw(ctx, signingName, "application/x-amz-json-1.1", "/", map[string]string{"X-Amz-Target": target}, payload)
}

// kumoIAMAccount is the account kumo's IAM puts in its ARNs; every other
// kumo service (and STS) uses AccountID.
const kumoIAMAccount = "123456789012"

// iamAccount makes IAM agree with the other services on the account: ARNs
// in requests are translated to kumo's IAM account and back in answers, so
// an ARN built from sts:GetCallerIdentity finds the OIDC provider.
func (e *Emulator) iamAccount(w http.ResponseWriter, r *http.Request, body []byte) {
	if v, err := url.ParseQuery(string(body)); err == nil {
		for k, vals := range v {
			for i := range vals {
				vals[i] = strings.ReplaceAll(vals[i], ":"+AccountID+":", ":"+kumoIAMAccount+":")
			}
			v[k] = vals
		}
		body = []byte(v.Encode())
	}
	rec := e.forward(r, body)
	out := bytes.ReplaceAll(rec.Body.Bytes(), []byte(":"+kumoIAMAccount+":"), []byte(":"+AccountID+":"))
	writeRecorded(w, rec, out)
}

// addCRC32 sets the X-Amz-Crc32 header DynamoDB clients verify and kumo
// omits (without it the SDK logs a checksum warning on every response).
func addCRC32(resp *http.Response) error {
	if !strings.HasPrefix(resp.Request.Header.Get("X-Amz-Target"), "DynamoDB_") {
		return nil
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("reading kumo's answer: %w", err)
	}
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	resp.ContentLength = int64(len(b))
	resp.Header.Set("Content-Length", strconv.Itoa(len(b)))
	resp.Header.Set("X-Amz-Crc32", crc(b))
	return nil
}

func crc(b []byte) string { return strconv.FormatUint(uint64(crc32.ChecksumIEEE(b)), 10) }
