// Package rehearse runs the whole Phase 4 cycle offline: the real program
// under Pulumi mocks whose resources are created in an in-process AWS
// emulator, the real gate, then exactly the post-deploy stage the driver
// runs after `up` (nonce bootstrap, verifier, rotation, E2E), with the real
// AWS SDK. A defect can be injected to watch the gate and the verifier
// catch it.
package rehearse

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/mirror-dissonance/mirror-infra/emulator"
	"github.com/mirror-dissonance/mirror-infra/internal/gate"
	"github.com/mirror-dissonance/mirror-infra/internal/mockrun"
	"github.com/mirror-dissonance/mirror-infra/internal/postdeploy"
	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/spec"
	"github.com/mirror-dissonance/mirror-infra/stacks/stackconfig"
	"github.com/mirror-dissonance/mirror-infra/verify"
	"github.com/mirror-dissonance/mirror-infra/verify/target"
)

// Defect is one realistic defect --break can inject.
type Defect struct {
	Name        string
	Description string
	// CaughtBy are the gate rule ("gate:<rule>") and verifier check ids
	// expected to fail.
	CaughtBy []string
	// mutate changes the program's declared inputs (a defect in the code).
	mutate mockrun.Mutator
	// after changes the environment after apply (a change made outside
	// Pulumi, which only the verifier can see).
	after func(ctx context.Context, cfg aws.Config, tgt target.Env) error
}

// Defects lists every injectable defect.
func Defects() []Defect {
	return []Defect{
		{Name: "pitr-off", Description: "the program turns point-in-time recovery off on the fp-events table",
			CaughtBy: []string{"gate:" + gate.RuleTablePITR, verify.IDPITR},
			mutate: onTable(spec.TableFPEvents, func(in map[string]any) {
				in["pointInTimeRecovery"] = map[string]any{"enabled": false}
			})},
		{Name: "sse-aws-owned", Description: "the program encrypts the consent table with the AWS-owned key instead of the CMK",
			CaughtBy: []string{"gate:" + gate.RuleTableSSE, verify.IDSSE},
			mutate: onTable(spec.TableConsent, func(in map[string]any) {
				in["serverSideEncryption"] = map[string]any{"enabled": false}
			})},
		{Name: "rotation-off", Description: "the program turns KMS key rotation off",
			CaughtBy: []string{"gate:" + gate.RuleKeyRotation, verify.IDKMS},
			mutate: func(typ, _ string, in map[string]any) {
				if typ == gate.TypeKey {
					in["enableKeyRotation"] = false
				}
			}},
		{Name: "topic-unencrypted", Description: "the program drops the ops topic's KMS key",
			CaughtBy: []string{"gate:" + gate.RuleTopicEncrypted, verify.IDSNS},
			mutate: func(typ, _ string, in map[string]any) {
				if typ == gate.TypeTopic {
					delete(in, "kmsMasterKeyId")
				}
			}},
		{Name: "alarm-no-actions", Description: "one alarm (fp-events read throttle) notifies nobody",
			CaughtBy: []string{"gate:" + gate.RuleAlarmActions, verify.IDAlarms},
			mutate: func(typ, name string, in map[string]any) {
				if typ == gate.TypeAlarm && name == spec.TableFPEvents+"-read-throttle" {
					in["alarmActions"], in["okActions"] = []any{}, []any{}
				}
			}},
		{Name: "alarm-missing-data", Description: "one alarm treats missing data as missing, so idle tables never reach OK",
			CaughtBy: []string{"gate:" + gate.RuleAlarmMissingData, verify.IDAlarms},
			mutate: func(typ, name string, in map[string]any) {
				if typ == gate.TypeAlarm && name == spec.TableConsent+"-write-throttle" {
					in["treatMissingData"] = "missing"
				}
			}},
		{Name: "role-trusts-pr", Description: "the deploy role also trusts pull_request tokens",
			CaughtBy: []string{"gate:" + gate.RuleWriteRolePR, verify.IDOIDC},
			mutate: func(typ, name string, in map[string]any) {
				if typ != gate.TypeRole || name != "github-deploy" {
					return
				}
				in["assumeRolePolicy"] = addSubject(in["assumeRolePolicy"], ":pull_request")
			}},
		{Name: "console-pitr-off", Description: "after the deploy someone turns PITR off on the block-counter table in the console",
			CaughtBy: []string{verify.IDPITR},
			after: func(ctx context.Context, cfg aws.Config, tgt target.Env) error {
				_, err := dynamodb.NewFromConfig(cfg).UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{
					TableName:                        aws.String(tgt.BlockCounterTable),
					PointInTimeRecoverySpecification: &ddbtypes.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(false)},
				})
				return err
			}},
		{Name: "nonce-plaintext", Description: "someone writes nonce v1 by hand as a plain String, not a SecureString",
			CaughtBy: []string{verify.IDNonce},
			after: func(ctx context.Context, cfg aws.Config, tgt target.Env) error {
				// A well-formed value, so only the parameter type is wrong.
				_, err := ssm.NewFromConfig(cfg).PutParameter(ctx, &ssm.PutParameterInput{
					Name: aws.String(tgt.NoncePrefix + "1"), Type: ssmtypes.ParameterTypeString,
					Value: aws.String(strings.Repeat("ab", 32)),
				})
				return err
			}},
	}
}

// FindDefect returns the defect called name.
func FindDefect(name string) (Defect, error) {
	var names []string
	for _, d := range Defects() {
		if d.Name == name {
			return d, nil
		}
		names = append(names, d.Name)
	}
	return Defect{}, fmt.Errorf("no defect %q (known: %s)", name, strings.Join(names, ", "))
}

func onTable(suffix string, f func(map[string]any)) mockrun.Mutator {
	return func(typ, name string, in map[string]any) {
		if typ == gate.TypeTable && name == suffix {
			f(in)
		}
	}
}

// addSubject appends "<repo prefix><suffix>" to a trust policy's subjects.
func addSubject(doc any, suffix string) any {
	s, _ := doc.(string)
	var p map[string]any
	if json.Unmarshal([]byte(s), &p) != nil {
		return doc
	}
	for _, st := range p["Statement"].([]any) {
		eq := st.(map[string]any)["Condition"].(map[string]any)["StringEquals"].(map[string]any)
		key := "token.actions.githubusercontent.com:sub"
		subs, _ := eq[key].([]any)
		if len(subs) == 0 {
			continue
		}
		first := fmt.Sprint(subs[0])
		repo := first[:strings.Index(first[len("repo:"):], ":")+len("repo:")]
		eq[key] = append(subs, repo+suffix)
	}
	b, _ := json.Marshal(p)
	return string(b)
}

// Options of a rehearsal.
type Options struct {
	// Break injects one defect by name (see Defects); empty for none.
	Break string
	// Logger receives progress; nil discards it.
	Logger *slog.Logger
}

// Result is a rehearsal's report plus what a test needs to look closer.
type Result struct {
	Report    *report.Report
	Resources []gate.Resource
	Outputs   map[string]any
	Unapplied map[string][]string
}

// Run rehearses the stack described by cfg. The error is for a rehearsal
// that could not run at all (an unknown defect, the emulator refusing a
// resource); check failures are in the report.
func Run(ctx context.Context, cfg stackconfig.Config, opts Options) (*Result, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var defect *Defect
	if opts.Break != "" {
		d, err := FindDefect(opts.Break)
		if err != nil {
			return nil, err
		}
		defect = &d
	}
	start := time.Now()
	rep := &report.Report{Command: "rehearse", Stack: cfg.Stack, Started: start}

	e := emulator.Start()
	defer e.Close()
	// As CloudWatch does after its first evaluation: idle alarms with
	// notBreaching go to OK; others stay INSUFFICIENT_DATA.
	e.EvaluateAlarms(0)
	awsCfg, err := e.Config(ctx)
	if err != nil {
		return nil, fmt.Errorf("configuring clients for the emulator: %w", err)
	}
	log.Info("emulator started", "url", e.URL)

	p := NewProvisioner(awsCfg, emulator.AccountID)
	// The emulator's state lives as long as the process: leave nothing
	// behind, so a second rehearsal in one process starts clean.
	defer func() {
		cleanCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if err := p.Teardown(cleanCtx); err != nil {
			log.Warn("removing the rehearsed resources from the emulator", "err", err)
		}
		if err := removeExtras(cleanCtx, awsCfg, cfg); err != nil {
			log.Warn("removing the rehearsal's nonce versions and queue", "err", err)
		}
	}()
	if !cfg.CreateOIDCProvider {
		// The provider exists once per account and another stack owns it;
		// the rehearsed account has it, as the real one would.
		if err := p.AccountOIDCProvider(ctx); err != nil {
			return nil, err
		}
	}
	var mutate mockrun.Mutator
	if defect != nil && defect.mutate != nil {
		mutate = defect.mutate
	}
	res, err := mockrun.RunWith(ctx, cfg, p, mutate)
	if err != nil {
		return nil, err
	}
	log.Info("program applied to the emulator", "resources", len(res.AWSResources()))
	rep.Add(provisionCheck(res, p.Unapplied()))

	findings := gate.Evaluate(res.Resources, gate.Options{Environment: cfg.Environment, DeletionProtection: cfg.DeletionProtection})
	rep.Add(gate.Checks(findings)...)
	log.Info("gate evaluated", "failed", gate.Failed(findings))

	tgt, err := target.FromOutputs(res.Outputs)
	if err != nil {
		return nil, fmt.Errorf("reading the rehearsed stack's outputs: %w", err)
	}
	queue, err := subscribeVerifier(ctx, awsCfg, tgt)
	if err != nil {
		rep.Add(report.Check{ID: "rehearse:subscriber", Status: report.Fail, Reason: err.Error(), Infra: true})
	} else {
		tgt.VerifyQueueURL = queue
	}
	tgt.FireAlarm = true
	if defect != nil && defect.after != nil {
		if err := defect.after(ctx, awsCfg, tgt); err != nil {
			return nil, fmt.Errorf("injecting defect %s: %w", defect.Name, err)
		}
		log.Info("defect injected after apply", "defect", defect.Name)
	}

	rep.Add(postdeploy.Run(ctx, awsCfg, tgt, postdeploy.Options{
		Verify: verify.Options{ExpectedThreshold: float64(cfg.ThrottleThreshold), AlarmPoll: 50 * time.Millisecond, AlertWait: 2 * time.Second},
	})...)
	if defect != nil {
		rep.Add(defectCheck(*defect, rep))
	}
	rep.Elapsed = time.Since(start).Round(time.Millisecond).String()
	for _, r := range res.AWSResources() {
		rep.Resources = append(rep.Resources, map[string]any{"type": r.Type, "name": r.Name})
	}
	return &Result{Report: rep, Resources: res.Resources, Outputs: res.Outputs, Unapplied: p.Unapplied()}, nil
}

// removeExtras deletes what the post-deploy stage and the rehearsal made
// outside the program: the nonce versions and the verification queue.
func removeExtras(ctx context.Context, cfg aws.Config, sc stackconfig.Config) error {
	names := spec.For(sc.Environment)
	var errs []error
	s := ssm.NewFromConfig(cfg)
	pages := ssm.NewGetParametersByPathPaginator(s, &ssm.GetParametersByPathInput{Path: aws.String(strings.TrimSuffix(names.NonceParameterPath(), "/")), Recursive: aws.Bool(true)})
	var params []string
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			errs = append(errs, fmt.Errorf("listing %s: %w", names.NonceParameterPath(), err))
			break
		}
		for _, p := range page.Parameters {
			params = append(params, aws.ToString(p.Name))
		}
	}
	for i := 0; i < len(params); i += 10 {
		if _, err := s.DeleteParameters(ctx, &ssm.DeleteParametersInput{Names: params[i:min(i+10, len(params))]}); err != nil {
			errs = append(errs, fmt.Errorf("deleting nonce versions: %w", err))
		}
	}
	q := sqs.NewFromConfig(cfg)
	if out, err := q.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(names.Resource("verify-alerts"))}); err == nil {
		if _, err := q.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: out.QueueUrl}); err != nil {
			errs = append(errs, fmt.Errorf("deleting the verification queue: %w", err))
		}
	}
	return errors.Join(errs...)
}

// provisionCheck says what reached the emulator and lists every input the
// mapping did not apply.
func provisionCheck(res mockrun.Result, unapplied map[string][]string) report.Check {
	c := report.Check{ID: "rehearse:provision", Status: report.Pass,
		Reason: fmt.Sprintf("%d AWS resources created in the emulator from the program's declared inputs", len(res.AWSResources()))}
	if len(unapplied) > 0 {
		c.Reason += "; inputs no check depends on and the emulator cannot hold: " + describeUnapplied(unapplied)
		c.Details = map[string]string{}
		for k, v := range unapplied {
			c.Details["not applied: "+k] = strings.Join(v, ", ")
		}
	}
	return c
}

// subscribeVerifier subscribes an SQS queue to the ops topic so the alert
// check can confirm delivery, as a real verification subscriber would.
func subscribeVerifier(ctx context.Context, cfg aws.Config, tgt target.Env) (string, error) {
	q := sqs.NewFromConfig(cfg)
	out, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(spec.For(tgt.Environment).Resource("verify-alerts"))})
	if err != nil {
		return "", fmt.Errorf("creating the verification queue: %w", err)
	}
	attrs, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: out.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		return "", fmt.Errorf("reading the verification queue ARN: %w", err)
	}
	if _, err := sns.NewFromConfig(cfg).Subscribe(ctx, &sns.SubscribeInput{
		TopicArn: aws.String(tgt.TopicArn), Protocol: aws.String("sqs"), Endpoint: aws.String(attrs.Attributes["QueueArn"]),
	}); err != nil {
		return "", fmt.Errorf("subscribing the verification queue to %s: %w", tgt.TopicArn, err)
	}
	return aws.ToString(out.QueueUrl), nil
}

// defectCheck says whether the injected defect was caught where expected.
func defectCheck(d Defect, rep *report.Report) report.Check {
	var caught, missed []string
	for _, id := range d.CaughtBy {
		if c, ok := rep.Find(id); ok && c.Status == report.Fail {
			caught = append(caught, id)
		} else {
			missed = append(missed, id)
		}
	}
	sort.Strings(caught)
	c := report.Check{ID: "rehearse:break", Details: map[string]string{"defect": d.Name}}
	if len(missed) > 0 {
		c.Status = report.Fail
		c.Reason = fmt.Sprintf("defect %s (%s) was NOT caught by %s", d.Name, d.Description, strings.Join(missed, ", "))
		c.Fix = "a gate rule or verifier check has a blind spot: fix it before trusting a deploy"
		return c
	}
	// The injected defect makes the run fail on purpose; this check says
	// which rule and check caught it.
	c.Status = report.Fail
	c.Reason = fmt.Sprintf("injected defect %s (%s) caught by %s", d.Name, d.Description, strings.Join(caught, " and "))
	c.Fix = "nothing to fix: this is the rehearsal of a defect; run without --break for a clean rehearsal"
	return c
}
