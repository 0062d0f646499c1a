package awsclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

// testConfig points an SDK config at url with static credentials.
func testConfig(url string) aws.Config {
	return aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(url),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")}
}

// endless writes a JSON answer that never ends.
func endless(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.WriteHeader(200)
	fmt.Fprint(w, `{"TableNames":["`)
	chunk := []byte(strings.Repeat("a", 64<<10))
	for r.Context().Err() == nil {
		if _, err := w.Write(chunk); err != nil {
			return
		}
	}
}

// An answer larger than the cap is an error naming the bound, whether the
// body declares its length or never ends, and it is not retried.
func TestResponseSizeIsCapped(t *testing.T) {
	var calls atomic.Int32
	for name, h := range map[string]http.HandlerFunc{
		"endless body": endless,
		"declared length": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", fmt.Sprint(8<<20))
			w.WriteHeader(200)
		},
	} {
		t.Run(name, func(t *testing.T) {
			calls.Store(0)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls.Add(1); h(w, r) }))
			defer srv.Close()
			cfg := Bound(testConfig(srv.URL), Options{MaxResponseBytes: 1 << 20})
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			_, err := dynamodb.NewFromConfig(cfg).ListTables(ctx, &dynamodb.ListTablesInput{})
			var be *BoundError
			if !errors.As(err, &be) || be.Bound != "response size" || !strings.Contains(err.Error(), "1048576 bytes") {
				t.Fatalf("error %v, want the response size bound named", err)
			}
			if n := calls.Load(); n != 1 {
				t.Errorf("%d attempts: a bound is never retried", n)
			}
		})
	}
}

// A legitimate answer below the cap passes untouched, also at exactly the cap.
func TestResponseBelowCapPasses(t *testing.T) {
	body := `{"TableNames":["a","b"]}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		fmt.Fprint(w, body)
	}))
	defer srv.Close()
	cfg := Bound(testConfig(srv.URL), Options{MaxResponseBytes: int64(len(body))})
	out, err := dynamodb.NewFromConfig(cfg).ListTables(context.Background(), &dynamodb.ListTablesInput{})
	if err != nil || len(out.TableNames) != 2 {
		t.Fatalf("%v %v", out, err)
	}
}

// An endpoint that accepts the connection and never answers (or answers
// byte by byte) is given up within the attempt timeout times the attempts,
// without any deadline on the caller's context.
func TestAttemptTimeoutCoversTheBody(t *testing.T) {
	// done ends the handlers: the server's Close waits for them.
	done := make(chan struct{})
	for name, h := range map[string]http.HandlerFunc{
		"never answers": func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-done:
			}
		},
		"byte by byte": func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(200)
			for r.Context().Err() == nil && !closed(done) {
				w.Write([]byte(" "))
				w.(http.Flusher).Flush()
				time.Sleep(20 * time.Millisecond)
			}
		},
	} {
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close) // after close(done)
		t.Run(name, func(t *testing.T) {
			cfg := testConfig(srv.URL)
			cfg.RetryMaxAttempts = 2
			cfg = Bound(cfg, Options{AttemptTimeout: 300 * time.Millisecond})
			start := time.Now()
			_, err := dynamodb.NewFromConfig(cfg).ListTables(context.Background(), &dynamodb.ListTablesInput{})
			if err == nil {
				t.Fatal("no error")
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("gave up after %s", d)
			}
		})
	}
	close(done)
}

func closed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// A listing whose every page has a next token stops at the request budget
// even in a loop that has no bound of its own.
func TestRequestBudgetStopsEndlessPaging(t *testing.T) {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		fmt.Fprint(w, `{"Parameters":[],"NextToken":"again"}`)
	}))
	defer srv.Close()
	c := ssm.NewFromConfig(Bound(testConfig(srv.URL), Options{RequestBudget: 50}))
	var err error
	in := &ssm.GetParametersByPathInput{Path: aws.String("/guardian/staging")}
	for range 1000 {
		var out *ssm.GetParametersByPathOutput
		if out, err = c.GetParametersByPath(context.Background(), in); err != nil {
			break
		}
		in.NextToken = out.NextToken
	}
	if !errors.Is(err, ErrBound) || !strings.Contains(err.Error(), "request budget bound of 50 requests") {
		t.Fatalf("error %v, want the request budget named", err)
	}
	if n := calls.Load(); n != 50 {
		t.Errorf("%d requests reached the endpoint, want 50", n)
	}
}

func TestPagesBound(t *testing.T) {
	p := Pages{What: "listing tables", Max: 3}
	for i := range 3 {
		if err := p.Next(); err != nil {
			t.Fatalf("page %d: %v", i+1, err)
		}
	}
	err := p.Next()
	if !errors.Is(err, ErrBound) || !strings.Contains(err.Error(), "listing tables: the pages bound of 3 pages") {
		t.Fatalf("%v", err)
	}
}

// The S3 rule: path-style exactly when the endpoint is custom.
func TestNewS3PathStyleOnCustomEndpoint(t *testing.T) {
	if !NewS3(testConfig("http://127.0.0.1:1")).Options().UsePathStyle {
		t.Error("custom endpoint: want path-style")
	}
	if NewS3(aws.Config{Region: "us-east-1"}).Options().UsePathStyle {
		t.Error("AWS endpoint: want virtual-hosted style")
	}
}

func TestKnownRegion(t *testing.T) {
	if !slices.IsSorted(regions) {
		t.Fatal("regions must stay sorted (KnownRegion searches them)")
	}
	for r, want := range map[string]bool{"us-east-1": true, "eu-west-1": true, "us-gov-west-1": true, "zz-fake-9": false, "us-east-1 ": false, "": false} {
		if KnownRegion(r) != want {
			t.Errorf("KnownRegion(%q) = %v", r, !want)
		}
	}
}
