package rehearse

import (
	"context"
	"strings"
	"testing"

	"github.com/mirror-dissonance/mirror-infra/report"
)

// The Terraform-shaped rehearsal: the clean path adopts everything, keeps
// every item and recreates no table; each adoption defect ends as the
// adoption must handle it. The Terraform-era items are the original
// Oracle's (emulator.SeedTerraform), so after an adoption the data check
// FAILs on its consent records, and it is the only check that fails.
func TestRehearseFromTerraform(t *testing.T) {
	for _, tc := range []struct {
		stack, brk string
		exit       int
		// want are check ids with the status they must have.
		want map[string]report.Status
		// reason is a fragment the adopt:plan check must say.
		reason string
	}{
		{stack: "staging", exit: report.ExitFailed, want: map[string]report.Status{
			"rehearse:preflight": report.Pass, "adopt:plan": report.Pass, "adopt:import": report.Pass, "gate:adoption": report.Pass,
			"adopt:in-place": report.Pass, "rehearse:preserved": report.Pass, "e2e": report.Pass, "data": report.Fail}},
		{stack: "production", exit: report.ExitFailed, want: map[string]report.Status{
			"adopt:plan": report.Pass, "gate:adoption": report.Pass, "rehearse:preserved": report.Pass, "data": report.Fail}},
		{stack: "staging", brk: "tf-key-schema", exit: report.ExitFailed, reason: "key schema",
			want: map[string]report.Status{"adopt:plan": report.Fail, "rehearse:preserved": report.Pass}},
		{stack: "staging", brk: "tf-foreign", exit: report.ExitFailed, reason: "BillingPlatform",
			want: map[string]report.Status{"adopt:plan": report.Fail, "rehearse:preserved": report.Pass}},
		{stack: "staging", brk: "tf-missing", exit: report.ExitFailed, reason: "mirror-dissonance-staging-block-counter",
			want: map[string]report.Status{"adopt:plan": report.Pass, "gate:adoption": report.Pass, "rehearse:preserved": report.Pass, "data": report.Fail}},
	} {
		t.Run(tc.stack+"/"+tc.brk, func(t *testing.T) {
			res, err := Run(context.Background(), load(t, tc.stack), Options{From: FromTerraform, Break: tc.brk})
			if err != nil {
				t.Fatal(err)
			}
			rep := res.Report
			if got := rep.ExitCode(); got != tc.exit {
				var b strings.Builder
				_ = rep.WriteText(&b, false)
				t.Fatalf("exit %d, want %d:\n%s", got, tc.exit, b.String())
			}
			for id, st := range tc.want {
				c, ok := rep.Find(id)
				if !ok || c.Status != st {
					t.Errorf("%s: %+v, want %s", id, c, st)
				}
			}
			if tc.want["data"] == report.Fail {
				for _, c := range rep.Checks {
					if c.Status == report.Fail && c.ID != "data" {
						t.Errorf("%s also failed: %s", c.ID, c.Reason)
					}
				}
				if c, _ := rep.Find("data"); !strings.Contains(c.Reason, "consent-not-keyed-by-orgId") {
					t.Errorf("data says %q, want the original Oracle's consent records", c.Reason)
				}
			}
			if tc.reason != "" {
				if c, _ := rep.Find("adopt:plan"); !strings.Contains(c.Reason, tc.reason) {
					t.Errorf("adopt:plan says %q, want it to mention %q", c.Reason, tc.reason)
				}
			}
			noSecrets(t, rep)
		})
	}
}
