package recovery

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/mirror-dissonance/mirror-infra/emulator"
	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/spec"
	"github.com/mirror-dissonance/mirror-infra/verify/e2e"
	"github.com/mirror-dissonance/mirror-infra/verify/target"
)

func newEnv(t *testing.T) (*emulator.TestEnv, *dynamodb.Client) {
	t.Helper()
	env := emulator.NewTestEnv(t, emulator.SeedOptions{SkipOIDCProvider: true})
	env.Emulator.SetRestoreTiming(200*time.Millisecond, 100*time.Millisecond)
	return env, dynamodb.NewFromConfig(env.Config)
}

func fast(o RestoreOptions) RestoreOptions {
	o.Poll = 25 * time.Millisecond
	if o.Timeout == 0 {
		o.Timeout = 10 * time.Second
	}
	return o
}

func org(id, v string) Item {
	return Item{spec.AttrOrgID: &types.AttributeValueMemberS{Value: id}, "v": &types.AttributeValueMemberS{Value: v}}
}

func orgKey(id string) string { return spec.AttrOrgID + `="` + id + `"` }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// history writes a, b and x at t1, then changes a, deletes b and puts c; it
// returns t1 once the latest restorable time has passed the changes.
func history(t *testing.T, db *dynamodb.Client, table string) time.Time {
	t.Helper()
	ctx := context.Background()
	for _, it := range []Item{org("a", "1"), org("b", "1")} {
		_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: it})
		must(t, err)
	}
	time.Sleep(10 * time.Millisecond)
	t1 := time.Now()
	time.Sleep(10 * time.Millisecond)
	_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: org("a", "2")})
	must(t, err)
	_, err = db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: Item{spec.AttrOrgID: &types.AttributeValueMemberS{Value: "b"}}})
	must(t, err)
	_, err = db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: org("c", "1")})
	must(t, err)
	time.Sleep(150 * time.Millisecond) // past the restorable lag
	return t1
}

// TestRestoreAsOfTime: a restore before the change, delete and put shows
// exactly those as the diff; one after them shows none; what a restore
// drops is re-applied.
func TestRestoreAsOfTime(t *testing.T) {
	ctx := context.Background()
	env, db := newEnv(t)
	tgt := env.Target()
	t1 := history(t, db, tgt.ConsentTable)

	var seen []string
	rep, res, err := Restore(ctx, env.Config, tgt, fast(RestoreOptions{Table: spec.TableConsent, To: t1,
		Progress: func(p Progress) { seen = append(seen, p.Status) }}))
	if err != nil {
		t.Fatal(err)
	}
	d := res.Diff
	if fmt.Sprint(d.OnlyRestored) != fmt.Sprint([]string{orgKey("b")}) || fmt.Sprint(d.OnlyLive) != fmt.Sprint([]string{orgKey("c")}) ||
		len(d.Different) != 1 || d.Different[0].Key != orgKey("a") || fmt.Sprint(d.Different[0].Attributes) != "[v]" {
		t.Errorf("diff as of t1: %+v", d)
	}
	if !slices.Contains(seen, "CREATING") || seen[len(seen)-1] != "ACTIVE" {
		t.Errorf("progress %v: want CREATING then ACTIVE", seen)
	}
	if !strings.HasPrefix(res.Table, tgt.ConsentTable+"-restore-") || rep.ExitCode() != 0 {
		t.Errorf("table %s, exit %d: %+v", res.Table, rep.ExitCode(), rep.Checks)
	}
	desc, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(res.Table)})
	must(t, err)
	if !aws.ToBool(desc.Table.DeletionProtectionEnabled) {
		t.Error("deletion protection not re-applied")
	}
	tags, err := db.ListTagsOfResource(ctx, &dynamodb.ListTagsOfResourceInput{ResourceArn: desc.Table.TableArn})
	must(t, err)
	got := map[string]string{}
	for _, tg := range tags.Tags {
		got[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	if got[TagRestoreSource] != tgt.ConsentTable || got[TagRestorePoint] == "" || got[spec.TagKeyEnvironment] != tgt.Environment {
		t.Errorf("tags %v", got)
	}
	// Values never appear in the report, only keys and attribute names.
	for _, c := range rep.Checks {
		if strings.Contains(fmt.Sprint(c), `"2"`) {
			t.Errorf("a value reached the report: %+v", c)
		}
	}

	_, res2, err := Restore(ctx, env.Config, tgt, fast(RestoreOptions{Table: spec.TableConsent, Into: tgt.ConsentTable + "-restore-latest"}))
	if err != nil {
		t.Fatal(err)
	}
	if d := res2.Diff; len(d.OnlyRestored)+len(d.OnlyLive)+len(d.Different) != 0 || d.Same != 2 {
		t.Errorf("diff as of the latest time: %+v", d)
	}
}

// TestRestoreTimeout: a restore still CREATING past the timeout fails
// clearly (exit 3); a sweep removes the table once DynamoDB lets it.
func TestRestoreTimeout(t *testing.T) {
	ctx := context.Background()
	env, db := newEnv(t)
	tgt := env.Target()
	env.Emulator.SetRestoreTiming(1500*time.Millisecond, -1)
	time.Sleep(150 * time.Millisecond)
	rep, res, err := Restore(ctx, env.Config, tgt, fast(RestoreOptions{Table: spec.TableBlockCounter, Timeout: 300 * time.Millisecond}))
	if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "CREATING") || !strings.Contains(err.Error(), "--sweep") {
		t.Fatalf("err = %v", err)
	}
	if rep.ExitCode() != report.ExitEngine {
		t.Errorf("exit %d, want 3", rep.ExitCode())
	}
	left, err := Leftovers(ctx, env.Config, tgt)
	must(t, err)
	if len(left) != 1 || left[0].Name != res.Table {
		t.Errorf("leftovers %+v, want the restore %s", left, res.Table)
	}
	time.Sleep(1500 * time.Millisecond)
	if _, _, err := Sweep(ctx, env.Config, tgt); err != nil {
		t.Fatal(err)
	}
	if _, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(res.Table)}); apiCode(err) != "ResourceNotFoundException" {
		t.Errorf("the timed-out restore is still there: %v", err)
	}
	if left, _ := Leftovers(ctx, env.Config, tgt); len(left) != 0 {
		t.Errorf("left after the sweep: %+v", left)
	}
}

// TestCopyBack: only with the fingerprint's approval; a deleted item comes
// back, an item changed since the restore point is reported and not
// overwritten, nothing is deleted.
func TestCopyBack(t *testing.T) {
	ctx := context.Background()
	env, db := newEnv(t)
	tgt := env.Target()
	t1 := history(t, db, tgt.ConsentTable)
	into := tgt.ConsentTable + "-restore-copy"
	opts := fast(RestoreOptions{Table: spec.TableConsent, To: t1, Into: into,
		CopyBack: true, CopyKeys: []string{orgKey("a"), orgKey("b"), orgKey("c")}})
	rep, res, err := Restore(ctx, env.Config, tgt, opts)
	if err == nil || !strings.Contains(err.Error(), res.Fingerprint) || rep.ExitCode() != report.ExitFailed {
		t.Fatalf("unapproved copy-back: err %v, exit %d", err, rep.ExitCode())
	}
	if live := liveOrgs(t, db, tgt.ConsentTable); live != "[a=2 c=1]" {
		t.Fatalf("an unapproved copy-back changed the live table: %s", live)
	}
	// Approve what was shown, against the same restored table (found by
	// its name).
	opts.Approve = res.Fingerprint
	rep, res, err = Restore(ctx, env.Config, tgt, opts)
	if err != nil {
		t.Fatal(err)
	}
	c := res.Copy
	if fmt.Sprint(c.Copied) != fmt.Sprint([]string{orgKey("b")}) || fmt.Sprint(c.Conflicting) != fmt.Sprint([]string{orgKey("a")}) ||
		fmt.Sprint(c.Skipped) != fmt.Sprint([]string{orgKey("c")}) {
		t.Errorf("copy %+v", c)
	}
	if live := liveOrgs(t, db, tgt.ConsentTable); live != "[a=2 b=1 c=1]" {
		t.Errorf("live table after the copy-back: %s, want a unchanged, b back, c kept", live)
	}
	if ch, _ := rep.Find("copy-back"); ch.Status != report.Warn {
		t.Errorf("copy-back check %+v", ch)
	}
	// Only a restore of the live table may feed it.
	other := opts
	other.Into = tgt.BlockCounterTable
	if _, _, err := Restore(ctx, env.Config, tgt, other); err == nil || !strings.Contains(err.Error(), "is not a restore of") {
		t.Errorf("copy from a table that is not a restore: %v", err)
	}
	// Another choice needs another approval.
	opts.CopyKeys = []string{orgKey("b")}
	if _, _, err := Restore(ctx, env.Config, tgt, opts); err == nil {
		t.Error("a different choice was accepted with the old fingerprint")
	}
}

func liveOrgs(t *testing.T, db *dynamodb.Client, table string) string {
	t.Helper()
	out, err := db.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(table)})
	must(t, err)
	var got []string
	for _, it := range out.Items {
		v, ok := it["v"].(*types.AttributeValueMemberS)
		if !ok {
			continue
		}
		got = append(got, it[spec.AttrOrgID].(*types.AttributeValueMemberS).Value+"="+v.Value)
	}
	slices.Sort(got)
	return fmt.Sprint(got)
}

func drillOpts() DrillOptions {
	return DrillOptions{Poll: 25 * time.Millisecond, Timeout: 10 * time.Second, Margin: 20 * time.Millisecond}
}

// TestDrill: every table restored, verified and measured; the figures are
// published; nothing is left.
func TestDrill(t *testing.T) {
	ctx := context.Background()
	env, db := newEnv(t)
	tgt := env.Target()
	history(t, db, tgt.ConsentTable)
	o := drillOpts()
	o.PublishMetrics = true
	start := time.Now()
	rep, figs, err := Drill(ctx, env.Config, tgt, o)
	if err != nil {
		t.Fatalf("%v: %+v", err, rep.Checks)
	}
	t.Logf("drill of 3 tables against the emulator: %s", time.Since(start).Round(time.Millisecond))
	if len(figs) != 3 || rep.ExitCode() != 0 {
		t.Fatalf("figures %+v, checks %+v", figs, rep.Checks)
	}
	for _, f := range figs {
		t.Logf("%s: recovery point %s, lag %s, to ACTIVE %s, recovery time %s, sample %d/%d",
			f.Table, f.RecoveryPoint, f.RestorableLag, f.ToActive, f.RecoveryTime, f.Matched, f.Sampled)
		if f.RecoveryPoint <= 0 || f.RecoveryTime < 200*time.Millisecond || f.RestorableLag < 100*time.Millisecond {
			t.Errorf("%s: implausible figures %+v", f.Table, f)
		}
	}
	if ch, _ := rep.Find("drill:" + spec.TableConsent); ch.Details["matched"] != "2" {
		t.Errorf("consent sample: %+v", ch.Details)
	}
	metrics, err := cloudwatch.NewFromConfig(env.Config).ListMetrics(ctx, &cloudwatch.ListMetricsInput{Namespace: aws.String(MetricsNamespace)})
	must(t, err)
	if len(metrics.Metrics) < 4 {
		t.Errorf("published metrics: %+v", metrics.Metrics)
	}
	if left, _ := Leftovers(ctx, env.Config, tgt); len(left) != 0 {
		t.Errorf("left after a drill: %+v", left)
	}
	// Held to the targets: a target the emulator's restore cannot meet fails.
	o.PublishMetrics, o.Tables, o.RestoreTimeTarget = false, []string{spec.TableConsent}, time.Millisecond
	rep, _, _ = Drill(ctx, env.Config, tgt, o)
	if ch, _ := rep.Find("drill:" + spec.TableConsent); ch.Status != report.Fail || !strings.Contains(ch.Reason, "over the target") {
		t.Errorf("target check %+v", ch)
	}
}

// TestDrillKilledAtEachStepThenSwept: a drill killed after any step leaves
// only what Sweep finds and removes; the live table keeps its items.
func TestDrillKilledAtEachStepThenSwept(t *testing.T) {
	env, db := newEnv(t)
	tgt := env.Target()
	history(t, db, tgt.ConsentTable)
	before := liveOrgs(t, db, tgt.ConsentTable)
	for _, step := range Steps[:len(Steps)-1] {
		t.Run(step, func(t *testing.T) {
			ctx, kill := context.WithCancel(context.Background())
			o := drillOpts()
			o.Tables, o.Lease = []string{spec.TableConsent}, e2e.MinLease
			o.AfterStep = func(_, s string) {
				if s == step {
					kill()
				}
			}
			if _, _, err := Drill(ctx, env.Config, tgt, o); err == nil {
				t.Fatal("a killed drill reported success")
			}
			bg := context.Background()
			left, err := Leftovers(bg, env.Config, tgt)
			must(t, err)
			if len(left) == 0 {
				t.Fatal("a drill killed after the marker left nothing to find: the kill did not stop it")
			}
			for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
				rep, _, err := Sweep(bg, env.Config, tgt)
				must(t, err)
				if ch, _ := rep.Find("sweep"); ch.Status == report.Pass || time.Now().After(deadline) {
					break
				}
			}
			if left, _ := Leftovers(bg, env.Config, tgt); len(left) != 0 {
				t.Errorf("left after the sweep: %+v", left)
			}
			if _, err := db.DescribeTable(bg, &dynamodb.DescribeTableInput{TableName: aws.String(tgt.ConsentTable)}); err != nil {
				t.Errorf("the live table: %v", err)
			}
			if got := liveOrgs(t, db, tgt.ConsentTable); got != before {
				t.Errorf("live items %s, were %s", got, before)
			}
		})
	}
}

// TestDrillPITR: a drill to a time before PITR was enabled, or on a table
// without PITR, fails clearly and leaves nothing.
func TestDrillPITR(t *testing.T) {
	ctx := context.Background()
	env, db := newEnv(t)
	tgt := env.Target()
	set := func(on bool) {
		_, err := db.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{TableName: aws.String(tgt.BlockCounterTable),
			PointInTimeRecoverySpecification: &types.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(on)}})
		must(t, err)
	}
	set(false)
	requested := time.Now()
	time.Sleep(20 * time.Millisecond)
	set(true)
	time.Sleep(150 * time.Millisecond)
	o := drillOpts()
	o.Tables, o.At = []string{spec.TableBlockCounter}, requested
	rep, _, err := Drill(ctx, env.Config, tgt, o)
	var pe *PITRError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "when PITR was last enabled") {
		t.Errorf("before PITR: %v", err)
	}
	if rep.ExitCode() != report.ExitFailed {
		t.Errorf("exit %d, want 1", rep.ExitCode())
	}
	set(false)
	o.At = time.Time{}
	if _, _, err := Drill(ctx, env.Config, tgt, o); !errors.As(err, &pe) || !strings.Contains(err.Error(), "point-in-time recovery is off") {
		t.Errorf("PITR off: %v", err)
	}
	if left, _ := Leftovers(ctx, env.Config, tgt); len(left) != 0 {
		t.Errorf("left: %+v", left)
	}
}

// TestDrillCatchesADroppedIndex: a restore that loses the index fails the
// drill's structure check (the rehearsal's --break defect).
func TestDrillCatchesADroppedIndex(t *testing.T) {
	ctx := context.Background()
	env, _ := newEnv(t)
	env.Emulator.BreakRestoreIndexes(true)
	o := drillOpts()
	o.Tables = []string{spec.TableFPEvents}
	rep, _, err := Drill(ctx, env.Config, env.Target(), o)
	if !errors.Is(err, errVerify) || !strings.Contains(err.Error(), "indexes") {
		t.Fatalf("err = %v", err)
	}
	if rep.ExitCode() != report.ExitFailed {
		t.Errorf("exit %d, want 1", rep.ExitCode())
	}
	if left, _ := Leftovers(ctx, env.Config, env.Target()); len(left) != 0 {
		t.Errorf("left: %+v", left)
	}
}

// TestRehearsalStep: one check for the rehearsal, failing on the index
// defect.
func TestRehearsalStep(t *testing.T) {
	env, _ := newEnv(t)
	c := RehearsalStep(context.Background(), env.Config, env.Target())
	if c.Status != report.Pass || c.Details["drill:consent.recoveryTimeSeconds"] == "" {
		t.Fatalf("%+v", c)
	}
	env.Emulator.BreakRestoreIndexes(true)
	if c := RehearsalStep(context.Background(), env.Config, env.Target()); c.Status != report.Fail || c.Infra || !strings.Contains(c.Reason, "drill:fp-events") {
		t.Errorf("with the index defect: %+v", c)
	}
}

// TestDrillWithDefaults: the drill as `drill <stack>` runs it (default
// options) against an emulator with its default restore timing; the
// elapsed time is the figure the issue asks for.
func TestDrillWithDefaults(t *testing.T) {
	env := emulator.NewTestEnv(t, emulator.SeedOptions{SkipOIDCProvider: true})
	start := time.Now()
	rep, figs, err := Drill(context.Background(), env.Config, env.Target(), DrillOptions{})
	if err != nil || len(figs) != 3 {
		t.Fatalf("%v: %+v", err, rep.Checks)
	}
	t.Logf("drill of 3 tables, emulator defaults (restore %s, lag %s): %s", emulator.DefaultRestoreDuration, emulator.DefaultRestorableLag, time.Since(start).Round(time.Millisecond))
	for _, f := range figs {
		t.Logf("%s: recovery point %s, lag %s, to ACTIVE %s, recovery time %s", f.Table, f.RecoveryPoint.Round(time.Millisecond),
			f.RestorableLag.Round(time.Millisecond), f.ToActive.Round(time.Millisecond), f.RecoveryTime.Round(time.Millisecond))
	}
}

// TestSweepLeavesWhatIsNotADrills: a table named like a scratch table but
// not restored from the live table, a finished restore (the operator's),
// the live tables and their items stay.
func TestSweepLeavesWhatIsNotADrills(t *testing.T) {
	ctx := context.Background()
	env, db := newEnv(t)
	tgt := env.Target()
	history(t, db, tgt.ConsentTable)
	lookalike := tgt.ConsentTable + "-drill-lookalike"
	_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String(lookalike), BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("k"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("k"), KeyType: types.KeyTypeHash}}})
	must(t, err)
	_, res, err := Restore(ctx, env.Config, tgt, fast(RestoreOptions{Table: spec.TableConsent}))
	must(t, err)
	before := liveOrgs(t, db, tgt.ConsentTable)
	_, removed, err := Sweep(ctx, env.Config, tgt)
	must(t, err)
	if len(removed) != 0 {
		t.Errorf("the sweep removed %+v", removed)
	}
	for _, name := range []string{lookalike, res.Table, tgt.ConsentTable, tgt.FPEventsTable, tgt.BlockCounterTable} {
		if _, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if got := liveOrgs(t, db, tgt.ConsentTable); got != before {
		t.Errorf("live items %s, were %s", got, before)
	}
}

// markerOf returns the run of the drill marker in table ("" if none).
func markerOf(t *testing.T, db *dynamodb.Client, tbl Table) string {
	t.Helper()
	out, err := db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(tbl.Name), Key: markerKey(tbl), ConsistentRead: aws.Bool(true)})
	must(t, err)
	if run, ok := out.Item[attrDrillRun].(*types.AttributeValueMemberS); ok {
		return run.Value
	}
	return ""
}

func tableExists(t *testing.T, db *dynamodb.Client, name string) bool {
	t.Helper()
	_, err := db.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	if apiCode(err) == "ResourceNotFoundException" {
		return false
	}
	must(t, err)
	return true
}

// TestSweepSparesALiveDrill: a sweep while a drill runs (paused after
// each step, or waiting on a long restore) removes nothing of it, however
// long ago its lease was first taken; the drill then finishes, verified,
// and leaves nothing.
func TestSweepSparesALiveDrill(t *testing.T) {
	env, db := newEnv(t)
	tgt := env.Target()
	history(t, db, tgt.ConsentTable)
	tables, err := Tables(tgt, spec.TableConsent)
	must(t, err)
	tbl := tables[0]
	for _, pause := range []string{StepMarker, StepWaitable, StepRestore, StepActive, StepVerify, "long restore"} {
		t.Run(pause, func(t *testing.T) {
			ctx := context.Background()
			o := drillOpts()
			o.Tables, o.Run = []string{spec.TableConsent}, "live"+strings.ReplaceAll(pause, " ", "")
			o.Lease = 300 * time.Millisecond // renewed every 100 ms while the drill runs
			scratch := DrillName(tbl.Name, o.Run)
			paused, resume := make(chan struct{}), make(chan struct{})
			if pause == "long restore" {
				env.Emulator.SetRestoreTiming(2*time.Second, -1)
				defer env.Emulator.SetRestoreTiming(200*time.Millisecond, -1)
				go func() {
					for !tableExists(t, db, scratch) {
						time.Sleep(20 * time.Millisecond)
					}
					close(paused)
				}()
			} else {
				o.AfterStep = func(_, s string) {
					if s == pause {
						close(paused)
						<-resume
					}
				}
			}
			type result struct {
				rep *report.Report
				err error
			}
			done := make(chan result, 1)
			go func() {
				rep, _, err := Drill(ctx, env.Config, tgt, o)
				done <- result{rep, err}
			}()
			select {
			case <-paused:
			case r := <-done:
				t.Fatalf("the drill ended before %s: %v", pause, r.err)
			case <-time.After(10 * time.Second):
				t.Fatalf("the drill did not reach %s", pause)
			}
			time.Sleep(3 * o.Lease) // past the lease as first taken
			before, err := Leftovers(ctx, env.Config, tgt)
			must(t, err)
			rep, removed, err := Sweep(ctx, env.Config, tgt)
			must(t, err)
			if len(removed) != 0 {
				t.Errorf("the sweep removed %+v of a live drill", removed)
			}
			if ch, _ := rep.Find("sweep"); ch.Status != report.Warn || !strings.Contains(ch.Reason, "live drill") {
				t.Errorf("sweep check %+v: want a warning naming the live drill", ch)
			}
			for _, l := range before {
				if !l.Live || l.Run != o.Run {
					t.Errorf("leftover %+v: want run %s, live", l, o.Run)
				}
			}
			if got := markerOf(t, db, tbl); got != o.Run {
				t.Errorf("the marker of the live drill is %q after the sweep", got)
			}
			if slices.Index(Steps, pause) >= slices.Index(Steps, StepRestore) || pause == "long restore" {
				if !tableExists(t, db, scratch) {
					t.Errorf("the sweep removed the scratch table %s of a live drill", scratch)
				}
			}
			close(resume)
			r := <-done
			if r.err != nil || r.rep.ExitCode() != 0 {
				t.Fatalf("the drill after the sweep: %v: %+v", r.err, r.rep.Checks)
			}
			if left, _ := Leftovers(ctx, env.Config, tgt); len(left) != 0 {
				t.Errorf("left after the drill: %+v", left)
			}
			if tableExists(t, db, scratch) || markerOf(t, db, tbl) != "" {
				t.Error("the drill left its scratch table or marker")
			}
		})
	}
}

// leaseHeld reports whether the lease item of drill run is in the
// block-counter table.
func leaseHeld(t *testing.T, db *dynamodb.Client, tgt target.Env, run string) bool {
	t.Helper()
	out, err := db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(tgt.BlockCounterTable), ConsistentRead: aws.Bool(true),
		Key: Item{spec.AttrBucketKey: &types.AttributeValueMemberS{Value: e2e.LeaseKey(leaseRun(run))}}})
	must(t, err)
	return len(out.Item) > 0
}

// TestKilledDrillSweptOnceItsLeaseLapses: a drill killed without cleanup
// (its context cancelled: no renewal, no release) keeps its scratch table
// and marker from a sweep until its lease lapses; the sweep after that
// removes them and the lease.
func TestKilledDrillSweptOnceItsLeaseLapses(t *testing.T) {
	env, db := newEnv(t)
	tgt := env.Target()
	tables, err := Tables(tgt, spec.TableConsent)
	must(t, err)
	tbl := tables[0]
	ctx, kill := context.WithCancel(context.Background())
	o := drillOpts()
	o.Tables, o.Run, o.Lease = []string{spec.TableConsent}, "killed", 2*time.Second
	var killed time.Time
	o.AfterStep = func(_, s string) {
		if s == StepActive {
			killed = time.Now()
			kill()
		}
	}
	if _, _, err := Drill(ctx, env.Config, tgt, o); err == nil {
		t.Fatal("a killed drill reported success")
	}
	bg := context.Background()
	scratch := DrillName(tbl.Name, o.Run)
	_, removed, err := Sweep(bg, env.Config, tgt)
	must(t, err)
	// The lease was renewed at most a third of it before the kill.
	if time.Since(killed) < o.Lease*2/3 && len(removed) != 0 {
		t.Errorf("a sweep before the lease lapsed removed %+v", removed)
	}
	if !tableExists(t, db, scratch) || markerOf(t, db, tbl) != o.Run || !leaseHeld(t, db, tgt, o.Run) {
		t.Fatal("the killed drill left no scratch table, marker or lease: the kill did not stop it")
	}
	time.Sleep(time.Until(killed.Add(o.Lease + 100*time.Millisecond)))
	left, err := Leftovers(bg, env.Config, tgt)
	must(t, err)
	if len(left) != 2 || left[0].Live || left[1].Live {
		t.Errorf("leftovers after the lapse %+v: want the table and the marker, not live", left)
	}
	rep, removed, err := Sweep(bg, env.Config, tgt)
	must(t, err)
	if ch, _ := rep.Find("sweep"); ch.Status != report.Pass || len(removed) != 2 || !strings.Contains(ch.Reason, "released 1 lapsed lease") {
		t.Errorf("sweep %+v, removed %+v: want the table, the marker and the lease", ch, removed)
	}
	if tableExists(t, db, scratch) || markerOf(t, db, tbl) != "" || leaseHeld(t, db, tgt, o.Run) {
		t.Error("the sweep left the scratch table, the marker or the lease of a dead drill")
	}
}

// TestLeaseAloneGoesWithTheE2ESweep: a drill killed after taking its
// lease and before writing anything leaves only the lease, which the
// drill's sweep cannot find (its role may not scan the block-counter
// table); the E2E sweep keeps it while live and releases it once lapsed,
// as it does an E2E run's.
func TestLeaseAloneGoesWithTheE2ESweep(t *testing.T) {
	ctx := context.Background()
	env, db := newEnv(t)
	tgt := env.Target()
	_, err := e2e.TakeLease(ctx, db, tgt.BlockCounterTable, leaseRun("alone"), e2e.MinLease)
	must(t, err)
	if _, removed, err := Sweep(ctx, env.Config, tgt); err != nil || len(removed) != 0 {
		t.Errorf("the drill's sweep: removed %+v, %v", removed, err)
	}
	c := e2e.Clients{DynamoDB: db}
	o := e2e.SweepOptions{TempDir: t.TempDir()}
	if res, err := e2e.Sweep(ctx, c, tgt, o); err != nil || res.Leases != 0 || !leaseHeld(t, db, tgt, "alone") {
		t.Errorf("the E2E sweep while the lease is live: %+v, %v", res, err)
	}
	time.Sleep(e2e.MinLease + 50*time.Millisecond)
	if res, err := e2e.Sweep(ctx, c, tgt, o); err != nil || res.Leases != 1 || leaseHeld(t, db, tgt, "alone") {
		t.Errorf("the E2E sweep after the lapse: %+v, %v", res, err)
	}
}

// TestDrillOfBlockCounterWithARenewedLease: the drill's own lease (in the
// block-counter table, renewed during the restore so it differs from its
// restored copy) is not a sampled item: a drill of an otherwise empty
// block-counter table passes.
func TestDrillOfBlockCounterWithARenewedLease(t *testing.T) {
	env, _ := newEnv(t)
	env.Emulator.SetRestoreTiming(time.Second, -1)
	o := drillOpts()
	o.Tables, o.Lease = []string{spec.TableBlockCounter}, e2e.MinLease
	rep, figs, err := Drill(context.Background(), env.Config, env.Target(), o)
	if err != nil || len(figs) != 1 {
		t.Fatalf("%v: %+v", err, rep.Checks)
	}
	if figs[0].Sampled != 0 {
		t.Errorf("sampled %d items of an empty table: the lease was sampled", figs[0].Sampled)
	}
}
