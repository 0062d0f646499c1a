package e2e_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/verify/e2e"
)

// TestCycleUnderIndexLag: with the index lagging writes (as DynamoDB's
// global secondary indexes do), the cycle still passes by retrying the index
// reads within IndexWait; when the lag exceeds the wait, the read step fails
// and says why.
func TestCycleUnderIndexLag(t *testing.T) {
	cases := []struct {
		name      string
		lag, wait time.Duration
		want      report.Status
		reason    string
	}{
		{"lag within the wait", 300 * time.Millisecond, 5 * time.Second, report.Pass, ""},
		{"lag beyond the wait", 3 * time.Second, 200 * time.Millisecond, report.Fail, "not visible through the index yet"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := setup(t, true)
			e.Emulator.SetIndexDelay(tc.lag)
			checks := e2e.Run(context.Background(), e2e.NewClients(e.NoRetries()), e.Target(),
				e2e.Options{TempDir: t.TempDir(), IndexWait: tc.wait}).Checks
			st := statuses(checks)
			if st["e2e"] != tc.want {
				for _, c := range checks {
					t.Logf("%-28s %s %s", c.ID, c.Status, c.Reason)
				}
				t.Fatalf("cycle %s, want %s", st["e2e"], tc.want)
			}
			if tc.reason != "" {
				c := checks[0]
				for _, x := range checks {
					if x.ID == "e2e.read-by-finding" {
						c = x
					}
				}
				if c.Status != report.Fail || !strings.Contains(c.Reason, tc.reason) {
					t.Errorf("read-by-finding %s %q, want FAIL saying %q", c.Status, c.Reason, tc.reason)
				}
			}
			// The cleanup finds what to remove on the base table, which is
			// strongly consistent, so the lag never leaves anything behind.
			if st["e2e.cleanup"] != report.Pass {
				t.Errorf("cleanup %s", st["e2e.cleanup"])
			}
		})
	}
}
