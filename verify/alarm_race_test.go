package verify

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/mirror-dissonance/mirror-infra/emulator"
	"github.com/mirror-dissonance/mirror-infra/report"
)

// slowCloudWatch widens the window in which the two checks could overlap:
// DescribeAlarms starts late and the test alarm stays in ALARM a while.
type slowCloudWatch struct{ CloudWatchAPI }

func (s slowCloudWatch) DescribeAlarms(ctx context.Context, in *cloudwatch.DescribeAlarmsInput, o ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error) {
	time.Sleep(50 * time.Millisecond)
	return s.CloudWatchAPI.DescribeAlarms(ctx, in, o...)
}

func (s slowCloudWatch) SetAlarmState(ctx context.Context, in *cloudwatch.SetAlarmStateInput, o ...func(*cloudwatch.Options)) (*cloudwatch.SetAlarmStateOutput, error) {
	out, err := s.CloudWatchAPI.SetAlarmState(ctx, in, o...)
	if in.StateValue == cwtypes.StateValueAlarm {
		time.Sleep(150 * time.Millisecond)
	}
	return out, err
}

// TestAlertFiringNeverFailsTheAlarmsCheck: the alert check sets an alarm to
// ALARM and back; the alarms check, running concurrently, must not read the
// test's own ALARM state as a breach.
func TestAlertFiringNeverFailsTheAlarmsCheck(t *testing.T) {
	_, c, s := setup(t, emulator.SeedOptions{VerifyQueue: true})
	c.CloudWatch = slowCloudWatch{c.CloudWatch}
	tgt := s.Target()
	opts := testOptions
	opts.FireAlarm = true
	opts.Checks = []string{IDAlarms, IDAlert}
	r, err := Run(context.Background(), c, tgt, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range opts.Checks {
		if ch, _ := r.Find(id); ch.Status != report.Pass {
			t.Errorf("%s = %s: %s", id, ch.Status, ch.Reason)
		}
	}
	if a, _ := r.Find(IDAlert); a.Details["fired"] == "" {
		t.Error("the alert check did not fire an alarm")
	}
}
