// Package e2e runs the Phase 4 proof, "PR to Oracle to FP event to drift
// detection", against a deployed environment: a synthetic pull
// request with a unique run id goes through the Oracle, its FP events are
// read back by rule and by finding, one is marked a false positive, drift
// detection keeps its baseline in the baselines bucket as the Oracle does
// and runs on a temporary tree (unchanged, then tampered), recording its
// event, and everything the run wrote (items and every baseline version)
// is removed at the end, even when a step fails. Each step is a
// report.Check; the first check, id "e2e", sums them up for the verifier
// catalogue.
//
// While it runs, a run holds a lease: one block-counter item, shaped as a
// valid empty bucket so that the data check accepts it and the Oracle
// (which reads buckets by its own rule and org ids) never meets it:
//
//	bucketKey  "e2e-lease:e2e-<run id>:1970-01-01T00:00:00.000Z" (LeaseKey)
//	count      0
//	e2eRunId   <run id> (the E2E marker)
//	leaseUntil expiry, epoch ms (renewed every third of Options.Lease)
//	timestamp  last renewal, epoch ms
//	expiresAt  leaseUntil + LeaseTTLMargin, epoch s (the table's TTL)
//
// What a killed run left carries its marker; Sweep removes it once the
// lease has lapsed (at most Options.Lease after the kill), never while it
// is live. Its drift tree is md-e2e-drift-<run id>-* in Options.TempDir.
//
// Run is bounded: Options.Timeout (default 2 minutes) limits the steps, and
// an endpoint that cannot be reached at all is found by the verifier's
// probe (verify.Probe) before anything is written. Cleanup runs even when a
// step failed or the deadline passed, on its own context: it gets up to
// CleanupTimeout, and never more than CleanupGrace past the run's deadline.
package e2e

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/mirror-dissonance/mirror-infra/awsclient"
	"github.com/mirror-dissonance/mirror-infra/oracle"
	"github.com/mirror-dissonance/mirror-infra/oracle/breaker"
	"github.com/mirror-dissonance/mirror-infra/oracle/consent"
	"github.com/mirror-dissonance/mirror-infra/oracle/drift"
	"github.com/mirror-dissonance/mirror-infra/oracle/fpevents"
	"github.com/mirror-dissonance/mirror-infra/oracle/nonce"
	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/spec"
	"github.com/mirror-dissonance/mirror-infra/verify/target"
)

// Bounds of a run (see the package comment).
const (
	// DefaultTimeout bounds the steps when Options.Timeout is 0.
	DefaultTimeout = 2 * time.Minute
	// CleanupTimeout is the most cleanup gets.
	CleanupTimeout = 30 * time.Second
	// CleanupGrace is how far past the run's deadline cleanup may go.
	CleanupGrace = 10 * time.Second
)

// CheckID is the catalogue id of the summary check.
const CheckID = "e2e"

// Step ids, in the order they run; each check's id is "e2e." + step.
const (
	StepNonce        = "nonce"
	StepConsent      = "consent"
	StepPullRequest  = "pull-request"
	StepReadByRule   = "read-by-rule"
	StepReadFinding  = "read-by-finding"
	StepMarkFP       = "mark-false-positive"
	StepDrift        = "drift"
	StepCleanup      = "cleanup"
	stepCheckPrefix  = CheckID + "."
	syntheticRepo    = "mirror-dissonance-e2e"
	syntheticOrgBase = "e2e-"
)

// Steps lists the step ids in order.
var Steps = []string{StepNonce, StepConsent, StepPullRequest, StepReadByRule, StepReadFinding, StepMarkFP, StepDrift, StepCleanup}

// DynamoDB is the part of the DynamoDB client the cycle uses.
type DynamoDB interface {
	fpevents.API
	consent.API
	breaker.API
}

// Clients are the AWS clients the cycle needs.
type Clients struct {
	DynamoDB DynamoDB
	SSM      nonce.SSMAPI
	// S3 reaches the baselines bucket.
	S3 drift.ObjectAPI
	// STS answers the reachability probe made before any step; nil skips
	// the probe.
	STS awsclient.STSAPI
}

// NewClients builds the clients from an AWS config, as verify.NewClients
// does. With a custom endpoint (an emulator, AWS_ENDPOINT_URL) S3 is
// addressed path-style, since such endpoints have no per-bucket host names.
func NewClients(cfg aws.Config) Clients {
	return Clients{
		DynamoDB: dynamodb.NewFromConfig(cfg),
		SSM:      ssm.NewFromConfig(cfg),
		S3:       awsclient.NewS3(cfg),
		STS:      sts.NewFromConfig(cfg),
	}
}

// Options tune a run.
type Options struct {
	// RunID makes every key the run writes unique (random when empty).
	RunID string
	// TempDir is where the drift tree is made (os.TempDir when empty).
	TempDir string
	// Logger receives the Oracle's dependency-failure logs.
	Logger *slog.Logger
	// Now is the clock (time.Now if nil).
	Now func() time.Time
	// NonceGrace is the rotation grace period (nonce.DefaultGrace if 0).
	NonceGrace time.Duration
	// Timeout bounds the steps (DefaultTimeout if 0); ctx's own deadline
	// applies too. Cleanup runs after it (see CleanupGrace).
	Timeout time.Duration
	// IndexWait bounds how long a read through FindingIndex waits for an
	// item written moments before (DefaultIndexWait if 0): DynamoDB's
	// global secondary indexes are eventually consistent.
	IndexWait time.Duration
	// Lease is how long the run's lease lasts unless renewed (DefaultLease
	// if 0, at least MinLease); it is renewed every third of it.
	Lease time.Duration
}

// DefaultIndexWait is how long a read through the index retries by default.
const DefaultIndexWait = 10 * time.Second

// byFindingWhen reads a finding's events through the index until ok holds
// or IndexWait has passed, backing off between tries: right after a write
// the index may not show it yet. Base-table reads need no such wait; they
// are strongly consistent.
func (r *run) byFindingWhen(ctx context.Context, findingID string, ok func([]fpevents.Event) bool) ([]fpevents.Event, error) {
	wait := cmp.Or(r.opts.IndexWait, DefaultIndexWait)
	deadline := time.Now().Add(wait)
	pause := 25 * time.Millisecond
	for {
		evs, err := r.fp.ByFinding(ctx, findingID)
		if err != nil || ok(evs) {
			return evs, err
		}
		if time.Now().Add(pause).After(deadline) {
			return evs, fmt.Errorf("finding %s: %w after %s (%d event(s) visible through %s; raise e2e.Options.IndexWait if the table is busy)", findingID, ErrIndexLag, wait, len(evs), fpevents.FindingIndex)
		}
		select {
		case <-ctx.Done():
			return evs, ctx.Err()
		case <-time.After(pause):
		}
		pause = min(2*pause, time.Second)
	}
}

// ErrIndexLag means a write did not show up through the index in time.
var ErrIndexLag = errors.New("not visible through the index yet")

// run is the state one cycle shares between its steps.
type run struct {
	id     string
	env    target.Env
	opts   Options
	now    func() time.Time
	fp     *fpevents.Store
	cons   *consent.Store
	count  *breaker.Counter
	nonce  *nonce.Store
	base   drift.Store
	set    *nonce.Set
	pr     oracle.PullRequest
	dec    oracle.Decision
	rules  []string
	orgID  string
	evalAt time.Time
	driftF string
	// repoID names the run's throwaway baseline in the bucket.
	repoID string
}

// Run runs the cycle against tgt and returns a report (command "e2e") of
// the summary check followed by one check per step, as verify.Run returns
// its checks; report.ExitCode gives 3 for an infrastructure failure. It
// returns within Options.Timeout (or ctx's deadline, whichever is sooner)
// plus at most CleanupGrace.
func Run(ctx context.Context, c Clients, tgt target.Env, opts Options) *report.Report {
	started := clockOf(opts)()
	r := &report.Report{Command: "e2e", Started: started}
	r.Add(run1(ctx, c, tgt, opts)...)
	r.Elapsed = time.Since(started).Round(time.Millisecond).String()
	return r
}

func clockOf(opts Options) func() time.Time {
	if opts.Now != nil {
		return opts.Now
	}
	return time.Now
}

// run1 is one cycle's checks: the summary, then the steps.
func run1(ctx context.Context, c Clients, env target.Env, opts Options) []report.Check {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, cmp.Or(max(opts.Timeout, 0), DefaultTimeout))
	defer cancel()
	r := newRun(c, env, opts)
	// One cheap call first, as the verifier makes: an endpoint that cannot
	// be reached is reported once, before anything is written (so there
	// is nothing to clean up either).
	if c.STS != nil {
		if _, err := awsclient.Probe(ctx, c.STS); err != nil {
			return r.unreachable(err, start)
		}
	}
	// The lease before anything is written: a sweep must see it before it
	// can meet any item of the run.
	// Without it no step runs, but cleanup does: the put may have taken
	// effect although its answer was lost.
	ls := &lease{db: c.DynamoDB, table: env.BlockCounterTable, run: r.id, d: max(cmp.Or(opts.Lease, DefaultLease), MinLease)}
	leaseErr := ls.acquire(ctx)
	holdCtx, stopHold := context.WithCancel(context.WithoutCancel(ctx))
	defer stopHold()
	stepsCtx, lose := context.WithCancelCause(ctx)
	defer lose(nil)
	held := make(chan struct{})
	go func() {
		defer close(held)
		if leaseErr == nil {
			ls.hold(holdCtx, lose)
		}
	}()
	steps := []struct {
		id string
		fn func(context.Context) (string, error)
	}{
		{StepNonce, r.stepNonce},
		{StepConsent, r.stepConsent},
		{StepPullRequest, r.stepPullRequest},
		{StepReadByRule, r.stepReadByRule},
		{StepReadFinding, r.stepReadByFinding},
		{StepMarkFP, r.stepMarkFP},
		{StepDrift, r.stepDrift},
	}
	checks := []report.Check{{ID: CheckID}}
	failed := ""
	for _, s := range steps {
		if leaseErr != nil {
			checks = append(checks, report.Check{ID: stepCheckPrefix + s.id, Status: report.Skip, Reason: "not run: the run has no lease (reported on " + CheckID + ")"})
			continue
		}
		if failed != "" {
			checks = append(checks, report.Check{ID: stepCheckPrefix + s.id, Status: report.Skip, Reason: "skipped: step " + failed + " failed"})
			continue
		}
		c := runStep(stepsCtx, s.id, s.fn)
		if c.Status == report.Fail {
			failed = s.id
			if cause := context.Cause(stepsCtx); errors.Is(cause, ErrLeaseLost) {
				c.Reason += "; stopped: " + cause.Error()
			}
		}
		checks = append(checks, c)
	}
	// Cleanup runs whatever happened, on a context that a cancelled run
	// does not cancel, so an interrupted cycle still removes its items.
	cleanCtx, cancelClean := cleanupContext(ctx)
	defer cancelClean()
	checks = append(checks, runStep(cleanCtx, StepCleanup, func(ctx context.Context) (string, error) {
		// The lease is held through the cleanup, then released.
		reason, err := r.stepCleanup(ctx)
		stopHold()
		<-held
		if rerr := ls.release(ctx); rerr != nil {
			return reason, errors.Join(err, rerr)
		}
		return reason, err
	}))

	sum := &checks[0]
	sum.Details = map[string]string{"runId": r.id}
	var bad []string
	if leaseErr != nil {
		bad = append(bad, "lease ("+leaseErr.Error()+")")
		sum.Infra = isInfra(leaseErr)
	}
	for _, c := range checks[1:] {
		sum.Details[strings.TrimPrefix(c.ID, stepCheckPrefix)] = string(c.Status)
		if c.Status == report.Fail {
			bad = append(bad, strings.TrimPrefix(c.ID, stepCheckPrefix))
			sum.Infra = sum.Infra || c.Infra
		}
	}
	sum.Duration = time.Since(start)
	if len(bad) == 0 {
		sum.Status = report.Pass
		sum.Reason = fmt.Sprintf("PR to Oracle to FP event to drift detection: all %d steps observed; run %s left nothing behind", len(Steps), r.id)
		return checks
	}
	sum.Status = report.Fail
	sum.Reason = "failed step(s): " + strings.Join(bad, ", ")
	if failed != "" {
		sum.Reason += "; first failure: " + checkByID(checks, stepCheckPrefix+failed).Reason
	}
	sum.Fix = "see the failed step's check; cleanup status: " + string(checks[len(checks)-1].Status)
	return checks
}

// cleanupContext outlives ctx's cancellation but is bounded: CleanupTimeout
// from now, and no later than CleanupGrace past ctx's deadline.
func cleanupContext(ctx context.Context) (context.Context, context.CancelFunc) {
	limit := CleanupTimeout
	if dl, ok := ctx.Deadline(); ok {
		limit = min(limit, time.Until(dl.Add(CleanupGrace)))
	}
	return context.WithTimeout(context.WithoutCancel(ctx), limit)
}

// unreachable is the result of a run whose probe failed: the failure once,
// on the summary, and every step not run.
func (r *run) unreachable(err error, start time.Time) []report.Check {
	sum := report.Check{ID: CheckID, Status: report.Fail, Infra: true,
		Reason:  fmt.Sprintf("AWS unreachable: %v; steps not run: %s (nothing was written)", err, strings.Join(Steps, ", ")),
		Fix:     awsclient.UnreachableFix,
		Details: map[string]string{"runId": r.id}}
	checks := []report.Check{sum}
	for _, s := range Steps {
		checks[0].Details[s] = string(report.Skip)
		checks = append(checks, report.Check{ID: stepCheckPrefix + s, Status: report.Skip, Reason: "not run: AWS unreachable (reported on " + CheckID + ")"})
	}
	checks[0].Duration = time.Since(start)
	return checks
}

func checkByID(cs []report.Check, id string) report.Check {
	for _, c := range cs {
		if c.ID == id {
			return c
		}
	}
	return report.Check{}
}

// Check runs the cycle and returns only the summary check.
func Check(ctx context.Context, c Clients, tgt target.Env, opts Options) report.Check {
	return Run(ctx, c, tgt, opts).Checks[0]
}

func runStep(ctx context.Context, id string, fn func(context.Context) (string, error)) report.Check {
	start := time.Now()
	reason, err := fn(ctx)
	c := report.Check{ID: stepCheckPrefix + id, Status: report.Pass, Reason: reason, Duration: time.Since(start)}
	if err != nil {
		c.Status = report.Fail
		c.Reason = err.Error()
		c.Infra = isInfra(err)
		c.Fix = fixFor(id, err)
	}
	return c
}

// isInfra tells an unreachable or refusing endpoint from a wrong answer.
func isInfra(err error) bool {
	if errors.Is(err, nonce.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var oe *smithy.OperationError
	return errors.As(err, &oe)
}

func fixFor(step string, err error) string {
	switch {
	case step == StepNonce && errors.Is(err, nonce.ErrNoValidNonce):
		return "write a nonce version under target.Env.NoncePrefix (nonce.Store.Bootstrap; in mirror-infra: go run ./automation nonce rotate <stack> --from 0), or point NoncePrefix (MD_NONCE_PREFIX) at the environment's"
	case errors.Is(err, context.DeadlineExceeded):
		return "raise Options.Timeout (--timeout on the command line) or the context's deadline if the environment is slow; otherwise check the endpoint"
	case isInfra(err):
		return "check the endpoint (AWS_ENDPOINT_URL or the aws.Config's BaseEndpoint) and that the aws.Config's credentials may read and write the three tables, read /guardian/<env>/ and use the baselines bucket"
	default:
		return ""
	}
}

func newRun(c Clients, env target.Env, opts Options) *run {
	id := opts.RunID
	if id == "" {
		b := make([]byte, 6)
		_, _ = rand.Read(b)
		id = hex.EncodeToString(b)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	r := &run{id: id, env: env, opts: opts, now: now}
	// Every item carries the E2E marker and an expiry (see Sweep), so a
	// run killed before its cleanup leaves nothing a sweep cannot find.
	r.fp = &fpevents.Store{Client: c.DynamoDB, Table: env.FPEventsTable, Now: now, Marker: id, Retention: ItemRetention}
	r.cons = &consent.Store{Client: c.DynamoDB, Table: env.ConsentTable, Now: now, Marker: id}
	r.count = &breaker.Counter{Client: c.DynamoDB, Table: env.BlockCounterTable, Now: now, Marker: id}
	r.nonce = nonce.New(c.SSM, env.Environment, env.NoncePrefix, env.KMSKey, cmp.Or(max(opts.NonceGrace, 0), nonce.DefaultGrace))
	r.nonce.Now = now
	org := syntheticOrgBase + id
	// The Oracle keys block counters by the org as passed (not hashed).
	r.orgID = org
	rule := func(s string) string { return "e2e-" + id + "-" + s }
	r.rules = []string{rule("secrets"), rule("style"), rule("drift")}
	r.driftF = "e2e-" + id + "-drift"
	r.repoID = syntheticOrgBase + id + "/" + syntheticRepo
	r.base = drift.Store{Client: c.S3, Bucket: env.BaselinesBucket, Metadata: map[string]string{MarkerMetadata: id}}
	r.pr = oracle.PullRequest{
		Org: org, Repo: syntheticRepo, Number: 1, Branch: "e2e/" + id, Commit: id, Author: "e2e-bot",
		Findings: []oracle.Finding{
			{RuleID: r.rules[0], RuleVersion: "1", FindingID: "e2e-" + id + "-f1", Severity: "critical"},
			{RuleID: r.rules[1], RuleVersion: "2", FindingID: "e2e-" + id + "-f2", Severity: "medium"},
			{RuleID: r.rules[1], RuleVersion: "2", FindingID: "e2e-" + id + "-f3", Severity: "low"},
		},
	}
	return r
}

func (r *run) stepNonce(ctx context.Context) (string, error) {
	set, err := r.nonce.ValidSet(ctx)
	if err != nil {
		return "", fmt.Errorf("loading the nonce (fail closed): %w", err)
	}
	r.set = set
	return fmt.Sprintf("%s under %s (grace %s)", set, r.env.NoncePrefix, r.nonce.Grace), nil
}

func (r *run) stepConsent(ctx context.Context) (string, error) {
	if err := r.cons.Grant(ctx, r.pr.Org, oracle.DefaultConsentResource, consent.Grant{By: "e2e-" + r.id, For: time.Hour, PolicyVersion: "e2e"}); err != nil {
		return "", fmt.Errorf("granting consent to the synthetic organisation: %w", err)
	}
	st, err := r.cons.Check(ctx, r.pr.Org, oracle.DefaultConsentResource)
	if err != nil {
		return "", fmt.Errorf("checking consent: %w", err)
	}
	if !st.Allowed {
		return "", fmt.Errorf("consent reads back as %s after granting it", st.State)
	}
	return "consent granted and read back for the synthetic organisation (hashed key)", nil
}

func (r *run) stepPullRequest(ctx context.Context) (string, error) {
	o := &oracle.Oracle{Nonce: r.nonce, Consent: r.cons, FP: r.fp, Counter: r.count, Now: r.now, Logger: r.opts.Logger}
	r.evalAt = r.now()
	d, err := o.Evaluate(ctx, r.pr)
	r.dec = d
	if err != nil {
		return "", fmt.Errorf("the Oracle failed on the synthetic PR: %w", err)
	}
	if len(d.Failures) > 0 {
		return "", fmt.Errorf("the Oracle decided with degraded dependencies: %s %s: %s", d.Failures[0].Dependency, d.Failures[0].Mode, d.Failures[0].Error)
	}
	want := []string{fpevents.OutcomeBlock, fpevents.OutcomeWarn, fpevents.OutcomePass}
	if d.Outcome != oracle.Block || len(d.Findings) != len(want) {
		return "", fmt.Errorf("decision %s with %d finding(s), want block with %d", d.Outcome, len(d.Findings), len(want))
	}
	for i, fd := range d.Findings {
		if fd.Outcome != want[i] || fd.Event.PK == "" {
			return "", fmt.Errorf("finding %s: outcome %q, event %q; want %s and a recorded event", fd.FindingID, fd.Outcome, fd.Event.SK, want[i])
		}
	}
	if d.Signature == nil {
		return "", fmt.Errorf("the decision is not signed")
	}
	signedBy, err := r.set.VerifyRedacted(*d.Signature, oracle.SignedPayload(r.pr, d))
	if err != nil {
		return "", fmt.Errorf("decision signature does not verify: %w", err)
	}
	return fmt.Sprintf("decision %s (block, warn, pass), %d FP events recorded, signed with v%d", d.Outcome, len(d.Events()), signedBy), nil
}

func (r *run) stepReadByRule(ctx context.Context) (string, error) {
	want := map[string]int{r.rules[0]: 1, r.rules[1]: 2}
	total := 0
	for _, rule := range r.rules[:2] {
		evs, err := r.fp.ByRule(ctx, rule, fpevents.Query{})
		if err != nil {
			return "", err
		}
		if len(evs) != want[rule] {
			return "", fmt.Errorf("rule %s has %d events, want %d", rule, len(evs), want[rule])
		}
		for _, ev := range evs {
			if ev.Context.Commit != r.id || ev.Context.EventType != fpevents.EventPullRequest {
				return "", fmt.Errorf("event %s of %s has context %+v", ev.EventID, rule, ev.Context)
			}
		}
		total += len(evs)
	}
	return fmt.Sprintf("%d events read back by rule, newest first", total), nil
}

func (r *run) stepReadByFinding(ctx context.Context) (string, error) {
	for _, fd := range r.dec.Findings {
		evs, err := r.byFindingWhen(ctx, fd.FindingID, func(evs []fpevents.Event) bool { return len(evs) > 0 })
		if err != nil {
			return "", err
		}
		if len(evs) != 1 || evs[0].Key() != fd.Event || evs[0].Outcome != fd.Outcome {
			return "", fmt.Errorf("finding %s reads back %d event(s) through %s, want its one %s event", fd.FindingID, len(evs), fpevents.FindingIndex, fd.Outcome)
		}
	}
	return fmt.Sprintf("%d findings read back through %s", len(r.dec.Findings), fpevents.FindingIndex), nil
}

func (r *run) stepMarkFP(ctx context.Context) (string, error) {
	fd := r.dec.Findings[0]
	if err := r.fp.MarkFalsePositive(ctx, fd.Event, "e2e-"+r.id); err != nil {
		return "", err
	}
	// The review updates the item in place; the index shows the update
	// eventually.
	evs, err := r.byFindingWhen(ctx, fd.FindingID, func(evs []fpevents.Event) bool {
		return len(evs) == 1 && evs[0].IsFalsePositive && evs[0].Reviewed()
	})
	if err != nil && !errors.Is(err, ErrIndexLag) {
		return "", err
	}
	if len(evs) != 1 || !evs[0].IsFalsePositive || !evs[0].Reviewed() {
		return "", fmt.Errorf("finding %s does not read back as a reviewed false positive", fd.FindingID)
	}
	st, err := r.fp.WindowStats(ctx, fd.RuleID, r.evalAt.Add(-time.Minute))
	if err != nil {
		return "", err
	}
	if st.FalsePositives != 1 || st.ObservedFPRate != 1 {
		return "", fmt.Errorf("window statistics of %s: %d false positives, rate %.2f; want 1 and 1.00", fd.RuleID, st.FalsePositives, st.ObservedFPRate)
	}
	return fmt.Sprintf("finding %s marked false positive; window FP rate of its rule 1.00", fd.FindingID), nil
}

func (r *run) stepDrift(ctx context.Context) (string, error) {
	// The run id in the name lets a sweep tell a dead run's tree.
	root, err := os.MkdirTemp(r.opts.TempDir, driftDirPrefix+r.id+"-")
	if err != nil {
		return "", fmt.Errorf("making the drift tree: %w", err)
	}
	defer os.RemoveAll(root)
	var paths []string
	for i := range 5 {
		p := fmt.Sprintf("policy/rule-%d.yaml", i)
		if err := writeFile(root, p, fmt.Sprintf("rule: %d\nrun: %s\n", i, r.id)); err != nil {
			return "", err
		}
		paths = append(paths, p)
	}
	snap, err := drift.Snapshot(root, paths, r.now())
	if err != nil {
		return "", err
	}
	// The baseline goes where the Oracle keeps it, and the comparisons use
	// what is read back, so the bucket's round trip is part of the proof.
	if _, err := r.base.Put(ctx, r.repoID, snap); err != nil {
		return "", err
	}
	base, found, err := r.base.Get(ctx, r.repoID)
	if err != nil {
		return "", err
	}
	if !found || len(base.Files) != len(snap.Files) {
		return "", fmt.Errorf("baseline %s reads back from s3://%s as %d file(s) (found %v), want %d", r.repoID, r.base.Bucket, len(base.Files), found, len(snap.Files))
	}
	d := drift.Detector{Recorder: r.fp, RuleID: r.rules[2], RuleVersion: "1",
		Context: fpevents.Context{Repo: r.pr.Org + "/" + syntheticRepo, Branch: r.pr.Branch, Commit: r.id}}
	res, ev, err := d.Run(ctx, root, base, r.driftF)
	if err != nil {
		return "", err
	}
	if res.Drift || ev != nil || res.Changed != 0 {
		return "", fmt.Errorf("unchanged tree reported %d/%d changed, drift %v", res.Changed, res.Tracked, res.Drift)
	}
	for _, p := range paths[:2] {
		if err := writeFile(root, p, "tampered\n"); err != nil {
			return "", err
		}
	}
	res, ev, err = d.Run(ctx, root, base, r.driftF)
	if err != nil {
		return "", err
	}
	if !res.Drift || ev == nil {
		return "", fmt.Errorf("tampered tree: magnitude %.2f, drift %v; want drift above %.2f", res.Magnitude, res.Drift, res.Threshold)
	}
	evs, err := r.byFindingWhen(ctx, r.driftF, func(evs []fpevents.Event) bool { return len(evs) > 0 })
	if err != nil {
		return "", err
	}
	if len(evs) != 1 || evs[0].Context.EventType != fpevents.EventDrift {
		return "", fmt.Errorf("drift event reads back as %d event(s), want one with eventType=drift", len(evs))
	}
	return fmt.Sprintf("baseline kept at s3://%s/%s; unchanged tree: no drift; tampered tree: magnitude %.2f > %.2f, drift event recorded", r.base.Bucket, spec.BaselineKey(r.repoID), res.Magnitude, res.Threshold), nil
}

func writeFile(root, p, content string) error {
	full := filepath.Join(root, filepath.FromSlash(p))
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		return fmt.Errorf("making %s: %w", filepath.Dir(p), err)
	}
	if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", p, err)
	}
	return nil
}

// stepCleanup deletes everything the run can have written, found by its
// unique rule ids rather than by what earlier steps remember, so that items
// whose write succeeded after an error are removed too; then it checks that
// nothing is left.
func (r *run) stepCleanup(ctx context.Context) (string, error) {
	var errs []error
	deleted := 0
	for _, rule := range r.rules {
		evs, err := r.fp.ByRule(ctx, rule, fpevents.Query{})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, ev := range evs {
			if err := r.fp.Delete(ctx, ev.Key()); err != nil {
				errs = append(errs, err)
				continue
			}
			deleted++
		}
	}
	if err := r.cons.Delete(ctx, r.pr.Org); err != nil {
		errs = append(errs, err)
	}
	// The Oracle counted blocks only for the blocking rule, in the hour of
	// the evaluation.
	at := r.evalAt
	if at.IsZero() {
		at = r.now()
	}
	if err := r.count.Delete(ctx, r.rules[0], r.orgID, at); err != nil {
		errs = append(errs, err)
	}
	// An evaluation that straddled the hour may have counted in the next.
	if later := r.now(); !r.evalAt.IsZero() && breaker.BucketKey("", "", later) != breaker.BucketKey("", "", at) {
		if err := r.count.Delete(ctx, r.rules[0], r.orgID, later); err != nil {
			errs = append(errs, err)
		}
	}
	purged, err := r.base.Purge(ctx, r.repoID)
	if err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return "", fmt.Errorf("cleanup of run %s incomplete: %w", r.id, errors.Join(errs...))
	}
	// Verify nothing is left.
	for _, rule := range r.rules {
		evs, err := r.fp.ByRule(ctx, rule, fpevents.Query{Limit: 1})
		if err != nil {
			return "", fmt.Errorf("verifying cleanup: %w", err)
		}
		if len(evs) > 0 {
			return "", fmt.Errorf("rule %s still has events after cleanup", rule)
		}
	}
	if st, err := r.cons.Check(ctx, r.pr.Org, oracle.DefaultConsentResource); err != nil || st.State != consent.None {
		return "", fmt.Errorf("consent record still present after cleanup (state %s, err %v)", st.State, err)
	}
	counter := *r.count
	counter.Now = func() time.Time { return at }
	if n, err := counter.Count(ctx, r.rules[0], r.orgID); err != nil || n != 0 {
		return "", fmt.Errorf("block counter still present after cleanup (count %d, err %v)", n, err)
	}
	if vs, err := r.base.Versions(ctx, r.repoID); err != nil || len(vs) != 0 {
		return "", fmt.Errorf("baseline %s still has %d version(s) after cleanup (err %v)", r.repoID, len(vs), err)
	}
	return fmt.Sprintf("removed %d FP events, the consent record, the block counter and %d baseline version(s) of run %s; verified none left", deleted, purged, r.id), nil
}
