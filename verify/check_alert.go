package verify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/mirror-dissonance/mirror-infra/report"
)

// IDAlert is the id of the alert check.
const IDAlert = "alert"

func init() {
	register(check{Entry: Entry{ID: IDAlert, Writes: true,
		Summary: "publishes a test alert (and fires one alarm when asked) and sees it delivered",
		Catches: []string{}},
		rank: 80, run: (*session).checkAlert})
}

func (s *session) checkAlert(ctx context.Context) report.Check {
	f := newFindings(IDAlert)
	topic, err := s.topicArn()
	if f.failed("finding the topic ARN", err) {
		return f.result("")
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	runID := "md-verify-" + hex.EncodeToString(b[:])
	msg := fmt.Sprintf("Mirror Dissonance verifier test alert for %s (%s). No action needed.", s.tgt.Environment, runID)
	pub, err := s.c.SNS.Publish(ctx, &sns.PublishInput{
		TopicArn: aws.String(topic), Subject: aws.String("[test] mirror-dissonance " + s.tgt.Environment + " alerting"), Message: aws.String(msg),
	})
	if f.absent(err, s.fixMissing("TopicArn", "MD_OPS_TOPIC_ARN"), "cannot publish: topic %s does not exist", topic) || f.failed("publishing a test alert to "+topic, err) {
		return f.result("")
	}
	f.details["messageId"] = aws.ToString(pub.MessageId)
	f.details["marker"] = runID
	markers := []string{runID}

	if s.opts.FireAlarm {
		alarm := s.alarmSpecs()[0].Name
		if err := s.fireAlarm(ctx, alarm, runID); err != nil {
			f.err("firing alarm "+alarm, err)
			return f.result("")
		}
		f.details["fired"] = alarm + " ALARM then OK"
		// The alarm's notifications carry the state reason set here, which
		// the test alert's text does not contain.
		markers = append(markers, alarmReason(runID))
	}
	if s.tgt.VerifyQueueURL == "" {
		f.warn("subscribe an SQS queue to the topic and set MD_VERIFY_QUEUE_URL to confirm delivery automatically",
			"published test alert %s to %s; no verification subscriber is configured, so a person must confirm it arrived (look for %s)",
			aws.ToString(pub.MessageId), topic, runID)
		return f.result("")
	}
	missing, err := s.awaitDelivery(ctx, markers)
	if err != nil {
		f.err("reading the verification queue "+s.tgt.VerifyQueueURL, err)
		return f.result("")
	}
	if len(missing) > 0 {
		f.fail("check the topic policy, the key policy (SNS and CloudWatch need kms:GenerateDataKey*) and the queue's subscription",
			"no delivery to the verification queue within %s for: %s", s.opts.AlertWait, strings.Join(missing, ", "))
		return f.result("")
	}
	f.details["delivered"] = s.tgt.VerifyQueueURL
	return f.result("a test alert reached the verification subscriber")
}

// fireAlarm sets an alarm to ALARM and back to OK, as a real breach would,
// so the notification path from CloudWatch through the topic is exercised.
func (s *session) fireAlarm(ctx context.Context, alarm, runID string) error {
	select {
	case <-s.alarmsRead:
	case <-ctx.Done():
		return fmt.Errorf("waiting for the alarms check before firing %s: %w", alarm, ctx.Err())
	}
	for _, st := range []cwtypes.StateValue{cwtypes.StateValueAlarm, cwtypes.StateValueOk} {
		if _, err := s.c.CloudWatch.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{
			AlarmName: aws.String(alarm), StateValue: st, StateReason: aws.String(alarmReason(runID)),
		}); err != nil {
			return fmt.Errorf("setting %s to %s: %w", alarm, st, err)
		}
	}
	return nil
}

func alarmReason(runID string) string { return "verifier test (" + runID + ")" }

// alertVisibility is how long (seconds) a received message stays hidden
// from other receives. Short, because a receive whose answer is lost
// still hides the messages it took: ours must reappear well within
// AlertWait for the next receive to see them.
const alertVisibility = 2

// awaitDelivery reads the verification queue until every marker was seen
// or AlertWait passes, deleting the messages it recognises. It returns the
// markers not seen. A failed receive (throttled, dropped, its answer lost)
// does not end the wait: the next one is made while time remains. Markers
// still missing when receives failed are an error, not a verdict: the
// messages may have been in an answer that never arrived.
func (s *session) awaitDelivery(ctx context.Context, markers []string) ([]string, error) {
	seen := map[string]bool{}
	deadline := time.Now().Add(s.opts.AlertWait)
	defer s.opts.wait(ctx, fmt.Sprintf("the test alert's delivery to the verification queue (up to %s)", s.opts.AlertWait))()
	var recvErr error
	failures := 0
	for {
		// Long polls no longer than the visibility timeout: a message a
		// lost receive hid is then seen by the next poll, not after it.
		wait := int32(min(max(time.Until(deadline).Seconds(), 0), alertVisibility))
		out, err := s.c.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(s.tgt.VerifyQueueURL), MaxNumberOfMessages: 10, WaitTimeSeconds: wait, VisibilityTimeout: alertVisibility,
		})
		if err != nil {
			failures++
			recvErr = err
			s.log.Debug("receiving from the verification queue failed; polling again", "error", err, "failures", failures)
			out = &sqs.ReceiveMessageOutput{}
		}
		var del []sqstypes.DeleteMessageBatchRequestEntry
		for i, m := range out.Messages {
			body := aws.ToString(m.Body)
			ours := false
			for _, mk := range markers {
				if strings.Contains(body, mk) {
					seen[mk], ours = true, true
				}
			}
			if ours {
				del = append(del, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), ReceiptHandle: m.ReceiptHandle})
			}
		}
		if len(del) > 0 {
			// Deleting is idempotent, so the SDK's retries are safe; a
			// message left behind (its delete failed, or a retried
			// Publish delivered it twice) carries this run's marker only
			// and ages out of the queue.
			if _, err := s.c.SQS.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(s.tgt.VerifyQueueURL), Entries: del}); err != nil {
				s.log.Debug("could not delete verifier messages", "error", err)
			}
		}
		var missing []string
		for _, mk := range markers {
			if !seen[mk] {
				missing = append(missing, mk)
			}
		}
		if len(missing) == 0 {
			return nil, nil
		}
		if !time.Now().Before(deadline) || ctx.Err() != nil {
			if recvErr != nil {
				return missing, fmt.Errorf("not seen within %s, and %d receive(s) failed, so delivery is unproven (last: %w)", s.opts.AlertWait, failures, recvErr)
			}
			return missing, nil
		}
		pause := 100 * time.Millisecond
		if err != nil {
			// Back off a little more after a failure, still well within
			// the deadline.
			pause = min(time.Duration(failures)*250*time.Millisecond, 2*time.Second, max(time.Until(deadline), 0))
		}
		select {
		case <-ctx.Done():
		case <-time.After(pause):
		}
	}
}
