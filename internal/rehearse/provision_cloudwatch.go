package rehearse

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/mirror-dissonance/mirror-infra/internal/provider"
)

func (p *Provisioner) readAlarm(ctx context.Context, name string, state map[string]any) (map[string]any, error) {
	d, err := p.cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{name}, AlarmTypes: []cwtypes.AlarmType{cwtypes.AlarmTypeMetricAlarm}})
	if err != nil {
		return nil, err
	}
	if len(d.MetricAlarms) == 0 {
		return nil, provider.ErrNotFound
	}
	a := d.MetricAlarms[0]
	dims := map[string]any{}
	for _, x := range a.Dimensions {
		dims[aws.ToString(x.Name)] = aws.ToString(x.Value)
	}
	out := map[string]any{
		"name": aws.ToString(a.AlarmName), "arn": aws.ToString(a.AlarmArn), "alarmDescription": aws.ToString(a.AlarmDescription),
		"namespace": aws.ToString(a.Namespace), "metricName": aws.ToString(a.MetricName), "statistic": string(a.Statistic),
		"period": float64(aws.ToInt32(a.Period)), "evaluationPeriods": float64(aws.ToInt32(a.EvaluationPeriods)),
		"comparisonOperator": string(a.ComparisonOperator), "threshold": aws.ToFloat64(a.Threshold),
		"actionsEnabled": aws.ToBool(a.ActionsEnabled), "alarmActions": strList(a.AlarmActions), "okActions": strList(a.OKActions),
		"dimensions": dims,
	}
	if t := aws.ToString(a.TreatMissingData); t != "" {
		out["treatMissingData"] = t
	} else if state["treatMissingData"] != nil {
		// CloudWatch's default, as the provider records it.
		out["treatMissingData"] = "missing"
	}
	tags, err := p.cw.ListTagsForResource(ctx, &cloudwatch.ListTagsForResourceInput{ResourceARN: a.AlarmArn})
	if err != nil {
		return nil, fmt.Errorf("reading the tags of alarm %s: %w", name, err)
	}
	out["tags"] = anyTags(tags.Tags, func(t cwtypes.Tag) (*string, *string) { return t.Key, t.Value })
	return out, nil
}

// updateAlarm puts the whole alarm again (PutMetricAlarm replaces every
// setting), then changes the tags.
func (p *Provisioner) updateAlarm(ctx context.Context, name string, old, new map[string]any, changed []string) ([]string, error) {
	settings := unchanged(changed, "tags")
	if len(settings) > 0 {
		in := &inputs{m: withoutTags(new), used: map[string]bool{}}
		if _, _, err := p.alarm(ctx, in); err != nil {
			return nil, err
		}
		if left := in.leftovers(); len(left) > 0 {
			return left, nil
		}
	}
	if len(settings) < len(changed) {
		arn := aws.String(str(old["arn"]))
		set, remove := tagChanges(old, new)
		if len(set) > 0 {
			if _, err := p.cw.TagResource(ctx, &cloudwatch.TagResourceInput{ResourceARN: arn, Tags: cwTags(set)}); err != nil {
				return nil, err
			}
		}
		if len(remove) > 0 {
			if _, err := p.cw.UntagResource(ctx, &cloudwatch.UntagResourceInput{ResourceARN: arn, TagKeys: remove}); err != nil {
				return nil, err
			}
		}
	}
	return nil, nil
}

// withoutTags is in without its tags (a put must not re-tag).
func withoutTags(in map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range in {
		if k != "tags" && k != "arn" {
			out[k] = v
		}
	}
	return out
}

func (p *Provisioner) readDashboard(ctx context.Context, name string, state map[string]any) (map[string]any, error) {
	d, err := p.cw.GetDashboard(ctx, &cloudwatch.GetDashboardInput{DashboardName: aws.String(name)})
	if err != nil {
		return nil, err
	}
	return map[string]any{"dashboardName": name, "dashboardArn": aws.ToString(d.DashboardArn),
		"dashboardBody": keepSpelling(state, "dashboardBody", aws.ToString(d.DashboardBody))}, nil
}

func (p *Provisioner) updateDashboard(ctx context.Context, name string, _, new map[string]any, changed []string) ([]string, error) {
	if _, err := p.cw.PutDashboard(ctx, &cloudwatch.PutDashboardInput{DashboardName: aws.String(name), DashboardBody: aws.String(str(new["dashboardBody"]))}); err != nil {
		return nil, err
	}
	return unchanged(changed, "dashboardBody"), nil
}

func strList(l []string) []any {
	out := make([]any, len(l))
	for i, s := range l {
		out[i] = s
	}
	return out
}
