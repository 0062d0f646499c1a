package recovery

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/verify/target"
)

// RehearsalCheckID is the id of RehearsalStep's check.
const RehearsalCheckID = "drill"

// RehearsalStep is the drill as one step of `rehearse <stack>`: every
// table, with the short waits an emulator allows (its restores take
// seconds), summed up as one check "drill" whose details carry each
// table's recovery time and point. A failed table fails the step.
func RehearsalStep(ctx context.Context, cfg aws.Config, t target.Env) report.Check {
	start := time.Now()
	rep, _, err := Drill(ctx, cfg, t, DrillOptions{Poll: 100 * time.Millisecond, Margin: 50 * time.Millisecond, Timeout: time.Minute})
	c := report.Check{ID: RehearsalCheckID, Status: report.Pass, Duration: time.Since(start), Details: map[string]string{}}
	var reasons []string
	for _, tc := range rep.Checks {
		if tc.Status == report.Fail {
			c.Status, c.Infra = report.Fail, c.Infra || tc.Infra
			reasons = append(reasons, tc.ID+": "+tc.Reason)
		}
		if v, ok := tc.Details["recoveryTimeSeconds"]; ok {
			c.Details[tc.ID+".recoveryTimeSeconds"] = v
			c.Details[tc.ID+".recoveryPointSeconds"] = tc.Details["recoveryPointSeconds"]
		}
	}
	switch {
	case c.Status == report.Fail:
		c.Reason = strings.Join(reasons, "; ")
		c.Fix = "docs/operations.md section 12 (restore drill)"
	case err != nil:
		c.Status, c.Infra, c.Reason = report.Fail, true, err.Error()
	default:
		c.Reason = fmt.Sprintf("%d tables restored, verified and measured in %s", len(rep.Checks), c.Duration.Round(time.Millisecond))
	}
	return c
}
