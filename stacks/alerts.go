package stacks

import (
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sns"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/mirror-dissonance/mirror-infra/spec"
)

// OpsTopicArgs configure the encrypted ops alert topic.
type OpsTopicArgs struct {
	Names   spec.Names
	Account spec.Account
	// KeyArn encrypts the topic.
	KeyArn pulumi.StringInput
	// AlertEmail is subscribed when not empty.
	AlertEmail string
	Tags       Tags
}

// OpsTopic is the SNS topic alarms notify (SPEC 2.3).
type OpsTopic struct {
	pulumi.ResourceState

	Topic        *sns.Topic
	Policy       *sns.TopicPolicy
	Subscription *sns.TopicSubscription // nil without AlertEmail
	Arn          pulumi.StringOutput
}

// NewOpsTopic declares the topic, its policy and the optional subscription.
func NewOpsTopic(ctx *pulumi.Context, name string, args OpsTopicArgs, opts ...pulumi.ResourceOption) (*OpsTopic, error) {
	c := &OpsTopic{}
	if err := ctx.RegisterComponentResource("mirror-dissonance:stacks:OpsTopic", name, c, opts...); err != nil {
		return nil, fmt.Errorf("registering component %s: %w", name, err)
	}
	topicName := args.Names.Topic()
	t, err := sns.NewTopic(ctx, name, &sns.TopicArgs{
		Name:           pulumi.String(topicName),
		KmsMasterKeyId: args.KeyArn,
		Tags:           args.Tags.For(topicName, "operations alerts"),
	}, pulumi.Parent(c))
	if err != nil {
		return nil, fmt.Errorf("declaring topic %s: %w", topicName, err)
	}
	doc := t.Arn.ApplyT(func(arn string) (string, error) {
		return spec.TopicPolicy(args.Account, arn, args.Names).JSON()
	}).(pulumi.StringOutput)
	p, err := sns.NewTopicPolicy(ctx, name+"-policy", &sns.TopicPolicyArgs{Arn: t.Arn, Policy: doc}, pulumi.Parent(c))
	if err != nil {
		return nil, fmt.Errorf("declaring policy of topic %s: %w", topicName, err)
	}
	c.Topic, c.Policy, c.Arn = t, p, t.Arn
	if args.AlertEmail != "" {
		// Confirmation is a human step; the verifier reports it as pending.
		s, err := sns.NewTopicSubscription(ctx, name+"-email", &sns.TopicSubscriptionArgs{
			Topic: t.Arn, Protocol: pulumi.String("email"), Endpoint: pulumi.String(args.AlertEmail),
		}, pulumi.Parent(c))
		if err != nil {
			return nil, fmt.Errorf("declaring e-mail subscription of %s: %w", topicName, err)
		}
		c.Subscription = s
	}
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{"arn": t.Arn}); err != nil {
		return nil, fmt.Errorf("registering outputs of %s: %w", name, err)
	}
	return c, nil
}

// ThrottleAlarmsArgs configure the six throttle alarms.
type ThrottleAlarmsArgs struct {
	Names     spec.Names
	Tables    *Tables
	TopicArn  pulumi.StringInput
	Threshold int
	Tags      Tags
}

// ThrottleAlarms are one read and one write throttle alarm per table.
type ThrottleAlarms struct {
	pulumi.ResourceState

	Alarms []*cloudwatch.MetricAlarm
	Names  []string
	Arns   pulumi.StringArrayOutput
}

// NewThrottleAlarms declares the alarms. Missing data is not breaching, so
// idle tables sit in OK.
func NewThrottleAlarms(ctx *pulumi.Context, name string, args ThrottleAlarmsArgs, opts ...pulumi.ResourceOption) (*ThrottleAlarms, error) {
	c := &ThrottleAlarms{}
	if err := ctx.RegisterComponentResource("mirror-dissonance:stacks:ThrottleAlarms", name, c, opts...); err != nil {
		return nil, fmt.Errorf("registering component %s: %w", name, err)
	}
	var arnInputs pulumi.StringArray
	for _, al := range args.Names.ThrottleAlarms() {
		a, err := cloudwatch.NewMetricAlarm(ctx, al.Table+"-"+al.Op+"-throttle", &cloudwatch.MetricAlarmArgs{
			Name:               pulumi.String(al.Name),
			AlarmDescription:   pulumi.Sprintf("%s throttle events on %s", al.Op, al.TableName),
			Namespace:          pulumi.String(spec.AlarmNamespace),
			MetricName:         pulumi.String(al.Metric),
			Dimensions:         pulumi.StringMap{spec.AlarmDimension: args.Tables.Tables[al.Table].Name},
			Statistic:          pulumi.String(spec.AlarmStatistic),
			Period:             pulumi.Int(spec.AlarmPeriod),
			EvaluationPeriods:  pulumi.Int(spec.AlarmEvaluationPeriods),
			ComparisonOperator: pulumi.String(spec.AlarmComparison),
			Threshold:          pulumi.Float64(float64(args.Threshold)),
			TreatMissingData:   pulumi.String(spec.AlarmTreatMissingData),
			ActionsEnabled:     pulumi.Bool(true),
			AlarmActions:       pulumi.Array{args.TopicArn},
			OkActions:          pulumi.Array{args.TopicArn},
			Tags:               args.Tags.For(al.Name, "throttle alarm"),
		}, pulumi.Parent(c))
		if err != nil {
			return nil, fmt.Errorf("declaring alarm %s: %w", al.Name, err)
		}
		c.Alarms = append(c.Alarms, a)
		c.Names = append(c.Names, al.Name)
		arnInputs = append(arnInputs, a.Arn)
	}
	c.Arns = arnInputs.ToStringArrayOutput()
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{"arns": c.Arns}); err != nil {
		return nil, fmt.Errorf("registering outputs of %s: %w", name, err)
	}
	return c, nil
}

// DashboardArgs configure the environment dashboard.
type DashboardArgs struct {
	Names     spec.Names
	Region    string
	AlarmArns pulumi.StringArrayInput
}

// Dashboard is the CloudWatch dashboard of SPEC 2.5.
type Dashboard struct {
	pulumi.ResourceState

	Dashboard *cloudwatch.Dashboard
	Name      pulumi.StringOutput
}

// DashboardBody renders the dashboard: per table consumed capacity and
// throttle events (each with its TableName dimension) and an alarm-status
// widget over the six alarms.
func DashboardBody(names spec.Names, region string, alarmArns []string) (string, error) {
	type widget struct {
		Type       string         `json:"type"`
		X          int            `json:"x"`
		Y          int            `json:"y"`
		Width      int            `json:"width"`
		Height     int            `json:"height"`
		Properties map[string]any `json:"properties"`
	}
	var ws []widget
	ws = append(ws, widget{Type: "alarm", X: 0, Y: 0, Width: 24, Height: 3, Properties: map[string]any{
		"title": "Throttle alarms", "alarms": alarmArns,
	}})
	for i, suffix := range spec.TableSuffixes {
		table := names.Table(suffix)
		metric := func(m string) []any { return []any{spec.AlarmNamespace, m, spec.AlarmDimension, table} }
		ws = append(ws,
			widget{Type: "metric", X: 0, Y: 3 + 6*i, Width: 12, Height: 6, Properties: map[string]any{
				"title": table + " consumed capacity", "region": region, "stat": spec.AlarmStatistic, "period": spec.AlarmPeriod,
				"metrics": [][]any{metric("ConsumedReadCapacityUnits"), metric("ConsumedWriteCapacityUnits")},
			}},
			widget{Type: "metric", X: 12, Y: 3 + 6*i, Width: 12, Height: 6, Properties: map[string]any{
				"title": table + " throttle events", "region": region, "stat": spec.AlarmStatistic, "period": spec.AlarmPeriod,
				"metrics": [][]any{metric(spec.MetricReadThrottle), metric(spec.MetricWriteThrottle)},
			}})
	}
	b, err := json.Marshal(map[string]any{"widgets": ws})
	if err != nil {
		return "", fmt.Errorf("rendering dashboard body: %w", err)
	}
	return string(b), nil
}

// NewDashboard declares the dashboard.
func NewDashboard(ctx *pulumi.Context, name string, args DashboardArgs, opts ...pulumi.ResourceOption) (*Dashboard, error) {
	c := &Dashboard{}
	if err := ctx.RegisterComponentResource("mirror-dissonance:stacks:Dashboard", name, c, opts...); err != nil {
		return nil, fmt.Errorf("registering component %s: %w", name, err)
	}
	body := args.AlarmArns.ToStringArrayOutput().ApplyT(func(a []string) (string, error) {
		return DashboardBody(args.Names, args.Region, a)
	}).(pulumi.StringOutput)
	d, err := cloudwatch.NewDashboard(ctx, name, &cloudwatch.DashboardArgs{
		DashboardName: pulumi.String(args.Names.Dashboard()),
		DashboardBody: body,
	}, pulumi.Parent(c))
	if err != nil {
		return nil, fmt.Errorf("declaring dashboard %s: %w", args.Names.Dashboard(), err)
	}
	c.Dashboard, c.Name = d, d.DashboardName
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{"name": d.DashboardName}); err != nil {
		return nil, fmt.Errorf("registering outputs of %s: %w", name, err)
	}
	return c, nil
}
