// Package oracle is the Mirror Dissonance Oracle's pull-request flow (SPEC 7):
// a PR and its findings go through the redaction nonce (fail closed), the
// organisation's consent (fail closed), the FP history (fail open), the
// severity thresholds and the circuit breaker (fail open), and come out as
// an allow/warn/block decision with reasons, one FP event per finding, and a
// signature made with the newest nonce. Every dependency failure is listed
// in the decision with the mode it failed in.
//
// The subpackages hold the adapters: nonce, fpevents, consent, breaker and
// drift; e2e runs the whole cycle against a deployed environment.
package oracle

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mirror-dissonance/mirror-infra/oracle/breaker"
	"github.com/mirror-dissonance/mirror-infra/oracle/consent"
	"github.com/mirror-dissonance/mirror-infra/oracle/fpevents"
	"github.com/mirror-dissonance/mirror-infra/oracle/internal/clock"
	"github.com/mirror-dissonance/mirror-infra/oracle/nonce"
)

// NonceSource gives the valid nonce set (nonce.Store).
type NonceSource interface {
	ValidSet(ctx context.Context) (*nonce.Set, error)
}

// ConsentChecker answers consent questions (consent.Store).
type ConsentChecker interface {
	Check(ctx context.Context, org, resource string) (consent.Status, error)
}

// FPStore records FP events and summarises a rule's history
// (fpevents.Store).
type FPStore interface {
	Record(ctx context.Context, e fpevents.Event) (fpevents.Event, error)
	WindowStats(ctx context.Context, ruleID string, since time.Time) (fpevents.Stats, error)
}

// BlockCounter counts blocks per rule and organisation (breaker.Counter).
type BlockCounter interface {
	Increment(ctx context.Context, ruleID, orgID string) (int64, error)
}

// Outcome of a whole decision.
type Outcome string

// Outcomes.
const (
	Allow Outcome = "allow"
	Warn  Outcome = "warn"
	Block Outcome = "block"
)

// Dependency names a dependency in a failure.
type Dependency string

// Dependencies of the flow.
const (
	DepNonce        Dependency = "nonce"
	DepConsent      Dependency = "consent"
	DepFPRead       Dependency = "fp-read"
	DepFPWrite      Dependency = "fp-write"
	DepBlockCounter Dependency = "block-counter"
)

// Mode is how the flow reacted to a failure.
type Mode string

// Modes of SPEC 7's error contract.
const (
	FailOpen   Mode = "fail-open"
	FailClosed Mode = "fail-closed"
)

var (
	// ErrFailClosed means a fail-closed dependency failed: the decision is a
	// block that says which dependency failed.
	ErrFailClosed = errors.New("oracle failed closed")
	// ErrInvalidInput means the pull request event is incomplete.
	ErrInvalidInput = errors.New("invalid pull request event")
)

// Finding is one finding of a scanner rule.
type Finding struct {
	RuleID      string `json:"ruleId"`
	RuleVersion string `json:"ruleVersion"`
	FindingID   string `json:"findingId"`
	Severity    string `json:"severity"`
}

// PullRequest is the event the Oracle judges.
type PullRequest struct {
	Org    string `json:"org"`
	Repo   string `json:"repo"`
	Number int    `json:"number"`
	Branch string `json:"branch"`
	Commit string `json:"commit"`
	Author string `json:"author"`
	// EventType is pullrequest (default) or mergegroup; the Oracle's
	// older spellings pull_request and merge_group mean the same.
	EventType string    `json:"eventType,omitempty"`
	Findings  []Finding `json:"findings"`
}

// Failure is one dependency failure and how the flow reacted.
type Failure struct {
	Dependency Dependency `json:"dependency"`
	Mode       Mode       `json:"mode"`
	Error      string     `json:"error"`
}

// FindingDecision is the verdict on one finding.
type FindingDecision struct {
	Finding
	// Outcome is the FP event outcome: block, warn or pass.
	Outcome string   `json:"outcome"`
	Reasons []string `json:"reasons,omitempty"`
	// Event is the recorded FP event's key (empty when none was written).
	Event fpevents.Key `json:"event"`
	// BlockCount is the rule's block count this hour, when it was counted.
	BlockCount int64 `json:"blockCount,omitempty"`
}

// Decision is the Oracle's answer.
type Decision struct {
	Outcome  Outcome           `json:"outcome"`
	Reasons  []string          `json:"reasons"`
	Findings []FindingDecision `json:"findings,omitempty"`
	Failures []Failure         `json:"failures,omitempty"`
	// FailedClosed is true when the Oracle refused to evaluate: a
	// fail-closed dependency failed or consent is missing.
	FailedClosed bool `json:"failedClosed"`
	// AuthorToken is the PR author redacted with the newest nonce, in the
	// Oracle's redacted-text shape: its MAC is a keyed pseudonym of the
	// author, its value "[REDACTED]".
	AuthorToken *nonce.RedactedText `json:"authorToken,omitempty"`
	// Signature signs SignedPayload with the newest nonce version, in the
	// same shape (value is the payload: nothing in it is redacted), so the
	// Oracle's verifyRedactedText(signature, signature.value) accepts it.
	Signature *nonce.RedactedText `json:"signature,omitempty"`
}

// Events returns the keys of the FP events the decision recorded.
func (d Decision) Events() []fpevents.Key {
	var ks []fpevents.Key
	for _, f := range d.Findings {
		if f.Event.PK != "" {
			ks = append(ks, f.Event)
		}
	}
	return ks
}

// Config holds the thresholds.
type Config struct {
	// ConsentResource is the consent resource the Oracle needs (default
	// DefaultConsentResource).
	ConsentResource string
	// BlockSeverities block, WarnSeverities warn, anything else passes
	// (defaults: critical and high; medium).
	BlockSeverities []string
	WarnSeverities  []string
	// FPWindow is how far back the FP history is read (default 7 days).
	FPWindow time.Duration
	// FPRateCeiling: a rule whose observed FP rate exceeds it, over at
	// least MinReviewed reviewed events, warns instead of blocking
	// (defaults 0.5 and 5).
	FPRateCeiling float64
	MinReviewed   int
	// Breaker is the circuit breaker threshold (default 100).
	Breaker breaker.Breaker
}

// DefaultConsentResource is the consent the Oracle checks by default.
const DefaultConsentResource = "pull_request_analysis"

func (c Config) withDefaults() Config {
	if c.ConsentResource == "" {
		c.ConsentResource = DefaultConsentResource
	}
	if c.BlockSeverities == nil {
		c.BlockSeverities = []string{"critical", "high"}
	}
	if c.WarnSeverities == nil {
		c.WarnSeverities = []string{"medium"}
	}
	if c.FPWindow <= 0 {
		c.FPWindow = 7 * 24 * time.Hour
	}
	if c.FPRateCeiling <= 0 {
		c.FPRateCeiling = 0.5
	}
	if c.MinReviewed <= 0 {
		c.MinReviewed = 5
	}
	return c
}

// Oracle evaluates pull requests.
type Oracle struct {
	Nonce   NonceSource
	Consent ConsentChecker
	FP      FPStore
	Counter BlockCounter
	Config  Config
	// Now is the clock (time.Now if nil); Logger logs dependency failures
	// (slog.Default if nil).
	Now    func() time.Time
	Logger *slog.Logger
}

func (o *Oracle) log() *slog.Logger {
	if o.Logger != nil {
		return o.Logger
	}
	return slog.Default()
}

// Ready is the start-up check: an Oracle without a valid nonce refuses to
// start (SPEC 4). The error wraps ErrFailClosed.
func (o *Oracle) Ready(ctx context.Context) error {
	set, err := o.Nonce.ValidSet(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w: %w", DepNonce, ErrFailClosed, err)
	}
	o.log().Info("oracle ready", "nonce", set.String())
	return nil
}

// Validate checks the event before anything is read.
func (pr PullRequest) Validate() error {
	var missing []string
	for _, f := range []struct{ name, v string }{{"org", pr.Org}, {"repo", pr.Repo}, {"commit", pr.Commit}} {
		if strings.TrimSpace(f.v) == "" {
			missing = append(missing, f.name)
		}
	}
	et, known := fpevents.CanonicalEventType(pr.eventType())
	if et == fpevents.EventPullRequest && pr.Number <= 0 {
		missing = append(missing, "number")
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s missing: %w", strings.Join(missing, ", "), ErrInvalidInput)
	}
	if !known || et == fpevents.EventDrift {
		return fmt.Errorf("eventType %q is not pullrequest or mergegroup: %w", pr.EventType, ErrInvalidInput)
	}
	for i, f := range pr.Findings {
		if f.RuleID == "" || f.RuleVersion == "" || f.FindingID == "" {
			return fmt.Errorf("finding %d lacks rule id, rule version or finding id: %w", i, ErrInvalidInput)
		}
	}
	return nil
}

// eventType is the adapter layer's spelling of the event type.
func (pr PullRequest) eventType() string {
	if pr.EventType == "" {
		return fpevents.EventPullRequest
	}
	et, _ := fpevents.CanonicalEventType(pr.EventType)
	return et
}

// Evaluate judges a pull request. A fail-closed dependency failure returns
// a block decision that says so together with an error wrapping
// ErrFailClosed; fail-open failures are listed in the decision and do not
// make an error.
func (o *Oracle) Evaluate(ctx context.Context, pr PullRequest) (Decision, error) {
	if err := pr.Validate(); err != nil {
		return Decision{}, err
	}
	cfg := o.Config.withDefaults()
	var d Decision
	closed := func(dep Dependency, reason string, err error) (Decision, error) {
		d.Outcome, d.FailedClosed = Block, true
		d.Reasons = append(d.Reasons, reason)
		d.Failures = append(d.Failures, Failure{Dependency: dep, Mode: FailClosed, Error: err.Error()})
		o.log().Warn("oracle dependency failed; failing closed", "dependency", dep, "mode", FailClosed, "repo", pr.Repo, "pr", pr.Number, "err", err)
		return d, fmt.Errorf("%s: %w: %w", dep, ErrFailClosed, err)
	}

	set, err := o.Nonce.ValidSet(ctx)
	if err != nil {
		return closed(DepNonce, "no valid redaction nonce: refusing to evaluate", err)
	}
	st, err := o.Consent.Check(ctx, pr.Org, cfg.ConsentResource)
	if err != nil {
		return closed(DepConsent, "consent could not be checked: refusing to evaluate", err)
	}
	if !st.Allowed {
		d.Outcome, d.FailedClosed = Block, true
		d.Reasons = append(d.Reasons, "no consent to evaluate: "+st.Reason)
		o.sign(set, pr, &d)
		return d, nil
	}

	now := clock.Now(o.Now)
	stats := o.history(ctx, pr, cfg, now, &d)
	d.Findings = make([]FindingDecision, len(pr.Findings))
	for i, f := range pr.Findings {
		d.Findings[i] = judge(f, cfg, stats[f.RuleID])
	}
	o.applyBreaker(ctx, pr, cfg, &d)

	if err := o.record(ctx, pr, now, &d); err != nil {
		return closed(DepFPWrite, "FP events could not be recorded: refusing to pass unrecorded findings", err)
	}
	d.Outcome = Allow
	for _, f := range d.Findings {
		switch {
		case f.Outcome == fpevents.OutcomeBlock:
			d.Outcome = Block
		case f.Outcome == fpevents.OutcomeWarn && d.Outcome == Allow:
			d.Outcome = Warn
		}
	}
	d.Reasons = append(d.Reasons, summary(d))
	o.sign(set, pr, &d)
	return d, nil
}

// history reads each rule's FP statistics; a failure fails open: the rule
// is judged on severity alone.
func (o *Oracle) history(ctx context.Context, pr PullRequest, cfg Config, now time.Time, d *Decision) map[string]*fpevents.Stats {
	stats := map[string]*fpevents.Stats{}
	for _, f := range pr.Findings {
		if _, done := stats[f.RuleID]; done {
			continue
		}
		s, err := o.FP.WindowStats(ctx, f.RuleID, now.Add(-cfg.FPWindow))
		if err != nil {
			stats[f.RuleID] = nil
			d.Failures = append(d.Failures, Failure{Dependency: DepFPRead, Mode: FailOpen, Error: err.Error()})
			d.Reasons = append(d.Reasons, fmt.Sprintf("FP history of %s unavailable; judged on severity alone", f.RuleID))
			o.log().Warn("oracle dependency failed; failing open", "dependency", DepFPRead, "mode", FailOpen, "rule", f.RuleID, "err", err)
			continue
		}
		stats[f.RuleID] = &s
	}
	return stats
}

func judge(f Finding, cfg Config, st *fpevents.Stats) FindingDecision {
	sev := strings.ToLower(f.Severity)
	fd := FindingDecision{Finding: f, Outcome: fpevents.OutcomePass}
	switch {
	case slices.Contains(cfg.BlockSeverities, sev):
		fd.Outcome = fpevents.OutcomeBlock
		fd.Reasons = append(fd.Reasons, "severity "+sev+" blocks")
	case slices.Contains(cfg.WarnSeverities, sev):
		fd.Outcome = fpevents.OutcomeWarn
		fd.Reasons = append(fd.Reasons, "severity "+sev+" warns")
	default:
		fd.Reasons = append(fd.Reasons, "severity "+sev+" passes")
	}
	if fd.Outcome == fpevents.OutcomeBlock && st != nil {
		reviewed := st.TruePositives + st.FalsePositives
		if reviewed >= cfg.MinReviewed && st.ObservedFPRate > cfg.FPRateCeiling {
			fd.Outcome = fpevents.OutcomeWarn
			fd.Reasons = append(fd.Reasons, fmt.Sprintf("rule %s has an observed FP rate of %.2f over %d reviewed events (ceiling %.2f): block downgraded to warn",
				f.RuleID, st.ObservedFPRate, reviewed, cfg.FPRateCeiling))
		}
	}
	return fd
}

// applyBreaker counts one block per blocking rule and turns the rule's
// blocks into warnings when the breaker trips. A counter failure fails
// open: the block stands and the decision lists the failure.
func (o *Oracle) applyBreaker(ctx context.Context, pr PullRequest, cfg Config, d *Decision) {
	// The org id as the caller passes it, as the Oracle keys its buckets,
	// so both implementations count in the same bucket.
	orgID := pr.Org
	counted := map[string]int64{}
	for i := range d.Findings {
		fd := &d.Findings[i]
		if fd.Outcome != fpevents.OutcomeBlock {
			continue
		}
		n, done := counted[fd.RuleID]
		if !done {
			var err error
			n, err = o.Counter.Increment(ctx, fd.RuleID, orgID)
			if err != nil {
				n = -1
				d.Failures = append(d.Failures, Failure{Dependency: DepBlockCounter, Mode: FailOpen, Error: err.Error()})
				d.Reasons = append(d.Reasons, fmt.Sprintf("block counter unavailable for %s; circuit breaker not applied", fd.RuleID))
				o.log().Warn("oracle dependency failed; failing open", "dependency", DepBlockCounter, "mode", FailOpen, "rule", fd.RuleID, "err", err)
			}
			counted[fd.RuleID] = n
		}
		if n < 0 {
			continue
		}
		fd.BlockCount = n
		if cfg.Breaker.Tripped(n) {
			fd.Outcome = fpevents.OutcomeWarn
			fd.Reasons = append(fd.Reasons, cfg.Breaker.Reason(fd.RuleID, n))
		}
	}
}

// record writes one FP event per finding, concurrently; any failure is
// returned (the caller fails closed).
func (o *Oracle) record(ctx context.Context, pr PullRequest, now time.Time, d *Decision) error {
	var wg sync.WaitGroup
	errs := make([]error, len(d.Findings))
	for i := range d.Findings {
		fd := &d.Findings[i]
		wg.Go(func() {
			ev, err := o.FP.Record(ctx, fpevents.Event{
				RuleID: fd.RuleID, RuleVersion: fd.RuleVersion, FindingID: fd.FindingID, Outcome: fd.Outcome, Timestamp: now,
				Context: fpevents.Context{Repo: pr.Org + "/" + pr.Repo, Branch: pr.Branch, PRNumber: pr.Number, Commit: pr.Commit, EventType: pr.eventType()},
			})
			if err != nil {
				errs[i] = err
				return
			}
			fd.Event = ev.Key()
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

func summary(d Decision) string {
	counts := map[string]int{}
	for _, f := range d.Findings {
		counts[f.Outcome]++
	}
	return fmt.Sprintf("%d finding(s): %d block, %d warn, %d pass", len(d.Findings),
		counts[fpevents.OutcomeBlock], counts[fpevents.OutcomeWarn], counts[fpevents.OutcomePass])
}

// Redacted is the value of a redacted author.
const Redacted = "[REDACTED]"

// sign redacts the author and signs the decision's essentials with the
// newest nonce version.
func (o *Oracle) sign(set *nonce.Set, pr PullRequest, d *Decision) {
	if pr.Author != "" {
		a := set.Redact(pr.Author, Redacted)
		d.AuthorToken = &a
	}
	p := SignedPayload(pr, *d)
	sig := set.Redact(p, p)
	d.Signature = &sig
}

// SignedPayload is what Decision.Signature signs: the PR's identity, the
// outcome and each finding's outcome and event key, one per line.
func SignedPayload(pr PullRequest, d Decision) string {
	var b strings.Builder
	b.WriteString("decision\n" + pr.Org + "\n" + pr.Repo + "\n" + strconv.Itoa(pr.Number) + "\n" + pr.Commit + "\n" + string(d.Outcome))
	for _, f := range d.Findings {
		b.WriteString("\n" + f.FindingID + "=" + f.Outcome + "@" + f.Event.SK)
	}
	return b.String()
}
