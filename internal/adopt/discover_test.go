package adopt_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/mirror-dissonance/mirror-infra/emulator"
	"github.com/mirror-dissonance/mirror-infra/internal/adopt"
	"github.com/mirror-dissonance/mirror-infra/internal/gate"
	"github.com/mirror-dissonance/mirror-infra/internal/mockrun"
	"github.com/mirror-dissonance/mirror-infra/spec"
	"github.com/mirror-dissonance/mirror-infra/stacks/stackconfig"
)

// Issue 21, finding 8: the account ids come from the account discovered,
// so the existing verification subscription (queue ARN in the account's
// id) is matched by topic and endpoint and imported, not planned again;
// and only the e-mail subscription carries the Terraform address of the
// original's e-mail subscription.
func TestDiscoverMatchesTheVerificationSubscriptionInTheRealAccount(t *testing.T) {
	ctx := context.Background()
	e := emulator.Start()
	t.Cleanup(e.Close)
	cfg, err := e.Config(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const env = "staging"
	tf, err := emulator.SeedTerraform(ctx, cfg, emulator.TerraformOptions{Env: env})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tf.Teardown(context.Background()) })
	n := spec.For(env)
	// The verification queue and its subscription exist already.
	q, err := sqs.NewFromConfig(cfg).CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(n.VerifyQueue())})
	if err != nil {
		t.Fatal(err)
	}
	qa, err := sqs.NewFromConfig(cfg).GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	queueArn := qa.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]
	if strings.Contains(queueArn, mockrun.Account) {
		t.Fatalf("the emulator's account must differ from the mocks' for this test: %s", queueArn)
	}
	topic := spec.Account{ID: emulator.AccountID, Region: cfg.Region}.TopicArn(n.Topic())
	sub, err := sns.NewFromConfig(cfg).Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(topic), Protocol: aws.String("sqs"),
		Endpoint: aws.String(queueArn), ReturnSubscriptionArn: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = sns.NewFromConfig(cfg).Unsubscribe(context.Background(), &sns.UnsubscribeInput{SubscriptionArn: sub.SubscriptionArn})
		_, _ = sqs.NewFromConfig(cfg).DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: q.QueueUrl})
	})

	sc, err := stackconfig.Parse(env, map[string]string{
		"mirror-dissonance:environment": env, "mirror-dissonance:githubRepository": "acme/mirror-infra",
		"mirror-dissonance:oracleSubjects": `["repo:acme/oracle:environment:staging"]`, "mirror-dissonance:createOidcProvider": "true",
		"mirror-dissonance:alertEmail": "ops@example.com", "mirror-dissonance:verificationQueue": "true", "aws:region": cfg.Region,
	})
	if err != nil {
		t.Fatal(err)
	}
	plan, err := adopt.Discover(ctx, cfg, sc, nil)
	if err != nil {
		t.Fatal(err)
	}
	if plan.Account != emulator.AccountID {
		t.Errorf("plan account %s, want %s", plan.Account, emulator.AccountID)
	}
	var subs int
	for _, en := range plan.Entries {
		if en.Type != gate.TypeSubscription {
			continue
		}
		subs++
		switch {
		case strings.HasSuffix(en.Name, adopt.EmailSubscriptionSuffix):
			if en.Terraform != "module.cloudwatch.aws_sns_topic_subscription.ops_alerts_email[0]" || en.Action != adopt.ActionCreate {
				t.Errorf("e-mail subscription: %+v", en)
			}
		default:
			if en.Action != adopt.ActionImport || en.ImportID != aws.ToString(sub.SubscriptionArn) {
				t.Errorf("verification subscription %s (%s): action %s id %q, want import of %s", en.Name, en.Physical, en.Action, en.ImportID, aws.ToString(sub.SubscriptionArn))
			}
			if en.Terraform != "" {
				t.Errorf("verification subscription mapped to the Terraform address %s", en.Terraform)
			}
			if strings.Contains(en.Physical, mockrun.Account) {
				t.Errorf("verification subscription planned with the mocks' account: %s", en.Physical)
			}
		}
	}
	if subs != 2 {
		t.Errorf("%d subscriptions planned, want the e-mail and the verification one", subs)
	}
}
