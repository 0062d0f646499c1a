package verify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/mirror-dissonance/mirror-infra/spec"
	"github.com/mirror-dissonance/mirror-infra/verify/e2e"
	"github.com/mirror-dissonance/mirror-infra/verify/target"
	"github.com/sethvargo/go-envconfig"
)

// Options of a run: how to check, where target.Env says what.
type Options struct {
	// Checks to run; empty means DefaultIDs (every check that only
	// reads). Name IDAlert to publish a test alert.
	Checks []string
	// Timeout bounds the whole run; 0 means 2 minutes. A check still
	// running at the deadline is reported as FAIL (infrastructure).
	Timeout time.Duration
	// AlarmWait is how long the alarms check waits for alarms to leave
	// INSUFFICIENT_DATA after a deploy (MD_ALARM_WAIT).
	AlarmWait time.Duration
	// AlarmPoll is the pause between DescribeAlarms calls while waiting;
	// 0 means 10 s.
	AlarmPoll time.Duration
	// FireAlarm lets the alert check set one alarm to ALARM and back to OK
	// (MD_FIRE_ALARM).
	FireAlarm bool
	// NonceGrace is the rotation grace period (MD_NONCE_GRACE); 0 or less
	// means spec.DefaultNonceGrace.
	NonceGrace time.Duration
	// ExpectedThreshold, when positive, is the alarm threshold the stack
	// config sets (throttleThreshold); 0 accepts any positive threshold.
	ExpectedThreshold float64
	// DeletionProtection, when set, is the stack config's
	// deletionProtection: true makes a table without it a FAIL, false
	// accepts either. Unset, a table without it is a WARN.
	DeletionProtection *bool
	// OracleSubjects, when set, are the stack config's oracleSubjects: the
	// Oracle role must trust exactly these. Unset, the oidc check applies
	// SPEC 2.6's rules only (exact values, never pull_request).
	OracleSubjects []string
	// AlertWait bounds how long the alert check waits for delivery to the
	// verification queue; 0 means 20 s.
	AlertWait time.Duration
	// E2E tunes the e2e check (RunID, TempDir, IndexWait); its Timeout is
	// cut to fit the run's, and NonceGrace defaults to this NonceGrace.
	E2E e2e.Options
	// Wait, when set, is told of every wait longer than one poll (the
	// alarms leaving INSUFFICIENT_DATA, an alert's delivery): it is called
	// with what is awaited and the returned done when the wait ends. The
	// command line shows it as a progress line (report.Progress.Start).
	Wait func(ctx context.Context, what string) (done func())
	// Logger receives debug logs; nil means slog.Default().
	Logger *slog.Logger
	// Now is the clock (tests); nil means time.Now.
	Now func() time.Time
}

// EnvSettings are the run options the MD_* environment variables set (see
// OptionsFromEnv); resource names are target.Env's.
type EnvSettings struct {
	AlarmWait  time.Duration `env:"ALARM_WAIT"`
	FireAlarm  bool          `env:"FIRE_ALARM"`
	NonceGrace time.Duration `env:"NONCE_GRACE"`
}

// OptionsFromEnv returns Options with AlarmWait, FireAlarm and NonceGrace
// from MD_ALARM_WAIT, MD_FIRE_ALARM and MD_NONCE_GRACE (target.EnvPrefix).
// lookuper may be nil for the process environment.
func OptionsFromEnv(ctx context.Context, lookuper envconfig.Lookuper) (Options, error) {
	if lookuper == nil {
		lookuper = envconfig.OsLookuper()
	}
	var es EnvSettings
	if err := envconfig.ProcessWith(ctx, &envconfig.Config{
		Target: &es, Lookuper: envconfig.PrefixLookuper(target.EnvPrefix, lookuper),
	}); err != nil {
		return Options{}, fmt.Errorf("reading %s* settings: %w", target.EnvPrefix, err)
	}
	o := Options{AlarmWait: es.AlarmWait, FireAlarm: es.FireAlarm, NonceGrace: es.NonceGrace}
	if err := o.ValidateDurations(); err != nil {
		return Options{}, err
	}
	return o, nil
}

// ValidateDurations refuses negative waits and a grace period beyond
// spec.MaxNonceGrace (a leaked nonce would stay valid that long), naming the
// setting; a caller checks this before any cloud call.
func (o Options) ValidateDurations() error {
	var errs []error
	if o.AlarmWait < 0 {
		errs = append(errs, fmt.Errorf("%sALARM_WAIT = %s: want 0 or a positive duration such as 5m", target.EnvPrefix, o.AlarmWait))
	}
	if o.NonceGrace < 0 || o.NonceGrace > spec.MaxNonceGrace {
		errs = append(errs, fmt.Errorf("%sNONCE_GRACE = %s: want a positive duration of at most %s (default %s)", target.EnvPrefix, o.NonceGrace, spec.MaxNonceGrace, spec.DefaultNonceGrace))
	}
	if o.Timeout < 0 {
		errs = append(errs, fmt.Errorf("timeout %s: want 0 (the default) or a positive duration", o.Timeout))
	}
	return errors.Join(errs...)
}

func (o Options) withDefaults() Options {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	if len(o.Checks) == 0 {
		o.Checks = DefaultIDs()
	}
	def(&o.Timeout, 2*time.Minute)
	def(&o.AlarmPoll, 10*time.Second)
	def(&o.AlertWait, 20*time.Second)
	if o.NonceGrace <= 0 {
		o.NonceGrace = spec.DefaultNonceGrace
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// wait reports the start of a wait through Options.Wait; the returned done
// ends it (a no-op without a Wait).
func (o Options) wait(ctx context.Context, what string) func() {
	if o.Wait == nil {
		return func() {}
	}
	return o.Wait(ctx, what)
}
