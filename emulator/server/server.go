// Package server is the emulator's HTTP side: a front server before the
// process's one kumo (github.com/sivchari/kumo) that answers what the checks
// need and kumo lacks, one file per AWS service (dynamodb.go, kms.go,
// ssm.go, cloudwatch_alarms.go, cloudwatch_dashboards.go, cloudwatch_json.go,
// sns.go, s3.go, iam.go; restore*.go: DynamoDB's item history, point-in-time
// restore and backups), with the wire encoders and errors in wire.go, the
// request counter in counts.go and fault injection in faults.go.
//
// kumo keeps its service state per process, not per server, and wires its
// services anew for every server it starts (a data race when two start at
// once). So one kumo serves the whole process, started by the first Start;
// every Server is its own front server before it, with its own counts,
// faults, index delay and front-server state (PITR, rotation, ...). Two
// servers see each other's tables, keys and alarms: resources need names
// of their own.
//
// The SDK-side fixtures (seeding, the Terraform world, defects, test
// environments) are in the parent package emulator, which consumers
// import; it forwards this package's API, so they need not import it.
package server

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/mirror-dissonance/mirror-infra/spec"
)

// Region is the region the emulator pretends to be in.
const Region = spec.DefaultRegion

// AccountID is the account the emulator reports.
const AccountID = "000000000000"

// Server is a running front server: it answers the extension operations
// itself and proxies everything else to kumo.
type Server struct {
	// URL is the endpoint SDK clients use.
	URL string

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

// Start starts an emulator (a front server on a loopback port before the
// process's kumo). Close it when done; Start is safe to call from parallel
// tests.
func Start() *Server {
	// kumo keeps its handler private, so the front server proxies to it.
	u := sharedKumo()
	srv := &Server{
		kumoURL: u.String(),
		proxy:   httputil.NewSingleHostReverseProxy(u),
		ext:     newExtState(),
		stats:   newCounter(),
		faults:  &faulter{},
		alarms:  newAlarmEval(),
	}
	srv.proxy.ModifyResponse = addCRC32
	srv.handlers = srv.extensionHandlers()
	srv.installRestore() // wraps the DynamoDB handlers (restore.go)
	srv.front = httptest.NewServer(http.HandlerFunc(srv.serve))
	srv.URL = srv.front.URL
	return srv
}

// Close stops the emulator's front server (the process's kumo stays up
// for the other emulators).
func (srv *Server) Close() {
	srv.alarms.stop()
	srv.front.Close()
}

// Config returns an AWS config whose clients reach the emulator with static
// test credentials.
func (srv *Server) Config(ctx context.Context) (aws.Config, error) {
	return config.LoadDefaultConfig(ctx,
		config.WithRegion(Region),
		config.WithBaseEndpoint(srv.URL),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("test", "test", "")),
	)
}

// serve is the front server: identify the operation, count it, maybe inject
// a fault, answer it here if kumo lacks it, otherwise proxy to kumo.
func (srv *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "reading the request body: "+err.Error(), http.StatusBadRequest)
		return
	}
	_ = r.Body.Close()
	op := identify(r, body)
	restoreBody(r, body)

	if f, ok := srv.faults.pick(op, body); ok {
		switch f.kind {
		case FaultLatency:
			srv.stats.addKind(op, false, false, true)
			select {
			case <-time.After(f.delay):
			case <-r.Context().Done():
				return
			}
			srv.answer(w, r, op, body)
		case FaultLostResponse:
			// The request takes effect (kumo or an extension answers
			// it), then the answer is thrown away and the connection
			// dropped, as when a response is lost on the way back.
			srv.stats.addKind(op, true, true, false)
			srv.answer(httptest.NewRecorder(), r, op, body)
			dropConnection(w)
		default:
			srv.stats.add(op, true)
			writeFault(w, r, op, f.kind)
		}
		return
	}
	srv.stats.add(op, false)
	srv.answer(w, r, op, body)
}

// answer serves a request that was not faulted away: here when kumo lacks
// the operation, otherwise by kumo.
func (srv *Server) answer(w http.ResponseWriter, r *http.Request, op Operation, body []byte) {
	if op.Service == "monitoring" && op.Protocol == ProtoJSON {
		srv.cwJSON(w, r, op, body)
		return
	}
	if op.Service == "iam" {
		srv.iamAccount(w, r, body)
		return
	}
	if h, ok := srv.handlers[op.Service+"."+op.Operation]; ok {
		h(w, r, body)
		return
	}
	srv.proxy.ServeHTTP(w, r)
}

// forward sends the request to kumo and returns its recorded response, so an
// extension can inspect or rewrite it.
func (srv *Server) forward(r *http.Request, body []byte) *httptest.ResponseRecorder {
	restoreBody(r, body)
	rec := httptest.NewRecorder()
	srv.proxy.ServeHTTP(rec, r)
	return rec
}

// passThrough proxies the request to kumo and, when kumo accepted it, runs
// accepted (which keeps what kumo ignores) before answering.
func (srv *Server) passThrough(w http.ResponseWriter, r *http.Request, body []byte, accepted func()) {
	rec := srv.forward(r, body)
	if rec.Code == http.StatusOK {
		accepted()
	}
	writeRecorded(w, rec, rec.Body.Bytes())
}

// extState is what the front server remembers for operations kumo does not
// model. It is per emulator (kumo's own state is per process; see the
// package doc).
type extState struct {
	mu sync.Mutex
	// tables by name.
	tables map[string]*tableExt
	// rotation by key ARN.
	rotation map[string]rotationExt
	// keyDescriptions: what UpdateKeyDescription set, by key ARN.
	keyDescriptions map[string]string
	// roleUntagged: the tag keys UntagRole removed, by role name.
	roleUntagged map[string]map[string]bool
	// roleBoundary: each role's permissions boundary ARN, by role name.
	roleBoundary map[string]string
	// policies: managed policies' versions, by policy ARN.
	policies map[string]*policyVersions
	// paramKeys: the KMS key id given to PutParameter for a SecureString.
	paramKeys map[string]string
	// treatMissing: an alarm's TreatMissingData, by alarm name.
	treatMissing map[string]string
	// emailConfirmed: email subscriptions no longer show as pending.
	emailConfirmed bool
	// dashboards: CloudWatch dashboard bodies by name.
	dashboards map[string]string
}

func newExtState() *extState {
	return &extState{
		tables:          map[string]*tableExt{},
		rotation:        map[string]rotationExt{},
		keyDescriptions: map[string]string{},
		roleUntagged:    map[string]map[string]bool{},
		roleBoundary:    map[string]string{},
		policies:        map[string]*policyVersions{},
		paramKeys:       map[string]string{},
		treatMissing:    map[string]string{},
		dashboards:      map[string]string{},
	}
}

func (srv *Server) extensionHandlers() map[string]extHandler {
	return map[string]extHandler{
		"dynamodb.CreateTable":               srv.ddbCreateOrUpdateTable,
		"dynamodb.PutItem":                   srv.ddbStrict("PutItem", srv.ddbWrite),
		"dynamodb.UpdateItem":                srv.ddbStrict("UpdateItem", srv.ddbWrite),
		"dynamodb.GetItem":                   srv.ddbStrict("GetItem", srv.toKumo),
		"dynamodb.DeleteItem":                srv.ddbStrict("DeleteItem", srv.toKumo),
		"dynamodb.Query":                     srv.ddbStrict("Query", srv.ddbPaged("Query", srv.ddbQuery)),
		"dynamodb.Scan":                      srv.ddbStrict("Scan", srv.ddbPaged("Scan", srv.toKumo)),
		"dynamodb.UpdateTable":               srv.ddbCreateOrUpdateTable,
		"dynamodb.DescribeTable":             srv.ddbDescribeTable,
		"dynamodb.DeleteTable":               srv.ddbDeleteTable,
		"dynamodb.UpdateContinuousBackups":   srv.ddbUpdateContinuousBackups,
		"dynamodb.DescribeContinuousBackups": srv.ddbDescribeContinuousBackups,
		"kms.EnableKeyRotation":              srv.kmsSetRotation(true),
		"kms.DisableKeyRotation":             srv.kmsSetRotation(false),
		"kms.GetKeyRotationStatus":           srv.kmsGetRotation,
		"kms.UpdateKeyDescription":           srv.kmsUpdateDescription,
		"kms.DescribeKey":                    srv.kmsDescribeKey,
		"ssm.PutParameter":                   srv.ssmPutParameter,
		"ssm.DescribeParameters":             srv.ssmDescribeParameters,
		"ssm.DeleteParameter":                srv.ssmDeleteParameters,
		"ssm.DeleteParameters":               srv.ssmDeleteParameters,
		"monitoring.PutMetricAlarm":          srv.cwPutMetricAlarm,
		"monitoring.DescribeAlarms":          srv.cwDescribeAlarms,
		"monitoring.DeleteAlarms":            srv.cwDeleteAlarms,
		"monitoring.SetAlarmState":           srv.cwSetAlarmState,
		"monitoring.PutDashboard":            srv.cwPutDashboard,
		"monitoring.GetDashboard":            srv.cwGetDashboard,
		"monitoring.DeleteDashboards":        srv.cwDeleteDashboards,
		"sns.ListSubscriptionsByTopic":       srv.showPending,
		"sns.ListSubscriptions":              srv.showPending,
		"sns.TagResource":                    srv.snsWithResult("TagResource"),
		"sns.UntagResource":                  srv.snsWithResult("UntagResource"),
	}
}

// toKumo is the handler of an operation kumo answers unchanged.
func (srv *Server) toKumo(w http.ResponseWriter, r *http.Request, body []byte) {
	restoreBody(r, body)
	srv.proxy.ServeHTTP(w, r)
}
