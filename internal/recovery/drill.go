package recovery

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/spec"
	"github.com/mirror-dissonance/mirror-infra/verify/e2e"
	"github.com/mirror-dissonance/mirror-infra/verify/target"
)

// MetricsNamespace is where a drill publishes its figures.
const MetricsNamespace = spec.RecoveryMetricsNamespace

// MarkerKey is the key value of the drill's marker item in every table:
// one fixed key, so a sweep finds it without scanning.
const MarkerKey = spec.DrillMarkerKey

// Marker attributes.
const (
	attrDrillRun  = "mdDrillRun"
	attrWrittenAt = "mdWrittenAtMs"
)

// Drill steps, in order; a drill killed after any of them leaves only what
// Sweep removes.
const (
	StepMarker   = "marker"
	StepWaitable = "restorable"
	StepRestore  = "restore"
	StepActive   = "active"
	StepVerify   = "verify"
	StepCleanup  = "cleanup"
)

// Steps lists the drill steps in order.
var Steps = []string{StepMarker, StepWaitable, StepRestore, StepActive, StepVerify, StepCleanup}

// DrillOptions are the choices of one drill (`drill <stack> [--table ...]`).
type DrillOptions struct {
	// Tables are suffixes; none is all three.
	Tables []string
	// Run identifies the drill (random when empty); it names the scratch
	// tables and tags them.
	Run string
	// Lease is how long the drill's lease lasts unless renewed
	// (e2e.DefaultLease if 0, at least e2e.MinLease); it is renewed every
	// third of it while the drill runs. A sweep removes nothing of a drill
	// whose lease is live, and everything once it lapsed.
	Lease time.Duration
	// At restores to this time instead of the latest restorable time after
	// the marker; the marker must then be absent.
	At time.Time
	// Targets (config restoreTimeTargetMinutes, recoveryPointTargetMinutes).
	RestoreTimeTarget, RecoveryPointTarget time.Duration
	Timeout, Poll                          time.Duration
	// Margin is how far past the marker the latest restorable time must be
	// (default 1s: restore points are taken to the second).
	Margin time.Duration
	// Sample is how many restored items are compared with the live table
	// (default 100).
	Sample int
	// KMSKey encrypts the scratch tables; empty is the target's key.
	KMSKey         string
	PublishMetrics bool
	Progress       func(Progress)
	// AfterStep, when set, is called after each step; tests cancel the
	// context there to kill a drill at that step.
	AfterStep func(table, step string)
}

// Figures are one table's measurements.
type Figures struct {
	Table         string        `json:"table"`
	Scratch       string        `json:"scratch"`
	Point         time.Time     `json:"point"`
	RecoveryPoint time.Duration `json:"recoveryPointNs"`
	RestorableLag time.Duration `json:"restorableLagNs"`
	ToActive      time.Duration `json:"toActiveNs"`
	RecoveryTime  time.Duration `json:"recoveryTimeNs"`
	Sampled       int           `json:"sampled"`
	Matched       int           `json:"matched"`
	ChangedSince  int           `json:"changedSince"`
}

func (o DrillOptions) withDefaults(t target.Env) (DrillOptions, error) {
	if o.Run == "" {
		b := make([]byte, 4)
		if _, err := rand.Read(b); err != nil {
			return o, fmt.Errorf("making a drill id: %w", err)
		}
		o.Run = hex.EncodeToString(b)
	}
	if o.RestoreTimeTarget <= 0 {
		o.RestoreTimeTarget = DefaultRestoreTimeTarget
	}
	if o.RecoveryPointTarget <= 0 {
		o.RecoveryPointTarget = DefaultRecoveryPointTarget
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Poll <= 0 {
		o.Poll = DefaultPoll
	}
	if o.Lease <= 0 {
		o.Lease = e2e.DefaultLease
	}
	if o.Margin <= 0 {
		o.Margin = time.Second
	}
	if o.Sample <= 0 {
		o.Sample = 100
	}
	if o.KMSKey == "" {
		o.KMSKey = t.KMSKey
	}
	return o, nil
}

// Drill restores each table to a scratch table and proves it: a marker
// written first is there (or, with At, absent), a sample matches the live
// table, the keys, index, billing and key are kept. It measures the
// recovery point and time, holds them to the targets, and deletes the
// scratch table and the marker. The report has one check per table
// ("drill:<suffix>") with the figures in its details.
//
// Before it writes anything the drill takes a lease (an item of the
// block-counter table, as an E2E run's, named by leaseRun), renews it while
// it runs (a real restore takes 20 minutes or more) and releases it after
// its cleanup; Sweep spares what a drill with a live lease wrote. If the
// lease is lost, the steps stop and the cleanup runs.
func Drill(ctx context.Context, cfg aws.Config, t target.Env, o DrillOptions) (*report.Report, []Figures, error) {
	rep := &report.Report{Command: "drill", Stack: t.Environment, Started: time.Now()}
	tables, err := Tables(t, o.Tables...)
	if err != nil {
		return rep, nil, err
	}
	if o, err = o.withDefaults(t); err != nil {
		return rep, nil, err
	}
	db := dynamodb.NewFromConfig(cfg)
	lease, err := e2e.TakeLease(ctx, db, t.BlockCounterTable, leaseRun(o.Run), o.Lease)
	if err != nil {
		rep.Add(report.Check{ID: "drill", Status: report.Fail, Infra: true, Reason: err.Error(),
			Fix: "the drill's role needs PutItem on the block-counter table for its lease; nothing was written"})
		return rep, nil, fmt.Errorf("drill %s: %w", o.Run, err)
	}
	// The steps stop when the lease is lost; the cleanup (on ctx) still
	// runs. The lease is held until every table's cleanup is done.
	steps, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	holding, endHold := context.WithCancel(ctx)
	held := make(chan struct{})
	go func() {
		defer close(held)
		lease.Hold(holding, stop)
	}()
	// The tables are drilled at once: a real restore takes 20 minutes or
	// more, and a CI session lasts an hour.
	type result struct {
		f   Figures
		err error
	}
	results := make([]result, len(tables))
	var wg sync.WaitGroup
	for i, tbl := range tables {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f, err := drillTable(steps, ctx, db, t, tbl, o)
			if cause := context.Cause(steps); err != nil && errors.Is(cause, e2e.ErrLeaseLost) {
				err = fmt.Errorf("%w (the drill stopped: %v)", err, cause)
			}
			results[i] = result{f, err}
		}()
	}
	wg.Wait()
	endHold()
	<-held
	if ctx.Err() == nil {
		if err := lease.Release(ctx); err != nil {
			rep.Add(report.Check{ID: "drill", Status: report.Warn, Infra: true, Reason: err.Error() + "; it lapses by itself and a sweep removes it"})
		}
	} // else killed: the lease lapses and a sweep removes what is left
	var figs []Figures
	var firstErr error
	for i, tbl := range tables {
		f, err := results[i].f, results[i].err
		c := drillCheck(tbl, f, err, o)
		rep.Add(c)
		if err == nil {
			figs = append(figs, f)
		} else if firstErr == nil {
			firstErr = err
		}
		if o.PublishMetrics && ctx.Err() == nil {
			if err := publish(ctx, cfg, tbl.Name, f, c.Status == report.Pass); err != nil {
				rep.Add(report.Check{ID: "metrics:" + tbl.Suffix, Status: report.Fail, Infra: true, Reason: err.Error()})
			}
		}
	}
	rep.Elapsed = time.Since(rep.Started).Round(time.Millisecond).String()
	return rep, figs, firstErr
}

func drillCheck(tbl Table, f Figures, err error, o DrillOptions) report.Check {
	c := report.Check{ID: "drill:" + tbl.Suffix, Duration: f.RecoveryTime}
	if err != nil {
		var pe *PITRError
		c.Status, c.Reason, c.Infra = report.Fail, err.Error(), !errors.As(err, &pe) && !errors.Is(err, errVerify)
		c.Fix = "docs/operations.md section 12; `drill <stack> --sweep` removes what this run left"
		return c
	}
	secs := func(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 3, 64) }
	c.Details = map[string]string{
		"scratch": f.Scratch, "point": f.Point.UTC().Format(time.RFC3339Nano),
		"recoveryPointSeconds": secs(f.RecoveryPoint), "restorableLagSeconds": secs(f.RestorableLag),
		"toActiveSeconds": secs(f.ToActive), "recoveryTimeSeconds": secs(f.RecoveryTime),
		"sampled": strconv.Itoa(f.Sampled), "matched": strconv.Itoa(f.Matched), "changedSince": strconv.Itoa(f.ChangedSince),
		"restoreTimeTargetSeconds": secs(o.RestoreTimeTarget), "recoveryPointTargetSeconds": secs(o.RecoveryPointTarget),
	}
	var over []string
	if f.RecoveryTime > o.RestoreTimeTarget {
		over = append(over, fmt.Sprintf("recovery time %s over the target %s", f.RecoveryTime.Round(time.Second), o.RestoreTimeTarget))
	}
	if f.RecoveryPoint > o.RecoveryPointTarget {
		over = append(over, fmt.Sprintf("recovery point %s over the target %s", f.RecoveryPoint.Round(time.Second), o.RecoveryPointTarget))
	}
	if f.RestorableLag > o.RecoveryPointTarget {
		over = append(over, fmt.Sprintf("restorable lag %s over the recovery point target %s", f.RestorableLag.Round(time.Second), o.RecoveryPointTarget))
	}
	summary := fmt.Sprintf("restored and verified in %s (ACTIVE after %s); recovery point %s, restorable lag %s; %d/%d sampled items match",
		f.RecoveryTime.Round(time.Millisecond), f.ToActive.Round(time.Millisecond), f.RecoveryPoint.Round(time.Millisecond),
		f.RestorableLag.Round(time.Millisecond), f.Matched, f.Sampled)
	if len(over) > 0 {
		c.Status, c.Reason = report.Fail, strings.Join(over, "; ")+" ("+summary+")"
		c.Fix = "raise the target in the stack config only if the business accepts it; otherwise see docs/operations.md section 12"
		return c
	}
	c.Status, c.Reason = report.Pass, summary
	return c
}

var errVerify = errors.New("the restored table does not match")

func markerKey(tbl Table) Item {
	k := Item{tbl.Schema.HashKey: &types.AttributeValueMemberS{Value: MarkerKey}}
	if tbl.Schema.RangeKey != "" {
		k[tbl.Schema.RangeKey] = &types.AttributeValueMemberS{Value: MarkerKey}
	}
	return k
}

// leaseRun names a drill's lease, apart from the E2E runs' ones.
func leaseRun(run string) string { return leaseRunPrefix + run }

const leaseRunPrefix = "drill-"

// drillTable runs the steps on ctx and the cleanup on cleanupCtx (the
// drill's own context: the steps' one also ends when the lease is lost).
func drillTable(ctx, cleanupCtx context.Context, db *dynamodb.Client, t target.Env, tbl Table, o DrillOptions) (f Figures, err error) {
	f.Table, f.Scratch = tbl.Name, DrillName(tbl.Name, o.Run)
	step := func(s string) {
		if o.AfterStep != nil {
			o.AfterStep(tbl.Name, s)
		}
	}
	// Cleanup runs on every way out, with the drill's context: a killed
	// drill (context gone) leaves its table and marker to Sweep.
	cleanup := func() error {
		ctx := cleanupCtx
		var errs []error
		if _, err := db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(tbl.Name), Key: markerKey(tbl),
			ConditionExpression:       aws.String(attrDrillRun + " = :run"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":run": &types.AttributeValueMemberS{Value: o.Run}}}); err != nil && apiCode(err) != "ConditionalCheckFailedException" {
			errs = append(errs, fmt.Errorf("deleting the marker from %s: %w", tbl.Name, err))
		}
		if _, err := db.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(f.Scratch)}); err != nil && apiCode(err) != "ResourceNotFoundException" {
			errs = append(errs, fmt.Errorf("deleting the scratch table %s: %w", f.Scratch, err))
		}
		return errors.Join(errs...)
	}
	defer func() {
		if cerr := cleanup(); cerr != nil {
			err = errors.Join(err, cerr)
		} else if err == nil {
			step(StepCleanup)
		}
	}()

	if !o.At.IsZero() {
		if _, _, err := checkPoint(ctx, db, tbl.Name, o.At); err != nil {
			return f, err
		}
	}
	written := time.Now()
	marker := markerKey(tbl)
	marker[attrDrillRun] = &types.AttributeValueMemberS{Value: o.Run}
	marker[attrWrittenAt] = &types.AttributeValueMemberN{Value: strconv.FormatInt(written.UnixMilli(), 10)}
	if tbl.Schema.TTLAttribute != "" {
		// Expires by itself a day on, should neither the drill nor a sweep remove it.
		marker[tbl.Schema.TTLAttribute] = &types.AttributeValueMemberN{Value: strconv.FormatInt(written.Add(24*time.Hour).Unix(), 10)}
	}
	if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(tbl.Name), Item: marker}); err != nil {
		return f, fmt.Errorf("writing the drill marker into %s: %w", tbl.Name, err)
	}
	acked := time.Now()
	step(StepMarker)

	point := o.At
	var w Window
	if point.IsZero() {
		point, w, err = waitRestorable(ctx, db, tbl.Name, acked.Add(o.Margin), o)
		if err != nil {
			return f, err
		}
	} else if w, err = window(ctx, db, tbl.Name); err != nil {
		return f, err
	}
	f.Point = point
	f.RestorableLag = time.Since(w.Latest)
	step(StepWaitable)

	requested := time.Now()
	if err := startRestore(ctx, db, tbl.Name, f.Scratch, point, o.KMSKey); err != nil {
		return f, err
	}
	step(StepRestore)
	if err := waitActive(ctx, db, f.Scratch, requested, o.Timeout, o.Poll, o.Progress); err != nil {
		return f, err
	}
	f.ToActive = time.Since(requested)
	tags := envTags(t)
	tags[TagDrillRun], tags[TagRestoreSource], tags[TagRestorePoint] = o.Run, tbl.Name, point.UTC().Format(time.RFC3339)
	if err := reapply(ctx, db, Table{Schema: tbl.Schema, Name: f.Scratch, Suffix: tbl.Suffix}, f.Scratch, tags, false, false); err != nil {
		return f, err
	}
	step(StepActive)

	newest, err := verifyScratch(ctx, db, tbl, f.Scratch, o, written, &f)
	if err != nil {
		return f, err
	}
	f.RecoveryPoint = point.Sub(newest)
	f.RecoveryTime = time.Since(requested)
	step(StepVerify)
	return f, nil
}

// waitRestorable waits until the latest restorable time passes after and
// returns it as the restore point.
func waitRestorable(ctx context.Context, db *dynamodb.Client, table string, after time.Time, o DrillOptions) (time.Time, Window, error) {
	deadline := time.Now().Add(o.Timeout)
	next := 250 * time.Millisecond
	for {
		w, err := window(ctx, db, table)
		if err != nil {
			return time.Time{}, w, err
		}
		if !w.Enabled {
			return time.Time{}, w, &PITRError{Table: table, At: after, Window: w}
		}
		if !w.Latest.Before(after) {
			if w.Earliest.After(after) {
				return time.Time{}, w, &PITRError{Table: table, At: after, Window: w}
			}
			return w.Latest, w, nil
		}
		if time.Now().After(deadline) {
			return time.Time{}, w, fmt.Errorf("the latest restorable time of %s did not pass the marker within %s (it is %s)", table, o.Timeout, w.Latest.UTC().Format(time.RFC3339))
		}
		select {
		case <-ctx.Done():
			return time.Time{}, w, fmt.Errorf("waiting for the restorable time of %s: %w", table, ctx.Err())
		case <-time.After(min(next, o.Poll, max(time.Until(after), 10*time.Millisecond))):
			next *= 2
		}
	}
}

// verifyScratch proves the scratch table: the structure is the live
// table's, the marker is there (absent when restoring to a time before
// it), and sampled items match the live table or changed there since. It
// returns the newest write found (the marker's time; the restore point
// itself when the marker is rightly absent).
func verifyScratch(ctx context.Context, db *dynamodb.Client, tbl Table, scratch string, o DrillOptions, written time.Time, f *Figures) (time.Time, error) {
	live, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(tbl.Name)})
	if err != nil {
		return time.Time{}, fmt.Errorf("describing %s: %w", tbl.Name, err)
	}
	got, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(scratch)})
	if err != nil {
		return time.Time{}, fmt.Errorf("describing %s: %w", scratch, err)
	}
	if p := structureProblems(live.Table, got.Table); len(p) > 0 {
		return time.Time{}, fmt.Errorf("%w: %s", errVerify, strings.Join(p, "; "))
	}
	m, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(scratch), Key: markerKey(tbl), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return time.Time{}, fmt.Errorf("reading the marker in %s: %w", scratch, err)
	}
	run, _ := m.Item[attrDrillRun].(*types.AttributeValueMemberS)
	var newest time.Time
	switch {
	case !o.At.IsZero() && o.At.Before(written):
		if run != nil && run.Value == o.Run {
			return time.Time{}, fmt.Errorf("%w: the marker written at %s is in a restore as of the earlier %s", errVerify, written.UTC().Format(time.RFC3339Nano), o.At.UTC().Format(time.RFC3339Nano))
		}
		newest = o.At
	case run == nil || run.Value != o.Run:
		return time.Time{}, fmt.Errorf("%w: the marker of run %s is missing from %s", errVerify, o.Run, scratch)
	default:
		at, _ := m.Item[attrWrittenAt].(*types.AttributeValueMemberN)
		ms, _ := strconv.ParseInt(at.Value, 10, 64)
		newest = time.UnixMilli(ms)
	}
	sample, err := db.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(scratch), Limit: aws.Int32(int32(o.Sample))})
	if err != nil {
		return time.Time{}, fmt.Errorf("sampling %s: %w", scratch, err)
	}
	for _, it := range sample.Items {
		if _, isMarker := it[attrDrillRun]; isMarker {
			continue
		}
		if bk, ok := it[spec.AttrBucketKey].(*types.AttributeValueMemberS); ok && e2e.IsLease(bk.Value) {
			continue // a run's lease (this drill's too), renewed since the point
		}
		k := Item{tbl.Schema.HashKey: it[tbl.Schema.HashKey]}
		if tbl.Schema.RangeKey != "" {
			k[tbl.Schema.RangeKey] = it[tbl.Schema.RangeKey]
		}
		l, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(tbl.Name), Key: k, ConsistentRead: aws.Bool(true)})
		if err != nil {
			return time.Time{}, fmt.Errorf("reading %s for the sample: %w", tbl.Name, err)
		}
		f.Sampled++
		if reflect.DeepEqual(l.Item, it) {
			f.Matched++
		} else {
			f.ChangedSince++ // changed or deleted in the live table since the point
		}
	}
	if f.Sampled > 0 && f.Matched == 0 {
		return time.Time{}, fmt.Errorf("%w: none of the %d sampled items of %s matches the live table", errVerify, f.Sampled, scratch)
	}
	return newest, nil
}

// structureProblems: a restore keeps keys, indexes, billing and (with the
// override) the key.
func structureProblems(live, got *types.TableDescription) []string {
	var out []string
	keys := func(d *types.TableDescription) []string {
		var k []string
		for _, e := range d.KeySchema {
			k = append(k, aws.ToString(e.AttributeName)+":"+string(e.KeyType))
		}
		return k
	}
	if !slices.Equal(keys(live), keys(got)) {
		out = append(out, fmt.Sprintf("keys %v, live %v", keys(got), keys(live)))
	}
	idx := func(d *types.TableDescription) []string {
		var n []string
		for _, g := range d.GlobalSecondaryIndexes {
			n = append(n, aws.ToString(g.IndexName))
		}
		slices.Sort(n)
		return n
	}
	if !slices.Equal(idx(live), idx(got)) {
		out = append(out, fmt.Sprintf("indexes %v, live %v", idx(got), idx(live)))
	}
	billing := func(d *types.TableDescription) string {
		if d.BillingModeSummary == nil {
			return string(types.BillingModeProvisioned)
		}
		return string(d.BillingModeSummary.BillingMode)
	}
	if billing(live) != billing(got) {
		out = append(out, fmt.Sprintf("billing %s, live %s", billing(got), billing(live)))
	}
	// The scratch table is encrypted with the environment key, the live
	// table's.
	if got.SSEDescription == nil || live.SSEDescription == nil ||
		aws.ToString(got.SSEDescription.KMSMasterKeyArn) != aws.ToString(live.SSEDescription.KMSMasterKeyArn) {
		out = append(out, "not encrypted with the live table's key")
	}
	return out
}

func publish(ctx context.Context, cfg aws.Config, table string, f Figures, ok bool) error {
	dim := []cwtypes.Dimension{{Name: aws.String("TableName"), Value: aws.String(table)}}
	now := time.Now()
	datum := func(name string, v float64, unit cwtypes.StandardUnit) cwtypes.MetricDatum {
		return cwtypes.MetricDatum{MetricName: aws.String(name), Dimensions: dim, Value: aws.Float64(v), Unit: unit, Timestamp: aws.Time(now)}
	}
	success := 0.0
	if ok {
		success = 1
	}
	data := []cwtypes.MetricDatum{datum("DrillSucceeded", success, cwtypes.StandardUnitCount)}
	if ok {
		data = append(data,
			datum("RecoveryTimeSeconds", f.RecoveryTime.Seconds(), cwtypes.StandardUnitSeconds),
			datum("RecoveryPointSeconds", f.RecoveryPoint.Seconds(), cwtypes.StandardUnitSeconds),
			datum("RestorableLagSeconds", f.RestorableLag.Seconds(), cwtypes.StandardUnitSeconds))
	}
	if _, err := cloudwatch.NewFromConfig(cfg).PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String(MetricsNamespace), MetricData: data}); err != nil {
		return fmt.Errorf("publishing the drill figures of %s to %s: %w", table, MetricsNamespace, err)
	}
	return nil
}
