package verify

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/spec"
)

// IDAlarms is the id of the alarms check.
const IDAlarms = "alarms"

func init() {
	register(check{Entry: Entry{ID: IDAlarms, Writes: false,
		Summary: "the six throttle alarms exist as declared, in OK, with actions to the topic",
		Catches: []string{"alarm-missing", "alarm-misconfigured", "alarm-no-actions", "alarms-insufficient-data"}},
		rank: 60, run: (*session).checkAlarms})
}

// alarmSpec is SPEC 2.4 for one alarm: the name the target gives it and
// the physical table it watches.
type alarmSpec struct {
	spec.ThrottleAlarm
	table string
}

// alarmSpecs pairs each expected alarm with its metric and table. The
// names come from the target (stack outputs or MD_ALARM_NAMES), matched to
// tables by the SPEC suffixes "<table>-read-throttle" / "-write-throttle";
// the SPEC naming fills any the target lacks.
func (s *session) alarmSpecs() []alarmSpec {
	n := spec.For(s.tgt.Environment)
	tables := s.tgt.Tables()
	var out []alarmSpec
	for _, a := range n.ThrottleAlarms() {
		suffix := "-" + strings.TrimPrefix(a.Name, n.Prefix())
		for _, given := range s.tgt.AlarmNames {
			if strings.HasSuffix(given, suffix) {
				a.Name = given
				break
			}
		}
		out = append(out, alarmSpec{a, tables[a.Table]})
	}
	return out
}

func (s *session) checkAlarms(ctx context.Context) report.Check {
	defer s.closeAlarmRead()
	f := newFindings(IDAlarms)
	specs := s.alarmSpecs()
	names := make([]string, len(specs))
	for i, a := range specs {
		names[i] = a.Name
	}
	if len(s.tgt.AlarmNames) != len(names) {
		f.warn("", "the target lists %d alarms %v; the stack declares six: checking %v", len(s.tgt.AlarmNames), s.tgt.AlarmNames, names)
	}
	topic, topicErr := s.topicArn()
	deadline := time.Now().Add(s.opts.AlarmWait)
	var got map[string]cwtypes.MetricAlarm
	var done func()
	defer func() {
		if done != nil {
			done()
		}
	}()
	for {
		out, err := s.c.CloudWatch.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: names, MaxRecords: aws.Int32(100)})
		if err != nil {
			f.err("describing the alarms", err)
			return f.result("")
		}
		got = map[string]cwtypes.MetricAlarm{}
		pending := 0
		for _, a := range out.MetricAlarms {
			got[aws.ToString(a.AlarmName)] = a
			if a.StateValue == cwtypes.StateValueInsufficientData {
				pending++
			}
		}
		if pending == 0 || !time.Now().Before(deadline) {
			break
		}
		s.log.Debug("alarms still INSUFFICIENT_DATA; waiting", "pending", pending)
		if done == nil {
			done = s.opts.wait(ctx, fmt.Sprintf("the alarms to leave INSUFFICIENT_DATA (%d of %d pending, up to %s)", pending, len(names), s.opts.AlarmWait))
		}
		select {
		case <-ctx.Done():
			f.err("waiting for the alarms to leave INSUFFICIENT_DATA", ctx.Err())
			return f.result("")
		case <-time.After(min(s.opts.AlarmPoll, time.Until(deadline))):
		}
	}
	fix := fixDeploy + " (alarm settings come from the program)"
	for _, want := range specs {
		a, ok := got[want.Name]
		if !ok {
			f.fail(fix, "alarm %s does not exist", want.Name)
			continue
		}
		bad := alarmProblems(want, a, topic, topicErr == nil, s.opts.ExpectedThreshold)
		for _, p := range bad {
			f.fail(fix, "alarm %s %s", want.Name, p)
		}
		switch a.StateValue {
		case cwtypes.StateValueOk:
		case cwtypes.StateValueAlarm:
			f.fail("table "+want.table+" is being throttled: look at its consumed capacity and the dashboard",
				"alarm %s is in ALARM: %s", want.Name, aws.ToString(a.StateReason))
		default:
			f.warn("alarms leave INSUFFICIENT_DATA a few minutes after a deploy; run again later or raise --alarm-wait",
				"alarm %s is still %s after waiting %s", want.Name, a.StateValue, s.opts.AlarmWait)
		}
		if len(bad) == 0 {
			f.details[want.Name] = fmt.Sprintf("%s, threshold %g", a.StateValue, aws.ToFloat64(a.Threshold))
		}
	}
	if topicErr != nil {
		f.warn("", "alarm actions not compared: the topic ARN is unknown (%v)", topicErr)
	}
	return f.result("the six throttle alarms are configured as the stack declares them and in OK")
}

// alarmProblems lists how a deviates from SPEC 2.4.
func alarmProblems(want alarmSpec, a cwtypes.MetricAlarm, topic string, checkActions bool, threshold float64) []string {
	var p []string
	same := func(what, got, exp string) {
		if got != exp {
			p = append(p, fmt.Sprintf("has %s %q, want %q", what, got, exp))
		}
	}
	same("namespace", aws.ToString(a.Namespace), spec.AlarmNamespace)
	same("metric", aws.ToString(a.MetricName), want.Metric)
	same("statistic", string(a.Statistic), spec.AlarmStatistic)
	same("comparison", string(a.ComparisonOperator), spec.AlarmComparison)
	same("missing-data treatment", aws.ToString(a.TreatMissingData), spec.AlarmTreatMissingData)
	dims := make([]string, 0, len(a.Dimensions))
	for _, d := range a.Dimensions {
		dims = append(dims, aws.ToString(d.Name)+"="+aws.ToString(d.Value))
	}
	same("dimensions", strings.Join(dims, ","), spec.AlarmDimension+"="+want.table)
	if got := aws.ToInt32(a.Period); got != spec.AlarmPeriod {
		p = append(p, fmt.Sprintf("has period %d s, want %d", got, spec.AlarmPeriod))
	}
	if got := aws.ToInt32(a.EvaluationPeriods); got != spec.AlarmEvaluationPeriods {
		p = append(p, fmt.Sprintf("has %d evaluation periods, want %d", got, spec.AlarmEvaluationPeriods))
	}
	if threshold > 0 && aws.ToFloat64(a.Threshold) != threshold {
		p = append(p, fmt.Sprintf("has threshold %g, want %g (throttleThreshold)", aws.ToFloat64(a.Threshold), threshold))
	} else if aws.ToFloat64(a.Threshold) <= 0 {
		p = append(p, fmt.Sprintf("has threshold %g, want a positive count", aws.ToFloat64(a.Threshold)))
	}
	if !aws.ToBool(a.ActionsEnabled) {
		p = append(p, "has actions disabled")
	}
	if checkActions {
		if !slices.Contains(a.AlarmActions, topic) {
			p = append(p, "does not notify "+topic+" on ALARM")
		}
		if !slices.Contains(a.OKActions, topic) {
			p = append(p, "does not notify "+topic+" on OK")
		}
	}
	return p
}
