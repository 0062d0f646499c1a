package e2e_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/verify/e2e"
	"github.com/mirror-dissonance/mirror-infra/verify/target"
)

// silentEndpoint accepts connections and never answers; it closes them
// when the test ends.
func silentEndpoint(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return "http://" + ln.Addr().String()
}

// boundMargin is how long past its deadline a run may take to return: the
// report and the SKIPs of the steps not run, nothing that waits.
const boundMargin = time.Second

// TestRunIsBoundedAgainstASilentEndpoint: with a 5 s deadline (the
// context's or Options.Timeout) against an endpoint that never answers,
// Run returns within the deadline plus boundMargin, reports the failure once on the summary
// (infrastructure, exit 3) and writes nothing, so there is no cleanup.
func TestRunIsBoundedAgainstASilentEndpoint(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a 5 s deadline")
	}
	cfg := aws.Config{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(silentEndpoint(t)),
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
	}
	tgt := target.Env{Environment: "staging"}
	tgt.Defaults()
	for _, tc := range []struct {
		name string
		run  func() []report.Check
	}{
		{"context deadline", func() []report.Check {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			return e2e.Run(ctx, e2e.NewClients(cfg), tgt, e2e.Options{TempDir: t.TempDir()}).Checks
		}},
		{"Options.Timeout", func() []report.Check {
			return e2e.Run(context.Background(), e2e.NewClients(cfg), tgt, e2e.Options{TempDir: t.TempDir(), Timeout: 5 * time.Second}).Checks
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			checks := tc.run()
			took := time.Since(start)
			t.Logf("returned after %s", took.Round(10*time.Millisecond))
			if took > 5*time.Second+boundMargin {
				t.Errorf("Run took %s, want at most %s after a 5 s deadline", took, boundMargin)
			}
			r := &report.Report{Checks: checks}
			if r.ExitCode() != report.ExitEngine {
				t.Errorf("exit %d, want %d", r.ExitCode(), report.ExitEngine)
			}
			sum := checks[0]
			if sum.Status != report.Fail || !sum.Infra || !strings.Contains(sum.Reason, "AWS unreachable") {
				t.Errorf("summary %s %q, want an infrastructure FAIL", sum.Status, sum.Reason)
			}
			for _, c := range checks[1:] {
				if c.Status != report.Skip || strings.Contains(c.Reason, "GetCallerIdentity") {
					t.Errorf("%s %s %q, want SKIP pointing at the summary", c.ID, c.Status, c.Reason)
				}
			}
		})
	}
}

// TestCleanupIsBoundedPastTheDeadline: an endpoint that answers the probe
// but nothing else holds the steps until the deadline; cleanup still runs
// and gives up no later than CleanupGrace after it.
func TestCleanupIsBoundedPastTheDeadline(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the deadline and the cleanup grace")
	}
	t.Parallel()
	hold := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if strings.Contains(string(body), "Action=GetCallerIdentity") {
			w.Header().Set("Content-Type", "text/xml")
			_, _ = io.WriteString(w, `<GetCallerIdentityResponse><GetCallerIdentityResult><Account>000000000000</Account><Arn>arn:aws:iam::000000000000:user/t</Arn><UserId>t</UserId></GetCallerIdentityResult></GetCallerIdentityResponse>`)
			return
		}
		select { // never answer, until the test ends
		case <-hold:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(hold); srv.Close() })
	cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")}
	tgt := target.Env{Environment: "staging"}
	tgt.Defaults()
	const timeout = 2 * time.Second
	start := time.Now()
	checks := e2e.Run(context.Background(), e2e.NewClients(cfg), tgt, e2e.Options{TempDir: t.TempDir(), Timeout: timeout}).Checks
	took := time.Since(start)
	t.Logf("returned after %s", took.Round(10*time.Millisecond))
	if limit := timeout + e2e.CleanupGrace + 2*time.Second; took > limit {
		t.Errorf("Run took %s, want at most %s", took, limit)
	}
	last := checks[len(checks)-1]
	if last.ID != "e2e.cleanup" || last.Status != report.Fail {
		t.Errorf("last check %s %s %q, want a failed cleanup", last.ID, last.Status, last.Reason)
	}
}
