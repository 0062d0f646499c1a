package rehearse

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
)

func (p *Provisioner) readTopic(ctx context.Context, arn string, _ map[string]any) (map[string]any, error) {
	a, err := p.sns.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(arn)})
	if err != nil {
		return nil, err
	}
	out := map[string]any{"arn": arn, "name": arn[strings.LastIndex(arn, ":")+1:], "owner": a.Attributes["Owner"]}
	if k := a.Attributes["KmsMasterKeyId"]; k != "" {
		out["kmsMasterKeyId"] = k
	}
	tags, err := p.sns.ListTagsForResource(ctx, &sns.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
	if err != nil {
		return nil, fmt.Errorf("reading the tags of topic %s: %w", arn, err)
	}
	out["tags"] = anyTags(tags.Tags, func(t snstypes.Tag) (*string, *string) { return t.Key, t.Value })
	return out, nil
}

func (p *Provisioner) updateTopic(ctx context.Context, arn string, old, new map[string]any, changed []string) ([]string, error) {
	for _, k := range changed {
		var err error
		switch k {
		case "kmsMasterKeyId":
			_, err = p.sns.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{TopicArn: aws.String(arn),
				AttributeName: aws.String("KmsMasterKeyId"), AttributeValue: aws.String(str(new[k]))})
		case "tags":
			set, remove := tagChanges(old, new)
			if len(set) > 0 {
				_, err = p.sns.TagResource(ctx, &sns.TagResourceInput{ResourceArn: aws.String(arn), Tags: snsTags(set)})
			}
			if err == nil && len(remove) > 0 {
				_, err = p.sns.UntagResource(ctx, &sns.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: remove})
			}
		}
		if err != nil {
			return nil, fmt.Errorf("changing %s: %w", k, err)
		}
	}
	return unchanged(changed, "kmsMasterKeyId", "tags"), nil
}

func (p *Provisioner) readTopicPolicy(ctx context.Context, arn string, state map[string]any) (map[string]any, error) {
	a, err := p.sns.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(arn)})
	if err != nil {
		return nil, err
	}
	return map[string]any{"arn": arn, "owner": a.Attributes["Owner"], "policy": keepSpelling(state, "policy", a.Attributes["Policy"])}, nil
}

func (p *Provisioner) updateTopicPolicy(ctx context.Context, arn string, _, new map[string]any, changed []string) ([]string, error) {
	if len(unchanged(changed, "policy")) < len(changed) {
		if _, err := p.sns.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{TopicArn: aws.String(arn),
			AttributeName: aws.String("Policy"), AttributeValue: aws.String(str(new["policy"]))}); err != nil {
			return nil, err
		}
	}
	return unchanged(changed, "policy"), nil
}

// deleteTopicPolicy puts back the policy SNS gives a new topic: the
// owner's account may manage and publish.
func (p *Provisioner) deleteTopicPolicy(ctx context.Context, arn string) error {
	doc := fmt.Sprintf(`{"Version":"2008-10-17","Statement":[{"Sid":"__default_statement_ID","Effect":"Allow","Principal":{"AWS":"*"},`+
		`"Action":["SNS:Publish","SNS:GetTopicAttributes","SNS:SetTopicAttributes","SNS:Subscribe"],"Resource":%q,`+
		`"Condition":{"StringEquals":{"AWS:SourceOwner":%q}}}]}`, arn, p.AccountID)
	_, err := p.sns.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{TopicArn: aws.String(arn),
		AttributeName: aws.String("Policy"), AttributeValue: aws.String(doc)})
	return err
}

func (p *Provisioner) readSubscription(ctx context.Context, arn string, state map[string]any) (map[string]any, error) {
	a, err := p.sns.GetSubscriptionAttributes(ctx, &sns.GetSubscriptionAttributesInput{SubscriptionArn: aws.String(arn)})
	if err != nil {
		return nil, err
	}
	at := a.Attributes
	out := map[string]any{"arn": arn, "topic": at["TopicArn"], "protocol": at["Protocol"], "endpoint": at["Endpoint"],
		"ownerId": at["Owner"], "pendingConfirmation": at["PendingConfirmation"] == "true"}
	if raw := at["RawMessageDelivery"] == "true"; raw || state["rawMessageDelivery"] != nil {
		out["rawMessageDelivery"] = raw
	}
	return out, nil
}

func (p *Provisioner) updateSubscription(ctx context.Context, arn string, _, new map[string]any, changed []string) ([]string, error) {
	for _, k := range changed {
		if k == "rawMessageDelivery" {
			if _, err := p.sns.SetSubscriptionAttributes(ctx, &sns.SetSubscriptionAttributesInput{SubscriptionArn: aws.String(arn),
				AttributeName: aws.String("RawMessageDelivery"), AttributeValue: aws.String(fmt.Sprint(new[k] == true))}); err != nil {
				return nil, err
			}
		}
	}
	return unchanged(changed, "rawMessageDelivery"), nil
}
