package verify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/sethvargo/go-envconfig"

	"github.com/mirror-dissonance/mirror-infra/emulator"
	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/spec"
)

// testOptions keep waits short; the emulator answers at once.
var testOptions = Options{Timeout: 30 * time.Second, AlertWait: 5 * time.Second, AlarmPoll: 50 * time.Millisecond}

func setup(t *testing.T, opts emulator.SeedOptions) (*emulator.Emulator, Clients, *emulator.Seeded) {
	t.Helper()
	e, cfg := start(t)
	s, err := e.Seed(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return e, NewClients(cfg, ClientOptions{MaxBackoff: 20 * time.Millisecond}), s
}

// mustRun runs the checks of opts on s, failing the test if the run
// cannot start.
func mustRun(t *testing.T, ctx context.Context, c Clients, s *emulator.Seeded, opts Options) *report.Report {
	t.Helper()
	r, err := Run(ctx, c, s.Target(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// start starts an emulator that the test closes, and its SDK config.
func start(tb testing.TB) (*emulator.Emulator, aws.Config) {
	tb.Helper()
	e := emulator.Start()
	tb.Cleanup(e.Close)
	return e, awsConfig(tb, e)
}

func awsConfig(tb testing.TB, e *emulator.Emulator) aws.Config {
	tb.Helper()
	cfg, err := e.Config(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	return cfg
}

func TestCorrectEnvironmentPassesEveryCheck(t *testing.T) {
	_, c, s := setup(t, emulator.SeedOptions{VerifyQueue: true})
	opts := testOptions
	opts.Checks = IDs() // alert runs only when named
	r := RequireAllPass(t, context.Background(), c, s.Target(), opts)
	if len(r.Checks) != len(IDs()) {
		t.Fatalf("got %d checks, want %d", len(r.Checks), len(IDs()))
	}
	for i, ch := range r.Checks {
		if ch.ID != IDs()[i] {
			t.Errorf("check %d is %s, want %s (catalogue order)", i, ch.ID, IDs()[i])
		}
	}
	pitr, _ := r.Find(IDPITR)
	for _, name := range s.Names.Tables() {
		if !strings.Contains(pitr.Details[name], "restorable") {
			t.Errorf("pitr details for %s = %q, want the restore window", name, pitr.Details[name])
		}
	}
	if r.ExitCode() != report.ExitOK {
		t.Errorf("exit code %d, want 0", r.ExitCode())
	}
}

// TestEachDefectFailsExactlyItsCheck seeds one defect at a time: the
// matching check must fail (or warn, for alarms still settling) with a
// reason naming the resource, and no other check may fail.
func TestEachDefectFailsExactlyItsCheck(t *testing.T) {
	tests := []struct {
		defect emulator.Defect
		check  string
		status report.Status
		// names returns what the reason must mention.
		names func(s *emulator.Seeded) []string
	}{
		{emulator.DefectPITROff, IDPITR, report.Fail, tbl("consent")},
		{emulator.DefectTableMissing, IDTables, report.Fail, tbl("block-counter")},
		{emulator.DefectTableWrongKey, IDSSE, report.Fail, func(s *emulator.Seeded) []string {
			return []string{s.Names.Table("fp-events"), s.OtherKeyArn}
		}},
		{emulator.DefectTableAWSOwnedKey, IDSSE, report.Fail, tbl("consent")},
		{emulator.DefectTableWrongSchema, IDTables, report.Fail, tbl("consent")},
		{emulator.DefectTTLOff, IDTTL, report.Fail, tbl("block-counter")},
		{emulator.DefectRotationOff, IDKMS, report.Fail, func(s *emulator.Seeded) []string { return []string{s.KeyArn, "rotation"} }},
		{emulator.DefectAliasMissing, IDKMS, report.Fail, func(s *emulator.Seeded) []string { return []string{s.Names.KeyAlias()} }},
		{emulator.DefectAlarmMissing, IDAlarms, report.Fail, func(s *emulator.Seeded) []string {
			return []string{s.Names.WriteThrottleAlarm("consent"), "does not exist"}
		}},
		{emulator.DefectAlarmMisconfigured, IDAlarms, report.Fail, func(s *emulator.Seeded) []string {
			return []string{s.Names.ReadThrottleAlarm("fp-events"), "missing-data"}
		}},
		{emulator.DefectAlarmNoActions, IDAlarms, report.Fail, func(s *emulator.Seeded) []string {
			return []string{s.Names.ReadThrottleAlarm("block-counter"), s.TopicArn}
		}},
		{emulator.DefectAlarmsInsufficientData, IDAlarms, report.Warn, func(s *emulator.Seeded) []string {
			return []string{"INSUFFICIENT_DATA", s.Names.ReadThrottleAlarm("fp-events")}
		}},
		{emulator.DefectKeyPolicyNoCloudWatch, IDSNS, report.Fail, func(s *emulator.Seeded) []string {
			return []string{s.KeyArn, "cloudwatch.amazonaws.com", s.TopicArn}
		}},
		{emulator.DefectTopicUnencrypted, IDSNS, report.Fail, func(s *emulator.Seeded) []string { return []string{s.TopicArn, "not encrypted"} }},
		{emulator.DefectOIDCProviderMissing, IDOIDC, report.Fail, func(s *emulator.Seeded) []string { return []string{"oidc-provider"} }},
		{emulator.DefectOIDCPullRequest, IDOIDC, report.Fail, func(s *emulator.Seeded) []string {
			return []string{s.Names.DeployRole(), "pull_request"}
		}},
		{emulator.DefectOIDCWildcard, IDOIDC, report.Fail, func(s *emulator.Seeded) []string { return []string{s.Names.DeployRole(), "wildcard"} }},
		{emulator.DefectOIDCOraclePullRequest, IDOIDC, report.Fail, func(s *emulator.Seeded) []string {
			return []string{s.Names.OracleRole(), "pull_request"}
		}},
		{emulator.DefectNonceMissing, IDNonce, report.Fail, func(s *emulator.Seeded) []string { return []string{s.Names.NonceParameterPath()} }},
		{emulator.DefectNonceMalformed, IDNonce, report.Fail, func(s *emulator.Seeded) []string { return []string{s.Names.NonceParameter(1), "hex"} }},
		{emulator.DefectNonceString, IDNonce, report.Fail, func(s *emulator.Seeded) []string {
			return []string{s.Names.NonceParameter(1), "not a SecureString"}
		}},
		{emulator.DefectNonceWrongKey, IDNonce, report.Fail, func(s *emulator.Seeded) []string {
			return []string{s.Names.NonceParameter(1), "alias/aws/ssm"}
		}},
		{emulator.DefectBaselinesMissing, IDBaselines, report.Fail, func(s *emulator.Seeded) []string {
			return []string{s.Names.BaselinesBucket(), "does not exist"}
		}},
		{emulator.DefectBaselinesUnversioned, IDBaselines, report.Fail, func(s *emulator.Seeded) []string {
			return []string{s.Names.BaselinesBucket(), "not versioned", "Suspended"}
		}},
		{emulator.DefectBaselinesWrongKey, IDBaselines, report.Fail, func(s *emulator.Seeded) []string {
			return []string{s.Names.BaselinesBucket(), emulator.AWSManagedS3Key, s.KeyArn}
		}},
		{emulator.DefectBaselinesPublic, IDBaselines, report.Fail, func(s *emulator.Seeded) []string {
			return []string{s.Names.BaselinesBucket(), "BlockPublicAcls", "RestrictPublicBuckets"}
		}},
		{emulator.DefectBaselinesNoTLS, IDBaselines, report.Fail, func(s *emulator.Seeded) []string {
			return []string{s.Names.BaselinesBucket(), "not TLS-only", "not the bucket"}
		}},
	}
	covered := map[emulator.Defect]bool{}
	for _, tc := range tests {
		covered[tc.defect] = true
		// The catalogue says which check catches which defect.
		if got := catcherOf(string(tc.defect)); got != tc.check {
			t.Errorf("defect %s: the catalogue names check %q, this case %q", tc.defect, got, tc.check)
		}
	}
	for _, d := range emulator.AllDefects {
		if !covered[d] {
			t.Errorf("defect %s has no case here", d)
		}
	}
	// One emulator for all cases: each Seed uses its own environment name.
	e, cfg := start(t)
	ctx := context.Background()
	c := NewClients(cfg, ClientOptions{MaxBackoff: 20 * time.Millisecond})
	for _, tc := range tests {
		t.Run(string(tc.defect), func(t *testing.T) {
			s, err := e.Seed(ctx, emulator.SeedOptions{Defects: []emulator.Defect{tc.defect}, VerifyQueue: true})
			if err != nil {
				t.Fatal(err)
			}
			r := mustRun(t, ctx, c, s, testOptions)
			for _, ch := range r.Checks {
				if ch.ID == tc.check {
					if ch.Status != tc.status {
						t.Errorf("%s: status %s (%s), want %s", ch.ID, ch.Status, ch.Reason, tc.status)
					}
					for _, n := range tc.names(s) {
						if !strings.Contains(ch.Reason, n) {
							t.Errorf("%s: reason %q does not name %q", ch.ID, ch.Reason, n)
						}
					}
					if ch.Infra {
						t.Errorf("%s: a resource defect marked as an infrastructure failure", ch.ID)
					}
					continue
				}
				if ch.Status == report.Fail {
					t.Errorf("%s also failed: %s", ch.ID, ch.Reason)
				}
			}
			wantExit := report.ExitFailed
			if tc.status == report.Warn {
				wantExit = report.ExitOK
			}
			if got := r.ExitCode(); got != wantExit {
				t.Errorf("exit code %d, want %d", got, wantExit)
			}
		})
	}
}

func tbl(suffix string) func(s *emulator.Seeded) []string {
	return func(s *emulator.Seeded) []string { return []string{s.Names.Table(suffix)} }
}

// TestFaultsDoNotChangeVerdicts runs a correct and a defective environment
// with a share of throttling and 5xx answers: the verdicts must equal those
// without faults and the run must end within its deadline.
func TestFaultsDoNotChangeVerdicts(t *testing.T) {
	e, cfg := start(t)
	ctx := context.Background()
	c := NewClients(cfg, ClientOptions{MaxAttempts: 12, MaxBackoff: 10 * time.Millisecond})
	for _, defects := range [][]emulator.Defect{nil, {emulator.DefectPITROff, emulator.DefectNonceString, emulator.DefectRotationOff}} {
		s, err := e.Seed(ctx, emulator.SeedOptions{Defects: defects, VerifyQueue: true})
		if err != nil {
			t.Fatal(err)
		}
		clean := mustRun(t, ctx, c, s, testOptions)
		e.SetFaults(emulator.Faults{ThrottleShare: 0.15, ServerErrorShare: 0.15, Seed: 42})
		e.ResetCounts()
		opts := testOptions
		opts.Timeout = 20 * time.Second
		start := time.Now()
		faulty, err := Run(ctx, c, s.Target(), opts)
		elapsed := time.Since(start)
		counts := e.Counts()
		e.SetFaults(emulator.Faults{})
		if err != nil {
			t.Fatal(err)
		}
		if counts.Faulted == 0 {
			t.Fatalf("no fault was injected (%v)", counts.Operations())
		}
		if elapsed > opts.Timeout {
			t.Errorf("run took %s, beyond its %s deadline", elapsed, opts.Timeout)
		}
		for i, ch := range faulty.Checks {
			if want := clean.Checks[i]; ch.Status != want.Status {
				t.Errorf("defects %v: %s is %s under faults (%s), %s without", defects, ch.ID, ch.Status, ch.Reason, want.Status)
			}
		}
		t.Logf("defects %v: %d requests, %d faulted, %s", defects, counts.Total, counts.Faulted, elapsed.Round(time.Millisecond))
	}
}

func TestUnreachableEndpointFailsFast(t *testing.T) {
	e := emulator.Start()
	ctx := context.Background()
	cfg := awsConfig(t, e)
	e.Close() // nothing listens on the port any more
	c := NewClients(cfg)
	start := time.Now()
	r, err := Run(ctx, c, (&emulator.Seeded{Env: "gone"}).Target(), Options{Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s to report an unreachable endpoint", d)
	}
	if r.ExitCode() != report.ExitEngine {
		t.Errorf("exit code %d, want %d", r.ExitCode(), report.ExitEngine)
	}
	for _, ch := range r.Checks {
		if ch.Status != report.Fail || !ch.Infra || !strings.Contains(ch.Reason, "unreachable") {
			t.Errorf("%s: %s infra=%v %q; want an infrastructure FAIL", ch.ID, ch.Status, ch.Infra, ch.Reason)
		}
	}
}

// TestReadOnlyCatalogueRequestBudget counts the AWS requests of one whole
// run: the issue allowed at most 24 (the run made 23); baselines adds 4,
// one per bucket setting (its key comparison reuses the kms check's
// DescribeKey).
func TestReadOnlyCatalogueRequestBudget(t *testing.T) {
	e, c, s := setup(t, emulator.SeedOptions{VerifyQueue: true})
	e.ResetCounts()
	RequireAllPass(t, context.Background(), c, s.Target(), testOptions)
	counts := e.Counts()
	// data adds one Scan per table (3).
	const budget = 24 + 4 + 3
	if counts.Total > budget {
		t.Errorf("%d requests, budget %d: %v", counts.Total, budget, counts.Operations())
	}
	t.Logf("%d requests: %v", counts.Total, counts.Operations())
}

// TestNonceValuesNeverInOutput scans every rendering of reports (all
// checks, correct and defective nonces) for the seeded secret values.
func TestNonceValuesNeverInOutput(t *testing.T) {
	e, cfg := start(t)
	ctx := context.Background()
	c := NewClients(cfg)
	var logs bytes.Buffer
	opts := testOptions
	opts.Logger = newDebugLogger(&logs)
	for _, d := range [][]emulator.Defect{nil, {emulator.DefectNonceString}, {emulator.DefectNonceWrongKey}, {emulator.DefectNonceMalformed}} {
		s, err := e.Seed(ctx, emulator.SeedOptions{Defects: d})
		if err != nil {
			t.Fatal(err)
		}
		if s.NonceValue == "" {
			t.Fatal("seed wrote no nonce value to look for")
		}
		r := mustRun(t, ctx, c, s, opts)
		var out bytes.Buffer
		_ = r.WriteText(&out, true)
		_ = r.WriteJSON(&out)
		_ = r.WriteMarkdown(&out)
		_, aerr := RequireNoFailureE(t, ctx, c, s.Target(), opts)
		if aerr != nil {
			out.WriteString(aerr.Error())
		}
		out.WriteString(RunCheck(ctx, c, s.Target(), IDNonce, Options{}).Reason)
		if err := AssertCheckE(t, ctx, c, s.Target(), IDNonce); err != nil {
			out.WriteString(err.Error())
		}
		for _, where := range []struct {
			name string
			text string
		}{{"reports", out.String()}, {"logs", logs.String()}} {
			if strings.Contains(where.text, s.NonceValue) {
				t.Fatalf("defects %v: the nonce value appears in the %s", d, where.name)
			}
		}
		if !strings.Contains(out.String(), s.Names.NonceParameter(1)) {
			t.Fatalf("defects %v: the scanned output does not even name the parameter; the scan proves nothing", d)
		}
	}
}

// TestPanicAndErrorDoNotHideOtherChecks substitutes a DynamoDB client that
// panics and checks that the other checks still report.
func TestPanicAndErrorDoNotHideOtherChecks(t *testing.T) {
	_, c, s := setup(t, emulator.SeedOptions{})
	c.DynamoDB = panicky{}
	r := mustRun(t, context.Background(), c, s, testOptions)
	for _, ch := range r.Checks {
		switch ch.ID {
		case IDTables, IDSSE, IDTTL, IDPITR:
			if ch.Status != report.Fail || !strings.Contains(ch.Reason, "panicked") {
				t.Errorf("%s: %s %q, want a FAIL naming the panic", ch.ID, ch.Status, ch.Reason)
			}
		case IDKMS, IDNonce, IDOIDC:
			if ch.Status != report.Pass {
				t.Errorf("%s: %s %q, want PASS despite the panicking DynamoDB client", ch.ID, ch.Status, ch.Reason)
			}
		}
	}
}

type panicky struct{ DynamoDBAPI }

func (panicky) DescribeTable(context.Context, *dynamodb.DescribeTableInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	panic("simulated bug")
}

func (panicky) DescribeTimeToLive(context.Context, *dynamodb.DescribeTimeToLiveInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTimeToLiveOutput, error) {
	panic("simulated bug")
}

func (panicky) DescribeContinuousBackups(context.Context, *dynamodb.DescribeContinuousBackupsInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeContinuousBackupsOutput, error) {
	panic("simulated bug")
}

// TestDeadlineBoundsTheRun: a client that never answers must not hold the
// run past its deadline.
func TestDeadlineBoundsTheRun(t *testing.T) {
	_, c, s := setup(t, emulator.SeedOptions{})
	c.DynamoDB = stuck{}
	start := time.Now()
	r := mustRun(t, context.Background(), c, s, Options{Timeout: 500 * time.Millisecond})
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("run took %s with a 500ms deadline", d)
	}
	ch, _ := r.Find(IDPITR)
	if ch.Status != report.Fail || !ch.Infra {
		t.Errorf("pitr = %s infra=%v %q, want an infrastructure FAIL", ch.Status, ch.Infra, ch.Reason)
	}
	if k, _ := r.Find(IDKMS); k.Status != report.Pass {
		t.Errorf("kms = %s %q, want PASS", k.Status, k.Reason)
	}
}

// stuck blocks until the context ends and then keeps blocking, like a
// client that ignores its context.
type stuck struct{ DynamoDBAPI }

func (stuck) DescribeTable(ctx context.Context, _ *dynamodb.DescribeTableInput, _ ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func (stuck) DescribeTimeToLive(ctx context.Context, _ *dynamodb.DescribeTimeToLiveInput, _ ...func(*dynamodb.Options)) (*dynamodb.DescribeTimeToLiveOutput, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func (stuck) DescribeContinuousBackups(ctx context.Context, _ *dynamodb.DescribeContinuousBackupsInput, _ ...func(*dynamodb.Options)) (*dynamodb.DescribeContinuousBackupsOutput, error) {
	time.Sleep(10 * time.Second) // ignores ctx on purpose
	return nil, errors.New("too late")
}

func TestAssertFunctions(t *testing.T) {
	_, c, s := setup(t, emulator.SeedOptions{Defects: []emulator.Defect{emulator.DefectPITROff}})
	ctx := context.Background()
	AssertCheck(t, ctx, c, s.Target(), IDTables)
	AssertCheck(t, ctx, c, s.Target(), IDKMS)
	err := AssertCheckE(t, ctx, c, s.Target(), IDPITR)
	var ce *CheckError
	if !errors.As(err, &ce) || ce.Check.ID != IDPITR || !strings.Contains(err.Error(), s.Names.Table("consent")) {
		t.Fatalf("AssertPITRE = %v, want a CheckError naming the consent table", err)
	}
	if _, err := Run(ctx, c, s.Target(), Options{Checks: []string{"nope"}}); err == nil {
		t.Error("an unknown check id was accepted")
	}
}

func newDebugLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// TestAlarmsWaitForInsufficientData: alarms that settle within AlarmWait
// pass; alarms that do not are WARN, never PASS.
func TestAlarmsWaitForInsufficientData(t *testing.T) {
	tests := []struct {
		name   string
		settle time.Duration // when the alarms go to OK; 0 = never
		wait   time.Duration
		want   report.Status
	}{
		{"settles within the wait", 150 * time.Millisecond, 3 * time.Second, report.Pass},
		{"still settling after the wait", 0, 200 * time.Millisecond, report.Warn},
		{"no wait", 0, 0, report.Warn},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, c, s := setup(t, emulator.SeedOptions{Defects: []emulator.Defect{emulator.DefectAlarmsInsufficientData}})
			ctx := context.Background()
			cfg := awsConfig(t, e)
			done := make(chan struct{})
			if tc.settle > 0 {
				go func() {
					defer close(done)
					time.Sleep(tc.settle)
					cw := cloudwatch.NewFromConfig(cfg)
					for _, a := range s.Names.Alarms() {
						if _, err := cw.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{
							AlarmName: aws.String(a), StateValue: cwtypes.StateValueOk, StateReason: aws.String("settled"),
						}); err != nil {
							t.Errorf("settling %s: %v", a, err)
						}
					}
				}()
			} else {
				close(done)
			}
			opts := testOptions
			opts.Checks, opts.AlarmWait = []string{IDAlarms}, tc.wait
			start := time.Now()
			r, err := Run(ctx, c, s.Target(), opts)
			<-done
			if err != nil {
				t.Fatal(err)
			}
			if got := r.Checks[0]; got.Status != tc.want {
				t.Errorf("alarms = %s (%s), want %s", got.Status, got.Reason, tc.want)
			}
			if d := time.Since(start); d > tc.wait+2*time.Second {
				t.Errorf("the check took %s with a %s wait", d, tc.wait)
			}
		})
	}
}

// TestAlertDelivery: with a verification queue the alert check confirms
// delivery of the test alert and, with FireAlarm, of the alarm's
// notifications; without one it is WARN.
func TestAlertDelivery(t *testing.T) {
	tests := []struct {
		name  string
		queue bool
		fire  bool
		want  report.Status
	}{
		{"queue", true, false, report.Pass},
		{"queue and fired alarm", true, true, report.Pass},
		{"no subscriber", false, false, report.Warn},
		{"key policy drops alarm notifications", true, true, report.Fail},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var defects []emulator.Defect
			if tc.want == report.Fail {
				defects = []emulator.Defect{emulator.DefectKeyPolicyNoCloudWatch}
			}
			e, c, s := setup(t, emulator.SeedOptions{VerifyQueue: tc.queue, Defects: defects})
			tgt := s.Target()
			opts := testOptions
			opts.FireAlarm = tc.fire
			opts.Checks = []string{IDAlert, IDAlarms}
			if tc.want == report.Fail {
				opts.AlertWait = time.Second // nothing will arrive
			}
			r, err := Run(context.Background(), c, tgt, opts)
			if err != nil {
				t.Fatal(err)
			}
			alert, _ := r.Find(IDAlert)
			if alert.Status != tc.want {
				t.Fatalf("alert = %s (%s), want %s", alert.Status, alert.Reason, tc.want)
			}
			if tc.fire && !strings.Contains(alert.Details["fired"], s.Names.Alarms()[0]) {
				t.Errorf("details %v do not name the fired alarm", alert.Details)
			}
			if tc.want == report.Warn && !strings.Contains(alert.Reason, "person must confirm") {
				t.Errorf("reason %q does not say a person must confirm", alert.Reason)
			}
			if tc.want == report.Fail {
				if !strings.Contains(alert.Reason, "no delivery") {
					t.Errorf("reason %q does not report the missing delivery", alert.Reason)
				}
				if d := e.DroppedNotifications(); len(d) == 0 || !strings.Contains(d[0], "cloudwatch.amazonaws.com") {
					t.Errorf("dropped notifications = %v, want the fired alarm's, blamed on the key policy", d)
				}
			}
			// Firing ends in OK: the alarms check that ran alongside, and a
			// fresh one, see no alarm left in ALARM.
			again, err := Run(context.Background(), c, tgt, Options{Checks: []string{IDAlarms}})
			if err != nil {
				t.Fatal(err)
			}
			if again.Checks[0].Status != report.Pass {
				t.Errorf("after the alert check, alarms = %s (%s)", again.Checks[0].Status, again.Checks[0].Reason)
			}
		})
	}
}

// BenchmarkRunCatalogue is the whole catalogue in-process against the
// emulator (see automation's BenchmarkVerifyProcess for the whole process).
func BenchmarkRunCatalogue(b *testing.B) {
	e, cfg := start(b)
	ctx := context.Background()
	s, err := e.Seed(ctx, emulator.SeedOptions{VerifyQueue: true})
	if err != nil {
		b.Fatal(err)
	}
	c := NewClients(cfg)
	e.ResetCounts()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, err := Run(ctx, c, s.Target(), testOptions)
		if err != nil || r.ExitCode() != report.ExitOK {
			b.Fatalf("run: %v, exit %d", err, r.ExitCode())
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(e.Counts().Total)/float64(b.N), "requests/op")
}

// TestNonceVersionsAndGrace: the newest version must be valid; an older
// one counts (and must be valid) only while its successor is younger than
// the grace period; names other than redaction_nonce_v<digits> are ignored.
func TestNonceVersionsAndGrace(t *testing.T) {
	tests := []struct {
		name string
		// v1 is the seeded (valid) version; extra are written after it.
		extra     map[string]string // name suffix -> value
		extraType ssmtypes.ParameterType
		shift     time.Duration // how far the clock is ahead of now
		want      report.Status
		wantValid string
	}{
		{"v2 newest, v1 in grace", map[string]string{"redaction_nonce_v2": hex64('b')}, ssmtypes.ParameterTypeSecureString, 0, report.Pass, "v2, v1"},
		{"v2 newest, v1 past grace", map[string]string{"redaction_nonce_v2": hex64('b')}, ssmtypes.ParameterTypeSecureString, 2 * time.Hour, report.Pass, "v2"},
		{"malformed newest", map[string]string{"redaction_nonce_v2": "not-hex"}, ssmtypes.ParameterTypeSecureString, 0, report.Fail, ""},
		{"other names ignored", map[string]string{"redaction_nonce_v2_backup": "x", "redaction_nonce_vX": "y", "other": "z"}, ssmtypes.ParameterTypeString, 0, report.Pass, "v1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, c, s := setup(t, emulator.SeedOptions{})
			ctx := context.Background()
			cfg := awsConfig(t, e)
			sm := ssm.NewFromConfig(cfg)
			for suffix, v := range tc.extra {
				in := &ssm.PutParameterInput{Name: aws.String(s.Names.NonceParameterPath() + suffix), Value: aws.String(v), Type: tc.extraType}
				if tc.extraType == ssmtypes.ParameterTypeSecureString {
					in.KeyId = aws.String(s.KeyArn)
				}
				if _, err := sm.PutParameter(ctx, in); err != nil {
					t.Fatal(err)
				}
			}
			opts := testOptions
			opts.Checks = []string{IDNonce}
			opts.Now = func() time.Time { return time.Now().Add(tc.shift) }
			r := mustRun(t, ctx, c, s, opts)
			ch := r.Checks[0]
			if ch.Status != tc.want {
				t.Fatalf("nonce = %s (%s), want %s", ch.Status, ch.Reason, tc.want)
			}
			if tc.wantValid != "" && ch.Details["valid"] != tc.wantValid {
				t.Errorf("valid versions %q, want %q (details %v)", ch.Details["valid"], tc.wantValid, ch.Details)
			}
			for _, v := range tc.extra {
				if len(v) > 3 && strings.Contains(fmt.Sprint(ch), v) {
					t.Error("a nonce value appears in the result")
				}
			}
		})
	}
}

func hex64(c byte) string { return strings.Repeat(string(c), 64) }

func TestTrustPolicyProblems(t *testing.T) {
	const provider = "arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com"
	doc := func(cond string) string {
		return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"` + provider +
			`"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":` + cond + `}]}`
	}
	aud := `"token.actions.githubusercontent.com:aud":"sts.amazonaws.com"`
	tests := []struct {
		name    string
		doc     string
		preview bool
		want    string // a problem containing this; "" for none
	}{
		{"exact deploy", doc(`{"StringEquals":{` + aud + `,"token.actions.githubusercontent.com:sub":["repo:o/r:ref:refs/heads/main"]}}`), false, ""},
		{"url-encoded as IAM returns it", url.QueryEscape(doc(`{"StringEquals":{` + aud + `,"token.actions.githubusercontent.com:sub":"repo:o/r:environment:staging"}}`)), false, ""},
		{"exact preview", doc(`{"StringEquals":{` + aud + `,"token.actions.githubusercontent.com:sub":"repo:o/r:pull_request"}}`), true, ""},
		{"deploy trusts pull_request", doc(`{"StringEquals":{` + aud + `,"token.actions.githubusercontent.com:sub":["repo:o/r:pull_request"]}}`), false, "pull requests"},
		{"wildcard", doc(`{"StringEquals":{` + aud + `},"StringLike":{"token.actions.githubusercontent.com:sub":"repo:o/r:*"}}`), false, "wildcard"},
		{"no sub", doc(`{"StringEquals":{` + aud + `}}`), false, "no sub condition"},
		{"wrong audience", doc(`{"StringEquals":{"token.actions.githubusercontent.com:aud":"other","token.actions.githubusercontent.com:sub":"repo:o/r:ref:refs/heads/main"}}`), false, "audience"},
		{"preview trusts main", doc(`{"StringEquals":{` + aud + `,"token.actions.githubusercontent.com:sub":"repo:o/r:ref:refs/heads/main"}}`), true, "only pull_request"},
		{"not json", "nope", false, "not valid JSON"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, problems := trustProblems(tc.doc, provider, tc.preview)
			got := strings.Join(problems, "; ")
			if tc.want == "" && got != "" {
				t.Errorf("problems %q, want none", got)
			}
			if tc.want != "" && !strings.Contains(got, tc.want) {
				t.Errorf("problems %q, want one mentioning %q", got, tc.want)
			}
		})
	}
}

// TestProbeStopsOnUnusableCredentials: rejected credentials end the run at
// once with an infrastructure FAIL for every check (exit 3), the cause
// reported once: on the first check, which lists the stopped ones; the
// others point at it, and the *E error is one *InfraError naming them all.
func TestProbeStopsOnUnusableCredentials(t *testing.T) {
	_, c, s := setup(t, emulator.SeedOptions{})
	c.STS = rejectingSTS{}
	r := mustRun(t, context.Background(), c, s, testOptions)
	if r.ExitCode() != report.ExitEngine {
		t.Errorf("exit %d, want 3", r.ExitCode())
	}
	ids := DefaultIDs()
	var text bytes.Buffer
	_ = r.WriteText(&text, true)
	if n := strings.Count(text.String(), "credentials were rejected"); n != 1 {
		t.Errorf("the cause appears %d times in the report, want once:\n%s", n, text.String())
	}
	for i, ch := range r.Checks {
		if ch.Status != report.Fail || !ch.Infra {
			t.Errorf("%s: %s infra=%v, want an infrastructure FAIL", ch.ID, ch.Status, ch.Infra)
		}
		switch {
		case i == 0 && (!strings.Contains(ch.Reason, "credentials were rejected") || ch.Details[DetailStopped] != strings.Join(ids, ", ")):
			t.Errorf("first check %s: %q %v, want the cause and every stopped id", ch.ID, ch.Reason, ch.Details)
		case i > 0 && ch.Details[DetailStoppedBy] != ids[0]:
			t.Errorf("%s: %q %v, want a pointer to %s", ch.ID, ch.Reason, ch.Details, ids[0])
		}
	}
	_, aerr := RequireAllPassE(t, context.Background(), c, s.Target(), testOptions)
	var ie *InfraError
	if !errors.As(aerr, &ie) || strings.Join(ie.Checks, ", ") != strings.Join(ids, ", ") {
		t.Fatalf("error %v, want one *InfraError listing %v", aerr, ids)
	}
	if n := strings.Count(aerr.Error(), "credentials were rejected"); n != 1 {
		t.Errorf("the cause appears %d times in the error, want once: %v", n, aerr)
	}
}

type rejectingSTS struct{}

func (rejectingSTS) GetCallerIdentity(context.Context, *sts.GetCallerIdentityInput, ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error) {
	return nil, &smithy.GenericAPIError{Code: "InvalidClientTokenId", Message: "The security token included in the request is invalid."}
}

// TestSNSReportsPendingConfirmation: an email subscription awaiting its
// recipient's confirmation is WARN naming the address; once confirmed, PASS.
func TestSNSReportsPendingConfirmation(t *testing.T) {
	e, c, s := setup(t, emulator.SeedOptions{AlertEmail: "oncall@example.com"})
	ctx := context.Background()
	ch := RunCheck(ctx, c, s.Target(), IDSNS, Options{})
	if ch.Status != report.Warn || !strings.Contains(ch.Reason, "email:oncall@example.com") || !strings.Contains(ch.Reason, "pending confirmation") {
		t.Errorf("sns = %s %q, want WARN naming the pending address", ch.Status, ch.Reason)
	}
	e.ConfirmEmailSubscriptions()
	if ch := RunCheck(ctx, c, s.Target(), IDSNS, Options{}); ch.Status != report.Pass || ch.Details["subscriptions"] != "1 confirmed, 0 pending" {
		t.Errorf("after confirmation sns = %s %q %v, want PASS with 1 confirmed", ch.Status, ch.Reason, ch.Details)
	}
}

func TestDeletionProtectionFollowsConfig(t *testing.T) {
	e, c, s := setup(t, emulator.SeedOptions{})
	ctx := context.Background()
	cfg := awsConfig(t, e)
	consent := s.Names.Table("consent")
	if _, err := dynamodb.NewFromConfig(cfg).UpdateTable(ctx, &dynamodb.UpdateTableInput{
		TableName: aws.String(consent), DeletionProtectionEnabled: aws.Bool(false),
	}); err != nil {
		t.Fatal(err)
	}
	on, off := true, false
	tests := []struct {
		name   string
		config *bool
		want   report.Status
	}{
		{"config unknown", nil, report.Warn},
		{"config on", &on, report.Fail},
		{"config off", &off, report.Pass},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := testOptions
			opts.Checks, opts.DeletionProtection = []string{IDTables}, tc.config
			r := mustRun(t, ctx, c, s, opts)
			if ch := r.Checks[0]; ch.Status != tc.want || (tc.want != report.Pass && !strings.Contains(ch.Reason, consent)) {
				t.Errorf("tables = %s %q, want %s naming %s", ch.Status, ch.Reason, tc.want, consent)
			}
		})
	}
}

// TestOptionsFromEnv: the MD_* run settings fill Options; a bad value is an
// error naming the variable, and unset ones leave the defaults to Run.
func TestOptionsFromEnv(t *testing.T) {
	ctx := context.Background()
	o, err := OptionsFromEnv(ctx, envconfig.MapLookuper(nil))
	if err != nil || o.AlarmWait != 0 || o.FireAlarm || o.NonceGrace != 0 {
		t.Errorf("unset: %+v, %v", o, err)
	}
	if d := o.withDefaults(); d.NonceGrace != spec.DefaultNonceGrace {
		t.Errorf("default grace %s, want %s", d.NonceGrace, spec.DefaultNonceGrace)
	}
	for name, bad := range map[string]string{"MD_NONCE_GRACE": "soon", "MD_ALARM_WAIT": "later", "MD_FIRE_ALARM": "perhaps"} {
		_, err := OptionsFromEnv(ctx, envconfig.MapLookuper(map[string]string{name: bad}))
		if err == nil || !strings.Contains(err.Error(), "MD_") {
			t.Errorf("%s=%s: %v, want an error", name, bad, err)
		}
	}
}
