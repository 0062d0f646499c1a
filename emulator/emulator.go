// Package emulator runs an in-process AWS emulator (github.com/sivchari/kumo)
// for tests, the rehearsal and local work, and provisions environments in
// it. The package holds the SDK-side fixtures: Seed provisions a correct
// environment (SPEC section 2 plus nonce v1) with optional single Defects
// from the Catalogue, SeedTerraform the world the original Terraform left,
// NewTestEnv one test's environment, NewStateBackend a Pulumi state
// backend. Clients built from Config talk to it through the unmodified AWS
// SDK; Env gives the variables that point a CLI process at it.
//
// The HTTP side is the subpackage emulator/server: a front server before
// kumo that answers what the checks need and kumo lacks (PITR, the SSE
// description and deletion protection of a table, KMS key rotation, SSM
// parameter keys, alarm missing-data treatment, alarm evaluation and
// notifications, CloudWatch over AWS JSON, one account id across
// services, DynamoDB's item history and point-in-time restore), counts requests (Counts) and injects faults (SetFaults). It
// is split out so that a service's behaviour lives in one file there and
// the fixtures here build on the SDK only; Emulator embeds a server.Server
// and this package forwards its types, so consumers import only emulator.
//
// kumo keeps its service state per process: one kumo serves the process
// and every Emulator is its own front server before it (so parallel tests
// are race-free). Emulators see each other's tables, keys and alarms: give
// every seeded environment its own name (Seed picks a random one when none
// is given) and do not reuse resources across emulators.
//
// Tests, here and in other repositories, need one call: NewTestEnv(t, opts)
// starts an emulator, seeds an environment and, when the test ends, tears
// it down (Teardown) and closes the emulator, so tests may run in parallel
// (also under -race) and a fixed name may be seeded again by the next test
// or -count run. NewDynaliteTestEnv does the same with DynamoDB on
// dynalite, an independent implementation (see dynalite.go for what it
// lacks).
package emulator

import (
	"github.com/mirror-dissonance/mirror-infra/emulator/server"
)

// Region is the region the emulator pretends to be in.
const Region = server.Region

// AccountID is the account the emulator reports.
const AccountID = server.AccountID

// Emulator is a running in-process emulator: its server (URL, Config,
// Counts, SetFaults, SetIndexDelay, EvaluateAlarms, ...) plus the fixtures
// that seed it.
type Emulator struct {
	*server.Server
}

// Start starts an emulator on a loopback port. Close it when done; parallel
// tests may call it.
func Start() *Emulator { return &Emulator{Server: server.Start()} }

// The server's request counting and fault injection, under the names
// callers have always used.
type (
	// Counts is a snapshot of the requests the front server received.
	Counts = server.Counts
	// Operation identifies one AWS request.
	Operation = server.Operation
	// Protocol is the wire protocol of a request.
	Protocol = server.Protocol
	// Faults makes requests fail (see server.Faults).
	Faults = server.Faults
	// FaultRule fails the requests that match it.
	FaultRule = server.FaultRule
	// FaultKind is how an injected fault looks to the client.
	FaultKind = server.FaultKind
)

// Protocols, as server names them.
const (
	ProtoUnknown = server.ProtoUnknown
	ProtoJSON    = server.ProtoJSON
	ProtoQuery   = server.ProtoQuery
	ProtoCBOR    = server.ProtoCBOR
	ProtoRESTXML = server.ProtoRESTXML
)

// Fault kinds, as server names them.
const (
	FaultUnreachable  = server.FaultUnreachable
	FaultThrottle     = server.FaultThrottle
	FaultServerError  = server.FaultServerError
	FaultLostResponse = server.FaultLostResponse
	FaultLatency      = server.FaultLatency
	// DropConnection is FaultUnreachable by the name the fault matrix uses.
	DropConnection = server.DropConnection
	// DefaultLatency is the delay of FaultLatency when none is configured.
	DefaultLatency = server.DefaultLatency
)

// The restore timing's defaults (SetRestoreTiming changes them): a restored
// table is CREATING for DefaultRestoreDuration and the latest restorable
// time trails now by DefaultRestorableLag.
const (
	DefaultRestoreDuration = server.DefaultRestoreDuration
	DefaultRestorableLag   = server.DefaultRestorableLag
)

// ParseFaultKind reads the names FaultKind.String gives.
func ParseFaultKind(s string) (FaultKind, error) { return server.ParseFaultKind(s) }
