// Package rehearse runs the whole Phase 4 cycle offline: the real program
// under Pulumi mocks whose resources are created in an in-process AWS
// emulator, the real gate, then exactly the post-deploy stage the driver
// runs after `up` (nonce bootstrap, verifier, rotation, E2E), with the real
// AWS SDK, and a restore drill. A defect can be injected to watch the gate and the verifier
// catch it.
package rehearse

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/mirror-dissonance/mirror-infra/emulator"
	"github.com/mirror-dissonance/mirror-infra/internal/gate"
	"github.com/mirror-dissonance/mirror-infra/internal/mockrun"
	"github.com/mirror-dissonance/mirror-infra/internal/postdeploy"
	"github.com/mirror-dissonance/mirror-infra/internal/recovery"
	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/spec"
	"github.com/mirror-dissonance/mirror-infra/stacks/stackconfig"
	"github.com/mirror-dissonance/mirror-infra/verify"
	"github.com/mirror-dissonance/mirror-infra/verify/target"
)

// Defect is one realistic defect --break can inject: a defect of the
// emulator's catalogue (same name, same resource, same deviation as a
// seeded one), made by the program or, as "console-<name>", by hand after
// the deploy.
type Defect struct {
	Name        string
	Description string
	// CaughtBy are the gate rule ("gate:<rule>") and verifier check ids
	// expected to report it, with the status CaughtAs.
	CaughtBy []string
	// CaughtAs is the status those checks report: FAIL, or WARN for a
	// defect the post-up stage repairs (a malformed newest nonce is
	// superseded by the bootstrap, and the verifier names the version
	// that was never valid).
	CaughtAs report.Status
	// Defect is the catalogue entry.
	Defect emulator.Defect
	// mutate changes the program's declared inputs (a defect in the code);
	// nil for a defect emulator.Inject makes after apply (a change outside
	// Pulumi, which only the verifier can see).
	mutate mockrun.Mutator
	// service, when set, breaks the emulated service itself rather than
	// the environment (Defect is then empty): what only a drill sees.
	service func(*emulator.Emulator)
}

// DefectRestoreDropsIndex is the service defect a restore drill must
// catch: restores leave out the tables' global secondary indexes.
const DefectRestoreDropsIndex = "restore-drops-index"

// consolePrefix names a program-made defect made by hand after the deploy.
const consolePrefix = "console-"

// Defects lists every injectable defect.
func Defects() []Defect {
	// program makes d through the program's inputs of the resource the
	// catalogue says it hits.
	program := func(d emulator.Defect, typ string, f func(in map[string]any), caughtBy ...string) Defect {
		info, _ := d.Info()
		return Defect{Name: string(d), Description: info.Description, CaughtBy: caughtBy, Defect: d,
			mutate: func(t, name string, in map[string]any) {
				if t == typ && (info.Resource == "" || name == info.Resource) {
					f(in)
				}
			}}
	}
	// bucket makes d through the inputs of one of the baselines bucket's
	// configuration resources; the program declares one of each type.
	bucket := func(d emulator.Defect, typ string, f func(in map[string]any), caughtBy ...string) Defect {
		info, _ := d.Info()
		return Defect{Name: string(d), Description: info.Description, CaughtBy: caughtBy, Defect: d,
			mutate: func(t, _ string, in map[string]any) {
				if t == typ {
					f(in)
				}
			}}
	}
	// outside makes d with emulator.Inject after apply.
	outside := func(d emulator.Defect, caughtBy ...string) Defect {
		info, _ := d.Info()
		name := string(d)
		if info.Origin == emulator.ByProgram {
			name = consolePrefix + name
		}
		return Defect{Name: name, Description: "by hand after the deploy: " + info.Description, CaughtBy: caughtBy, Defect: d, CaughtAs: report.Fail}
	}
	// repaired is an outside defect the post-up stage repairs.
	repaired := func(d emulator.Defect, caughtBy ...string) Defect {
		def := outside(d, caughtBy...)
		def.Description += " (the post-up bootstrap supersedes it: the way out the runbook gives)"
		def.CaughtAs = report.Warn
		return def
	}
	return []Defect{
		program(emulator.DefectPITROff, gate.TypeTable, func(in map[string]any) {
			in["pointInTimeRecovery"] = map[string]any{"enabled": false}
		}, "gate:"+gate.RuleTablePITR, verify.IDPITR),
		program(emulator.DefectTableAWSOwnedKey, gate.TypeTable, func(in map[string]any) {
			in["serverSideEncryption"] = map[string]any{"enabled": false}
		}, "gate:"+gate.RuleTableSSE, verify.IDSSE),
		program(emulator.DefectRotationOff, gate.TypeKey, func(in map[string]any) {
			in["enableKeyRotation"] = false
		}, "gate:"+gate.RuleKeyRotation, verify.IDKMS),
		program(emulator.DefectTopicUnencrypted, gate.TypeTopic, func(in map[string]any) {
			delete(in, "kmsMasterKeyId")
		}, "gate:"+gate.RuleTopicEncrypted, verify.IDSNS),
		program(emulator.DefectAlarmNoActions, gate.TypeAlarm, func(in map[string]any) {
			in["alarmActions"], in["okActions"] = []any{}, []any{}
		}, "gate:"+gate.RuleAlarmActions, verify.IDAlarms),
		program(emulator.DefectAlarmMisconfigured, gate.TypeAlarm, func(in map[string]any) {
			delete(in, "treatMissingData")
			in["threshold"] = float64(50)
		}, "gate:"+gate.RuleAlarmMissingData, verify.IDAlarms),
		program(emulator.DefectOIDCPullRequest, gate.TypeRole, func(in map[string]any) {
			in["assumeRolePolicy"] = addSubject(in["assumeRolePolicy"], ":pull_request")
		}, "gate:"+gate.RuleWriteRolePR, verify.IDOIDC),
		bucket(emulator.DefectBaselinesUnversioned, gate.TypeBucketVersioning, func(in map[string]any) {
			in["versioningConfiguration"] = map[string]any{"status": "Suspended"}
		}, "gate:"+gate.RuleBucketVersioned, verify.IDBaselines),
		bucket(emulator.DefectBaselinesWrongKey, gate.TypeBucketEncryption, func(in map[string]any) {
			for _, r := range asList(in["rules"]) {
				if d, _ := r["applyServerSideEncryptionByDefault"].(map[string]any); d != nil {
					d["kmsMasterKeyId"] = emulator.AWSManagedS3Key
				}
			}
		}, "gate:"+gate.RuleBucketSSE, verify.IDBaselines),
		bucket(emulator.DefectBaselinesPublic, gate.TypeBucketPublicAccessBlock, func(in map[string]any) {
			for _, k := range []string{"blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"} {
				in[k] = false
			}
		}, "gate:"+gate.RuleBucketPublicAccess, verify.IDBaselines),
		bucket(emulator.DefectBaselinesNoTLS, gate.TypeBucketPolicy, func(in map[string]any) {
			if name, _ := in["bucket"].(string); name != "" {
				if doc, err := emulator.ObjectsOnlyTLSPolicy(spec.Account{}.BucketArn(name)).JSON(); err == nil {
					in["policy"] = doc
				}
			}
		}, "gate:"+gate.RuleBucketTLS, verify.IDBaselines),
		outside(emulator.DefectPITROff, verify.IDPITR),
		repaired(emulator.DefectNonceString, verify.IDNonce),
		outside(emulator.DefectBaselinesPublic, verify.IDBaselines),
		{Name: DefectRestoreDropsIndex, Description: "a point-in-time restore drops the global secondary index (fp-events' " + spec.FindingIndex + ")",
			CaughtBy: []string{recovery.RehearsalCheckID}, service: func(e *emulator.Emulator) { e.BreakRestoreIndexes(true) }},
	}
}

// asList returns the maps of a declared list input.
func asList(v any) []map[string]any {
	l, _ := v.([]any)
	var out []map[string]any
	for _, x := range l {
		if m, ok := x.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// FindDefect returns the defect called name.
func FindDefect(name string) (Defect, error) {
	d, names, ok := findNamed(Defects(), func(d Defect) string { return d.Name }, name)
	if !ok {
		return d, fmt.Errorf("no defect %q (known: %s)", name, strings.Join(names, ", "))
	}
	return d, nil
}

// findNamed returns the item of list that nameOf calls want; when there
// is none, the zero item and every name there is.
func findNamed[T any](list []T, nameOf func(T) string, want string) (T, []string, bool) {
	var names []string
	for _, x := range list {
		if nameOf(x) == want {
			return x, nil, true
		}
		names = append(names, nameOf(x))
	}
	var zero T
	return zero, names, false
}

// addSubject appends "<repo prefix><suffix>" to a trust policy's subjects.
func addSubject(doc any, suffix string) any {
	p, err := spec.ParsePolicy(doc)
	if err != nil {
		return doc
	}
	for _, st := range p.Statement {
		subs := st.ConditionValues("StringEquals", spec.OIDCSubjectKey)
		if len(subs) == 0 {
			continue
		}
		repo, _, _ := strings.Cut(strings.TrimPrefix(subs[0], "repo:"), ":")
		st.Condition["StringEquals"][spec.OIDCSubjectKey] = append(subs, "repo:"+repo+suffix)
	}
	s, err := p.JSON()
	if err != nil {
		return doc
	}
	return s
}

// Options of a rehearsal.
type Options struct {
	// Break injects one defect by name (see Defects); empty for none.
	Break string
	// Logger receives progress; nil discards it.
	Logger *slog.Logger
	// From is "" (an empty account) or FromTerraform (an account holding
	// the environment the original Terraform modules made, adopted first).
	From string
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
	switch opts.From {
	case "":
	case FromTerraform:
		return runFromTerraform(ctx, cfg, opts, log)
	default:
		return nil, fmt.Errorf("--from %q is not known (allowed: %s)", opts.From, FromTerraform)
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

	e, awsCfg, err := startEmulator(ctx)
	if err != nil {
		return nil, err
	}
	defer e.Close()
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

	findings := gate.Evaluate(res.Resources, gate.OptionsFor(cfg, nil))
	rep.Add(gate.Checks(findings)...)
	log.Info("gate evaluated", "failed", gate.Failed(findings))

	tgt, err := target.FromOutputs(res.Outputs)
	if err != nil {
		return nil, fmt.Errorf("reading the rehearsed stack's outputs: %w", err)
	}
	// The alert check reads the stack's own verification subscriber
	// (verifyQueueUrl, SPEC 2.11), as on a real deploy: the rehearsal adds
	// none of its own.
	if defect != nil && defect.service != nil {
		defect.service(e)
		log.Info("service defect set", "defect", defect.Name)
	} else if defect != nil && defect.mutate == nil {
		if err := emulator.Inject(ctx, awsCfg, tgt, defect.Defect); err != nil {
			return nil, fmt.Errorf("injecting defect %s: %w", defect.Name, err)
		}
		log.Info("defect injected after apply", "defect", defect.Name)
	}

	rep.Add(postdeploy.Run(ctx, awsCfg, tgt, postdeployOptions(cfg))...)
	// The restore drill (SPEC 3.5), with restores of a fraction of a second.
	e.SetRestoreTiming(rehearsalRestoreDuration, rehearsalRestorableLag)
	rep.Add(recovery.RehearsalStep(ctx, awsCfg, tgt))
	log.Info("restore drill done")
	if defect != nil {
		rep.Add(defectCheck(*defect, rep))
	}
	finishReport(rep, start, res)
	return &Result{Report: rep, Resources: res.Resources, Outputs: res.Outputs, Unapplied: p.Unapplied()}, nil
}

// The restore timing of a rehearsal's drill: a real restore takes 20
// minutes or more; the rehearsal proves the steps, not the duration.
const (
	rehearsalRestoreDuration = 200 * time.Millisecond
	rehearsalRestorableLag   = 50 * time.Millisecond
)

// startEmulator starts an emulator whose alarms have had their first
// evaluation, and the AWS config of its clients; the caller closes it.
func startEmulator(ctx context.Context) (*emulator.Emulator, aws.Config, error) {
	e := emulator.Start()
	// As CloudWatch does after its first evaluation: idle alarms with
	// notBreaching go to OK; others stay INSUFFICIENT_DATA.
	e.EvaluateAlarms(0)
	awsCfg, err := e.Config(ctx)
	if err != nil {
		e.Close()
		return nil, aws.Config{}, fmt.Errorf("configuring clients for the emulator: %w", err)
	}
	return e, awsCfg, nil
}

// postdeployOptions are the post-deploy stage's options in a rehearsal:
// short waits against the emulator, a fired alarm, and a forced rotation.
func postdeployOptions(cfg stackconfig.Config) postdeploy.Options {
	return postdeploy.Options{
		Verify: verify.Options{ExpectedThreshold: float64(cfg.ThrottleThreshold), OracleSubjects: cfg.OracleSubjects,
			AlarmPoll: 50 * time.Millisecond, AlertWait: 2 * time.Second, FireAlarm: true},
		// The rehearsal proves the grace behaviour every time, due or not.
		Rotation: postdeploy.RotationPolicy{Force: true},
	}
}

// finishReport records the rehearsal's elapsed time and the AWS resources
// the run declared.
func finishReport(rep *report.Report, start time.Time, run mockrun.Result) {
	rep.Elapsed = time.Since(start).Round(time.Millisecond).String()
	for _, r := range run.AWSResources() {
		rep.Resources = append(rep.Resources, map[string]any{"type": r.Type, "name": r.Name})
	}
}

// removeExtras deletes what the post-deploy stage made outside the
// program: the nonce versions (the provisioner removes the program's
// resources, the verification queue among them).
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

// subscribeVerifier returns the stack's own verification queue from its
// outputs: the rehearsal no longer subscribes one of its own. It remains
// only for the adoption rehearsal (adopt.go), whose owner drops the call.
func subscribeVerifier(_ context.Context, _ aws.Config, tgt target.Env) (string, error) {
	return tgt.VerifyQueueURL, nil
}

// defectCheck says whether the injected defect was caught where expected.
// want is the status the catching checks report.
func (d Defect) want() report.Status {
	if d.CaughtAs == "" {
		return report.Fail
	}
	return d.CaughtAs
}

func defectCheck(d Defect, rep *report.Report) report.Check {
	var caught, missed []string
	for _, id := range d.CaughtBy {
		if c, ok := rep.Find(id); ok && c.Status == d.want() {
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
