package verify

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/spec"
)

func (s *session) checkKMS(ctx context.Context) report.Check {
	f := newFindings(IDKMS)
	cmk, err := s.cmk()
	switch {
	case isNotFound(err):
		f.fail("deploy the stack (it creates the key and alias "+s.t.KMSAlias+")", "KMS key %s does not exist", s.t.KMSKey)
		return f.result("")
	case err != nil:
		f.err("describing KMS key "+s.t.KMSKey, err)
		return f.result("")
	}
	m := cmk.meta.KeyMetadata
	if !m.Enabled || m.KeyState != kmstypes.KeyStateEnabled {
		f.fail("enable the key (aws kms enable-key) or cancel its deletion", "KMS key %s is %s, not Enabled", cmk.Arn, m.KeyState)
	}
	if m.KeyManager != "" && m.KeyManager != kmstypes.KeyManagerTypeCustomer {
		f.fail("use the stack's customer-managed key", "KMS key %s is %s-managed, not customer-managed", cmk.Arn, m.KeyManager)
	}
	rot, err := s.c.KMS.GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: aws.String(cmk.Arn)})
	switch {
	case err != nil:
		f.err("reading the rotation status of "+cmk.Arn, err)
	case !rot.KeyRotationEnabled:
		f.fail("enable rotation (the program sets enableKeyRotation; deploy again, or aws kms enable-key-rotation)", "automatic rotation is off on KMS key %s", cmk.Arn)
	default:
		days := "default period"
		if rot.RotationPeriodInDays != nil {
			days = strconv.Itoa(int(*rot.RotationPeriodInDays)) + " days"
		}
		f.details["rotation"] = "enabled, " + days
	}
	if s.t.KMSAlias != "" {
		alias, err := s.key(s.t.KMSAlias)
		switch {
		case isNotFound(err):
			f.fail("create the alias "+s.t.KMSAlias+" (deploy again)", "alias %s does not exist", s.t.KMSAlias)
		case err != nil:
			f.err("describing alias "+s.t.KMSAlias, err)
		case alias.Arn != cmk.Arn:
			f.fail("point the alias at the stack's key (deploy again)", "alias %s points at %s, not the environment key %s", s.t.KMSAlias, alias.Arn, cmk.Arn)
		default:
			f.details["alias"] = s.t.KMSAlias
		}
	}
	f.details["key"] = cmk.Arn
	return f.result("the environment CMK is enabled, rotating, and its alias is present")
}

// alarmSpec is SPEC 2.4 for one alarm.
type alarmSpec struct {
	name, metric, table string
}

// alarmSpecs pairs each expected alarm with its metric and table. The
// names come from the target (stack outputs or MD_ALARM_NAMES), matched to
// tables by the SPEC suffixes "<table>-read-throttle" / "-write-throttle";
// the SPEC naming fills any the target lacks.
func (s *session) alarmSpecs() []alarmSpec {
	n := spec.For(s.t.Environment)
	tables := s.t.Tables()
	pick := func(want string, suffix string) string {
		for _, a := range s.t.AlarmNames {
			if strings.HasSuffix(a, suffix) {
				return a
			}
		}
		return want
	}
	var out []alarmSpec
	for _, t := range spec.TableSuffixes {
		out = append(out,
			alarmSpec{pick(n.ReadThrottleAlarm(t), "-"+t+"-read-throttle"), "ReadThrottleEvents", tables[t]},
			alarmSpec{pick(n.WriteThrottleAlarm(t), "-"+t+"-write-throttle"), "WriteThrottleEvents", tables[t]})
	}
	return out
}

// topicArn is the ops topic ARN, from the target or built from the account.
func (s *session) topicArn() (string, error) {
	if s.t.TopicArn != "" {
		return s.t.TopicArn, nil
	}
	acct, err := s.account()
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("arn:aws:sns:%s:%s:%s", s.t.Region, acct, s.t.TopicName), nil
}

func (s *session) checkAlarms(ctx context.Context) report.Check {
	defer s.closeAlarmRead()
	f := newFindings(IDAlarms)
	specs := s.alarmSpecs()
	names := make([]string, len(specs))
	for i, a := range specs {
		names[i] = a.name
	}
	if len(s.t.AlarmNames) != len(names) {
		f.warn("", "the target lists %d alarms %v; the SPEC has six: checking %v", len(s.t.AlarmNames), s.t.AlarmNames, names)
	}
	topic, topicErr := s.topicArn()
	deadline := time.Now().Add(s.opts.AlarmWait)
	var got map[string]cwtypes.MetricAlarm
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
		select {
		case <-ctx.Done():
			f.err("waiting for the alarms to leave INSUFFICIENT_DATA", ctx.Err())
			return f.result("")
		case <-time.After(min(s.opts.AlarmPoll, time.Until(deadline))):
		}
	}
	fix := fixDeploy + " (alarm settings come from the program)"
	for _, spec := range specs {
		a, ok := got[spec.name]
		if !ok {
			f.fail(fix, "alarm %s does not exist", spec.name)
			continue
		}
		bad := alarmProblems(spec, a, topic, topicErr == nil, s.opts.ExpectedThreshold)
		for _, p := range bad {
			f.fail(fix, "alarm %s %s", spec.name, p)
		}
		switch a.StateValue {
		case cwtypes.StateValueOk:
		case cwtypes.StateValueAlarm:
			f.fail("table "+spec.table+" is being throttled: look at its consumed capacity and the dashboard",
				"alarm %s is in ALARM: %s", spec.name, aws.ToString(a.StateReason))
		default:
			f.warn("alarms leave INSUFFICIENT_DATA a few minutes after a deploy; run again later or raise --alarm-wait",
				"alarm %s is still %s after waiting %s", spec.name, a.StateValue, s.opts.AlarmWait)
		}
		if len(bad) == 0 {
			f.details[spec.name] = fmt.Sprintf("%s, threshold %g", a.StateValue, aws.ToFloat64(a.Threshold))
		}
	}
	if topicErr != nil {
		f.warn("", "alarm actions not compared: the topic ARN is unknown (%v)", topicErr)
	}
	return f.result("the six throttle alarms are configured as SPEC 2.4 and in OK")
}

// alarmProblems lists how a deviates from SPEC 2.4.
func alarmProblems(spec alarmSpec, a cwtypes.MetricAlarm, topic string, checkActions bool, threshold float64) []string {
	var p []string
	want := func(what, got, exp string) {
		if got != exp {
			p = append(p, fmt.Sprintf("has %s %q, want %q", what, got, exp))
		}
	}
	want("namespace", aws.ToString(a.Namespace), "AWS/DynamoDB")
	want("metric", aws.ToString(a.MetricName), spec.metric)
	want("statistic", string(a.Statistic), string(cwtypes.StatisticSum))
	want("comparison", string(a.ComparisonOperator), string(cwtypes.ComparisonOperatorGreaterThanThreshold))
	want("missing-data treatment", aws.ToString(a.TreatMissingData), "notBreaching")
	dims := make([]string, 0, len(a.Dimensions))
	for _, d := range a.Dimensions {
		dims = append(dims, aws.ToString(d.Name)+"="+aws.ToString(d.Value))
	}
	want("dimensions", strings.Join(dims, ","), "TableName="+spec.table)
	if aws.ToInt32(a.Period) != 300 {
		p = append(p, fmt.Sprintf("has period %d s, want 300", aws.ToInt32(a.Period)))
	}
	if aws.ToInt32(a.EvaluationPeriods) != 2 {
		p = append(p, fmt.Sprintf("has %d evaluation periods, want 2", aws.ToInt32(a.EvaluationPeriods)))
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
		if !contains(a.AlarmActions, topic) {
			p = append(p, "does not notify "+topic+" on ALARM")
		}
		if !contains(a.OKActions, topic) {
			p = append(p, "does not notify "+topic+" on OK")
		}
	}
	return p
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
