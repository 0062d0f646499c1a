package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"sync"

	"github.com/sivchari/kumo"
)

// processKumo is the one kumo server of the process (see the package doc),
// started by the first Start and never closed: its state would outlive it
// anyway.
var processKumo struct {
	mu  sync.Mutex
	url *url.URL
	// describe serializes DescribeTable: kumo updates the table's item
	// count under a read lock and encodes the table after releasing it, a
	// data race between two concurrent DescribeTables of one table.
	describe sync.Mutex
}

// describeTable calls kumo's DescribeTable, one at a time per process.
func (srv *Server) describeTable(ctx context.Context, table string) (int, []byte, error) {
	b, _ := json.Marshal(map[string]string{"TableName": table})
	processKumo.describe.Lock()
	defer processKumo.describe.Unlock()
	return srv.callKumo(ctx, "dynamodb", "DynamoDB_20120810.DescribeTable", b)
}

// sharedKumo returns the URL of the process's kumo, starting it once.
func sharedKumo() *url.URL {
	processKumo.mu.Lock()
	defer processKumo.mu.Unlock()
	if processKumo.url == nil {
		k := kumo.NewServer()
		u, err := url.Parse(k.URL)
		if err != nil {
			panic("emulator: kumo returned an unparsable URL: " + err.Error())
		}
		processKumo.url = u
	}
	return processKumo.url
}

// callKumo makes an AWS JSON call straight to kumo (not counted, never
// faulted), for extensions that need kumo's view, e.g. resolving a key.
func (srv *Server) callKumo(ctx context.Context, signingName, target string, payload []byte) (int, []byte, error) {
	return srv.callKumoRaw(ctx, signingName, "application/x-amz-json-1.1", "/", map[string]string{"X-Amz-Target": target}, payload)
}

func (srv *Server) callKumoCBOR(ctx context.Context, op string, body []byte) (int, []byte, error) {
	return srv.callKumoRaw(ctx, "monitoring", "application/cbor", "/service/"+cwService+"/operation/"+op,
		map[string]string{"Smithy-Protocol": "rpc-v2-cbor", "Accept": "application/cbor"}, body)
}

// callKumoRaw makes one request straight to kumo (not counted, never
// faulted).
func (srv *Server) callKumoRaw(ctx context.Context, signingName, contentType, path string, headers map[string]string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.kumoURL+path, bytes.NewReader(body))
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
