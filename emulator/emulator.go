// Package emulator runs an in-process AWS emulator (github.com/sivchari/kumo)
// for tests, the rehearsal and local work, and fills in the operations the
// checks need that kumo lacks. Clients built from Config talk to it through
// the unmodified AWS SDK.
package emulator

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/sivchari/kumo"
)

// Region is the region the emulator pretends to be in.
const Region = "us-east-1"

// AccountID is the account the emulator reports.
const AccountID = "000000000000"

// Emulator is a running in-process emulator: a front server that answers the
// extension operations itself and proxies everything else to kumo.
type Emulator struct {
	// URL is the endpoint SDK clients use.
	URL string

	kumo  *kumo.Server
	front *httptest.Server
}

// Start starts an emulator on a loopback port. Close it when done.
func Start() *Emulator {
	k := kumo.NewServer()
	// kumo keeps its handler private, so the front server proxies to it.
	u, err := url.Parse(k.URL)
	if err != nil {
		panic("emulator: kumo returned an unparsable URL: " + err.Error())
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proxy.ServeHTTP(w, r)
	}))
	return &Emulator{URL: front.URL, kumo: k, front: front}
}

// Close stops the emulator.
func (e *Emulator) Close() {
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
