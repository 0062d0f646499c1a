package verify

import (
	"context"
	"testing"
	"time"

	"github.com/mirror-dissonance/mirror-infra/emulator"
	"github.com/mirror-dissonance/mirror-infra/report"
)

// TestAlertToleratesLostReceive: a ReceiveMessage whose answer is lost
// (the messages it took stay hidden for the visibility timeout) or that
// fails outright does not end the wait; the check keeps polling within
// AlertWait and passes. When every receive fails the verdict is an
// infrastructure error, never a FAIL of a healthy environment. Mutation
// check: return the receive error at once (the old awaitDelivery) and the
// "answers lost" rows turn into infrastructure errors.
func TestAlertToleratesLostReceive(t *testing.T) {
	for _, tc := range []struct {
		name  string
		rule  emulator.FaultRule
		want  report.Status
		infra bool
	}{
		{"one answer lost", emulator.FaultRule{Operation: "ReceiveMessage", Kind: emulator.FaultLostResponse, Times: 1}, report.Pass, false},
		{"answers lost past the SDK's retries", emulator.FaultRule{Operation: "ReceiveMessage", Kind: emulator.FaultLostResponse, Times: 4}, report.Pass, false},
		{"receives throttled past the SDK's retries", emulator.FaultRule{Operation: "ReceiveMessage", Kind: emulator.FaultThrottle, Times: 4}, report.Pass, false},
		{"every receive fails", emulator.FaultRule{Operation: "ReceiveMessage", Kind: emulator.FaultServerError}, report.Fail, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, cfg := start(t)
			s, err := e.Seed(context.Background(), emulator.SeedOptions{VerifyQueue: true})
			if err != nil {
				t.Fatal(err)
			}
			// Two attempts per call, so a few faults outlast the SDK's
			// retries and reach the check.
			c := NewClients(cfg, ClientOptions{MaxAttempts: 2, MaxBackoff: 10 * time.Millisecond})
			e.SetFaults(emulator.Faults{Rules: []emulator.FaultRule{tc.rule}})
			opts := testOptions
			opts.AlertWait = 10 * time.Second
			if tc.infra {
				opts.AlertWait = 3 * time.Second // it never arrives
			}
			opts.Checks = []string{IDAlert}
			r := mustRun(t, context.Background(), c, s, opts)
			alert, _ := r.Find(IDAlert)
			if alert.Status != tc.want || alert.Infra != tc.infra {
				t.Fatalf("alert = %s infra=%t (%s), want %s infra=%t", alert.Status, alert.Infra, alert.Reason, tc.want, tc.infra)
			}
		})
	}
}
