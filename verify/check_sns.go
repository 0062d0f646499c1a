package verify

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/spec"
)

// IDSNS is the id of the sns check.
const IDSNS = "sns"

func init() {
	register(check{Entry: Entry{ID: IDSNS, Writes: false,
		Summary: "the ops topic exists, is encrypted, CloudWatch can publish; subscriptions reported",
		Catches: []string{"key-policy-no-cloudwatch", "topic-unencrypted"}},
		rank: 70, run: (*session).checkSNS})
}

func (s *session) checkSNS(ctx context.Context) report.Check {
	f := newFindings(IDSNS)
	topic, err := s.topicArn()
	if f.failed("finding the topic ARN", err) {
		return f.result("")
	}
	out, err := s.c.SNS.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(topic)})
	if err == nil && (out == nil || out.Attributes["TopicArn"] == "") {
		err = incomplete("sns:GetTopicAttributes of "+topic, "the TopicArn attribute")
	}
	if f.absent(err, s.fixMissing("TopicArn", "MD_OPS_TOPIC_ARN"), "topic %s does not exist", topic) || f.failed("reading the attributes of "+topic, err) {
		return f.result("")
	}
	fix := "encrypt the topic with the environment CMK (" + s.tgt.KMSAlias + "); " + fixDeploy
	keyRef := out.Attributes["KmsMasterKeyId"]
	if keyRef == "" {
		f.fail(fix, "topic %s is not encrypted", topic)
	} else if cmk, err := s.cmk(); err != nil {
		f.warn("see the kms check", "topic %s uses key %s; not compared: the environment CMK could not be described", topic, keyRef)
	} else if ok, err := s.keyMatches(keyRef, cmk); err != nil {
		f.err("resolving the topic key "+keyRef, err)
	} else if !ok {
		f.fail(fix, "topic %s is encrypted with %s, not the environment CMK %s", topic, keyRef, cmk.Arn)
	} else {
		f.details["encryption"] = keyRef
		s.checkAlarmDelivery(ctx, f, topic, cmk)
	}
	if p := out.Attributes["Policy"]; p != "" && !policyAllowsService(p, spec.CloudWatchPrincipal, "sns:Publish") {
		f.warn("let "+spec.CloudWatchPrincipal+" publish to the topic (the stack's topic policy does): "+fixDeploy,
			"the policy of topic %s does not let CloudWatch publish, so alarm notifications are dropped", topic)
	}

	subs, err := s.c.SNS.ListSubscriptionsByTopic(ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(topic)})
	if err != nil {
		f.err("listing the subscriptions of "+topic, err)
		return f.result("")
	}
	var confirmed, pending []string
	for _, sub := range subs.Subscriptions {
		who := aws.ToString(sub.Protocol) + ":" + aws.ToString(sub.Endpoint)
		if aws.ToString(sub.SubscriptionArn) == "PendingConfirmation" {
			pending = append(pending, who)
		} else {
			confirmed = append(confirmed, who)
		}
	}
	f.details["subscriptions"] = fmt.Sprintf("%d confirmed, %d pending", len(confirmed), len(pending))
	if len(pending) > 0 {
		f.warn("the recipient must click the link in the AWS Notification confirmation email",
			"subscription(s) pending confirmation on %s: %s", topic, strings.Join(pending, ", "))
	}
	return f.result("the ops topic exists and is encrypted with the environment CMK")
}

// checkAlarmDelivery reads the CMK's policy: CloudWatch must be able to
// use the key, or no alarm notification ever reaches the encrypted topic
// (the original plan's defect, SPEC 9).
func (s *session) checkAlarmDelivery(ctx context.Context, f *findings, topic string, cmk keyInfo) {
	out, err := s.c.KMS.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: aws.String(cmk.Arn), PolicyName: aws.String("default")})
	if err != nil {
		f.err("reading the policy of KMS key "+cmk.Arn, err)
		return
	}
	if !policyAllowsService(aws.ToString(out.Policy), spec.CloudWatchPrincipal, alarmDeliveryCalls()...) {
		f.fail("grant "+spec.CloudWatchPrincipal+" "+strings.Join(spec.AlarmDeliveryActions, " and ")+" in the key policy: "+fixDeploy,
			"the policy of KMS key %s does not let %s use it, so alarm notifications cannot be published to %s", cmk.Arn, spec.CloudWatchPrincipal, topic)
	}
}

// alarmDeliveryCalls are the KMS calls behind spec.AlarmDeliveryActions:
// a key policy may grant "kms:GenerateDataKey" itself rather than the
// wildcard, and that is enough.
func alarmDeliveryCalls() []string {
	out := make([]string, len(spec.AlarmDeliveryActions))
	for i, a := range spec.AlarmDeliveryActions {
		out[i] = strings.TrimSuffix(a, "*")
	}
	return out
}

// policyAllowsService reports whether a policy document lets a service
// principal call every one of actions; an unreadable document allows
// nothing.
func policyAllowsService(doc, service string, actions ...string) bool {
	p, err := spec.ParsePolicy(doc)
	return err == nil && p.AllowsService(service, actions...)
}
