package stacks

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sns"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sqs"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/mirror-dissonance/mirror-infra/spec"
)

// VerifyQueueArgs configure the verification subscriber.
type VerifyQueueArgs struct {
	Names   spec.Names
	Account spec.Account
	// KeyArn encrypts the queue (the environment key, whose policy lets SNS
	// use it for delivery).
	KeyArn pulumi.StringInput
	// TopicArn is the ops topic the queue subscribes to and the only
	// sender its policy accepts.
	TopicArn pulumi.StringInput
	Tags     Tags
}

// VerifyQueue is the verification subscriber of SPEC 2.11: an encrypted
// SQS queue subscribed to the ops topic, so the alert check proves delivery
// on a real deploy without flags.
type VerifyQueue struct {
	pulumi.ResourceState

	Queue        *sqs.Queue
	Policy       *sqs.QueuePolicy
	Subscription *sns.TopicSubscription
	URL          pulumi.StringOutput
}

// NewVerifyQueue declares the queue, its policy and the subscription.
func NewVerifyQueue(ctx *pulumi.Context, name string, args VerifyQueueArgs, opts ...pulumi.ResourceOption) (*VerifyQueue, error) {
	c := &VerifyQueue{}
	if err := ctx.RegisterComponentResource("mirror-dissonance:stacks:VerifyQueue", name, c, opts...); err != nil {
		return nil, fmt.Errorf("registering component %s: %w", name, err)
	}
	qName := args.Names.VerifyQueue()
	q, err := sqs.NewQueue(ctx, name, &sqs.QueueArgs{
		Name:           pulumi.String(qName),
		KmsMasterKeyId: args.KeyArn,
		// A test alert is read within minutes; nothing needs it for long.
		MessageRetentionSeconds: pulumi.Int(spec.VerifyQueueRetentionSeconds),
		Tags:                    args.Tags.For(qName, "verification subscriber"),
	}, pulumi.Parent(c))
	if err != nil {
		return nil, fmt.Errorf("declaring queue %s: %w", qName, err)
	}
	// Built from derived ARNs so a preview and the gate know the policy.
	queueArn := args.Account.QueueArn(qName)
	doc := args.TopicArn.ToStringOutput().ApplyT(func(topic string) (string, error) {
		return spec.VerifyQueuePolicy(args.Account, queueArn, topic).JSON()
	}).(pulumi.StringOutput)
	p, err := sqs.NewQueuePolicy(ctx, name+"-policy", &sqs.QueuePolicyArgs{QueueUrl: q.Url, Policy: doc}, pulumi.Parent(c))
	if err != nil {
		return nil, fmt.Errorf("declaring the policy of queue %s: %w", qName, err)
	}
	// The policy exists before the subscription, so SNS's first delivery
	// is accepted.
	s, err := sns.NewTopicSubscription(ctx, name+"-subscription", &sns.TopicSubscriptionArgs{
		Topic: args.TopicArn, Protocol: pulumi.String("sqs"), Endpoint: q.Arn,
		// The alert check reads SNS's envelope (subject, topic ARN).
		RawMessageDelivery: pulumi.Bool(false),
	}, pulumi.Parent(c), pulumi.DependsOn([]pulumi.Resource{p}))
	if err != nil {
		return nil, fmt.Errorf("subscribing queue %s to the ops topic: %w", qName, err)
	}
	c.Queue, c.Policy, c.Subscription, c.URL = q, p, s, q.Url
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{"url": q.Url, "arn": q.Arn}); err != nil {
		return nil, fmt.Errorf("registering outputs of %s: %w", name, err)
	}
	return c, nil
}
