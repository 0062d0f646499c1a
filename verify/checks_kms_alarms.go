package verify

import (
	"context"
	"fmt"
	"slices"
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
	if f.absent(err, s.fixMissing("KMSKey", "MD_KMS_KEY"), "KMS key %s does not exist", s.t.KMSKey) ||
		f.failed("describing KMS key "+s.t.KMSKey, err) {
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
		f.fail("enable rotation (aws kms enable-key-rotation); "+fixDeploy, "automatic rotation is off on KMS key %s", cmk.Arn)
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
			f.fail("check target.Env.KMSAlias (MD_KMS_ALIAS); if it is right, "+fixDeploy, "alias %s does not exist", s.t.KMSAlias)
		case err != nil:
			f.err("describing alias "+s.t.KMSAlias, err)
		case alias.Arn != cmk.Arn:
			f.fail("check that target.Env.KMSKey and KMSAlias (MD_KMS_KEY, MD_KMS_ALIAS) name one key; if they do, "+fixDeploy, "alias %s points at %s, not the environment key %s", s.t.KMSAlias, alias.Arn, cmk.Arn)
		default:
			f.details["alias"] = s.t.KMSAlias
		}
	}
	f.details["key"] = cmk.Arn
	return f.result("the environment CMK is enabled, rotating, and its alias is present")
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
	n := spec.For(s.t.Environment)
	tables := s.t.Tables()
	var out []alarmSpec
	for _, a := range n.ThrottleAlarms() {
		suffix := "-" + strings.TrimPrefix(a.Name, n.Prefix())
		for _, given := range s.t.AlarmNames {
			if strings.HasSuffix(given, suffix) {
				a.Name = given
				break
			}
		}
		out = append(out, alarmSpec{a, tables[a.Table]})
	}
	return out
}

// fromAccount returns given, or, when the target lacks it, the ARN build
// makes from the account the run found.
func (s *session) fromAccount(given string, build func(spec.Account) string) (string, error) {
	if given != "" {
		return given, nil
	}
	acct, err := s.account()
	if err != nil {
		return "", err
	}
	return build(spec.Account{ID: acct, Region: s.t.Region}), nil
}

// topicArn is the ops topic ARN, from the target or built from the account.
func (s *session) topicArn() (string, error) {
	return s.fromAccount(s.t.TopicArn, func(a spec.Account) string { return a.TopicArn(s.t.TopicName) })
}

func (s *session) checkAlarms(ctx context.Context) report.Check {
	defer s.closeAlarmRead()
	f := newFindings(IDAlarms)
	specs := s.alarmSpecs()
	names := make([]string, len(specs))
	for i, a := range specs {
		names[i] = a.Name
	}
	if len(s.t.AlarmNames) != len(names) {
		f.warn("", "the target lists %d alarms %v; the stack declares six: checking %v", len(s.t.AlarmNames), s.t.AlarmNames, names)
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
