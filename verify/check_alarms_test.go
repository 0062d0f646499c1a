package verify

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"

	"github.com/mirror-dissonance/mirror-infra/emulator"
	"github.com/mirror-dissonance/mirror-infra/report"
)

// TestAlarmWithoutOKActionsFails: an alarm that notifies the topic on
// ALARM but not on OK (as the original Terraform's alarms were) fails the
// alarms check, naming the alarm: the OK notification is part of SPEC 2.4.
func TestAlarmWithoutOKActionsFails(t *testing.T) {
	env := emulator.NewTestEnv(t, emulator.SeedOptions{})
	ctx := context.Background()
	cw := cloudwatch.NewFromConfig(env.Config)
	name := env.Target().AlarmNames[0]
	out, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{name}})
	if err != nil || len(out.MetricAlarms) != 1 {
		t.Fatalf("reading alarm %s: %v", name, err)
	}
	a := out.MetricAlarms[0]
	if _, err := cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
		AlarmName: a.AlarmName, Namespace: a.Namespace, MetricName: a.MetricName, Statistic: a.Statistic,
		ComparisonOperator: a.ComparisonOperator, Threshold: a.Threshold, Period: a.Period,
		EvaluationPeriods: a.EvaluationPeriods, Dimensions: a.Dimensions, TreatMissingData: a.TreatMissingData,
		ActionsEnabled: aws.Bool(true), AlarmActions: a.AlarmActions, OKActions: nil,
	}); err != nil {
		t.Fatalf("rewriting alarm %s without OK actions: %v", name, err)
	}
	c := RunCheck(ctx, NewClients(env.Config), env.Target(), IDAlarms, Options{})
	if c.Status != report.Fail || !strings.Contains(c.Reason, name) || !strings.Contains(c.Reason, "on OK") {
		t.Errorf("alarms: %s %q; want a FAIL saying %s does not notify on OK", c.Status, c.Reason, name)
	}
}

// TestAlarmWaitIsShown (issue 24 finding 5): a wait for alarms to leave
// INSUFFICIENT_DATA is announced through Options.Wait, once, and ended.
func TestAlarmWaitIsShown(t *testing.T) {
	// A fresh deploy: every alarm INSUFFICIENT_DATA.
	env := emulator.NewTestEnv(t, emulator.SeedOptions{Defects: []emulator.Defect{emulator.DefectAlarmsInsufficientData}})
	var started, ended int
	var what string
	c := RunCheck(context.Background(), NewClients(env.Config), env.Target(), IDAlarms, Options{
		AlarmWait: 300 * time.Millisecond, AlarmPoll: 50 * time.Millisecond,
		Wait: func(_ context.Context, w string) func() { started++; what = w; return func() { ended++ } },
	})
	if started != 1 || ended != 1 || !strings.Contains(what, "INSUFFICIENT_DATA") {
		t.Errorf("wait announced %d times, ended %d times (%q); want once each, naming INSUFFICIENT_DATA (check: %s %s)", started, ended, what, c.Status, c.Reason)
	}
}
