package rehearse

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

func (p *Provisioner) readQueue(ctx context.Context, url string, _ map[string]any) (map[string]any, error) {
	a, err := p.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll}})
	if err != nil {
		return nil, err
	}
	at := a.Attributes
	out := map[string]any{"url": url, "arn": at[string(sqstypes.QueueAttributeNameQueueArn)], "name": url[strings.LastIndex(url, "/")+1:]}
	if k := at[string(sqstypes.QueueAttributeNameKmsMasterKeyId)]; k != "" {
		out["kmsMasterKeyId"] = k
	}
	if r, err := strconv.Atoi(at[string(sqstypes.QueueAttributeNameMessageRetentionPeriod)]); err == nil {
		out["messageRetentionSeconds"] = float64(r)
	}
	tags, err := p.sqs.ListQueueTags(ctx, &sqs.ListQueueTagsInput{QueueUrl: aws.String(url)})
	if err != nil {
		return nil, fmt.Errorf("reading the tags of queue %s: %w", url, err)
	}
	t := map[string]any{}
	for k, v := range tags.Tags {
		t[k] = v
	}
	out["tags"] = t
	return out, nil
}

func (p *Provisioner) updateQueue(ctx context.Context, url string, old, new map[string]any, changed []string) ([]string, error) {
	attrs := map[string]string{}
	for _, k := range changed {
		switch k {
		case "kmsMasterKeyId":
			attrs[string(sqstypes.QueueAttributeNameKmsMasterKeyId)] = str(new[k])
		case "messageRetentionSeconds":
			attrs[string(sqstypes.QueueAttributeNameMessageRetentionPeriod)] = fmt.Sprint(int(num(new[k])))
		case "tags":
			set, remove := tagChanges(old, new)
			if len(set) > 0 {
				if _, err := p.sqs.TagQueue(ctx, &sqs.TagQueueInput{QueueUrl: aws.String(url), Tags: stringTags(set)}); err != nil {
					return nil, err
				}
			}
			if len(remove) > 0 {
				if _, err := p.sqs.UntagQueue(ctx, &sqs.UntagQueueInput{QueueUrl: aws.String(url), TagKeys: remove}); err != nil {
					return nil, err
				}
			}
		}
	}
	if len(attrs) > 0 {
		if _, err := p.sqs.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(url), Attributes: attrs}); err != nil {
			return nil, err
		}
	}
	return unchanged(changed, "kmsMasterKeyId", "messageRetentionSeconds", "tags"), nil
}

func (p *Provisioner) readQueuePolicy(ctx context.Context, url string, state map[string]any) (map[string]any, error) {
	a, err := p.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNamePolicy}})
	if err != nil {
		return nil, err
	}
	return map[string]any{"queueUrl": url, "policy": keepSpelling(state, "policy", a.Attributes[string(sqstypes.QueueAttributeNamePolicy)])}, nil
}

func (p *Provisioner) updateQueuePolicy(ctx context.Context, url string, _, new map[string]any, changed []string) ([]string, error) {
	if _, err := p.sqs.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(url),
		Attributes: map[string]string{string(sqstypes.QueueAttributeNamePolicy): str(new["policy"])}}); err != nil {
		return nil, err
	}
	return unchanged(changed, "policy"), nil
}
