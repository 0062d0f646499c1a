package verify

import (
	"context"
	"strings"
	"testing"

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
