// Package recovery restores the environment's DynamoDB tables from
// point-in-time recovery and proves that it works (SPEC 3.5): Restore
// brings a table back as of a time into a new table, re-applies what a
// restore drops, diffs it with the live table and copies approved items
// back without overwriting newer ones; Drill restores each table to a
// scratch table, verifies it and measures recovery point and time; Sweep
// removes what a killed drill left. Nothing here deletes from a live table
// or deletes a live table.
package recovery

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/mirror-dissonance/mirror-infra/spec"
	"github.com/mirror-dissonance/mirror-infra/verify/target"
)

// Tag keys recovery puts on the tables it makes.
const (
	TagRestoreSource = "MirrorDissonance:RestoreSource"
	TagRestorePoint  = "MirrorDissonance:RestorePoint"
	TagDrillRun      = "MirrorDissonance:DrillRun"
)

// Defaults. A real restore takes 20 minutes to an hour and cannot be
// predicted, so the default timeout leaves room for a slow one.
const (
	DefaultTimeout             = 90 * time.Minute
	DefaultPoll                = 15 * time.Second
	DefaultReadBudget          = 10000
	DefaultRestoreTimeTarget   = 60 * time.Minute
	DefaultRecoveryPointTarget = 15 * time.Minute
)

// ErrTimeout is returned (wrapped) when a restored table is not ACTIVE
// within the timeout.
var ErrTimeout = errors.New("the restored table did not become ACTIVE in time")

// Progress is one observation while waiting for a restore.
type Progress struct {
	Table   string
	Status  string
	Elapsed time.Duration
}

// Table is one live table of the environment.
type Table struct {
	Suffix string
	Name   string
	Schema spec.TableSchema
}

// Tables resolves table suffixes (all three when none) to the target's
// live tables.
func Tables(t target.Env, suffixes ...string) ([]Table, error) {
	if len(suffixes) == 0 {
		suffixes = spec.TableSuffixes
	}
	names := map[string]string{
		spec.TableFPEvents: t.FPEventsTable, spec.TableConsent: t.ConsentTable, spec.TableBlockCounter: t.BlockCounterTable,
	}
	var out []Table
	for _, s := range suffixes {
		schema, ok := spec.Schema(s)
		if !ok {
			return nil, fmt.Errorf("unknown table %q: want one of %s", s, strings.Join(spec.TableSuffixes, ", "))
		}
		if names[s] == "" {
			return nil, fmt.Errorf("the target names no %s table", s)
		}
		out = append(out, Table{Suffix: s, Name: names[s], Schema: schema})
	}
	return out, nil
}

// RestoreName is the default name of a restore of table at t.
func RestoreName(table string, t time.Time) string {
	return table + "-restore-" + t.UTC().Format("20060102t150405z")
}

// DrillName is the scratch table of a drill run.
func DrillName(table, run string) string { return table + "-drill-" + run }

// Window is a table's restorable window.
type Window struct {
	Enabled          bool
	Earliest, Latest time.Time
}

func window(ctx context.Context, db *dynamodb.Client, table string) (Window, error) {
	out, err := db.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String(table)})
	if err != nil {
		return Window{}, fmt.Errorf("reading the PITR window of %s: %w", table, err)
	}
	p := out.ContinuousBackupsDescription.PointInTimeRecoveryDescription
	if p == nil || p.PointInTimeRecoveryStatus != types.PointInTimeRecoveryStatusEnabled {
		return Window{}, nil
	}
	return Window{Enabled: true, Earliest: aws.ToTime(p.EarliestRestorableDateTime), Latest: aws.ToTime(p.LatestRestorableDateTime)}, nil
}

// PITRError is a restore refused because the requested time is not
// restorable.
type PITRError struct {
	Table  string
	At     time.Time
	Window Window
}

func (e *PITRError) Error() string {
	switch {
	case !e.Window.Enabled:
		return fmt.Sprintf("point-in-time recovery is off on %s: nothing can be restored (turn it on with a deploy; only writes after that are recoverable)", e.Table)
	case e.At.Before(e.Window.Earliest):
		return fmt.Sprintf("%s is restorable only from %s (when PITR was last enabled), after the requested time %s",
			e.Table, e.Window.Earliest.UTC().Format(time.RFC3339), e.At.UTC().Format(time.RFC3339))
	default:
		return fmt.Sprintf("%s is restorable only up to %s (the latest restorable time trails now), before the requested time %s",
			e.Table, e.Window.Latest.UTC().Format(time.RFC3339), e.At.UTC().Format(time.RFC3339))
	}
}

// checkPoint resolves the restore point (zero: the latest restorable time)
// and refuses one outside the window.
func checkPoint(ctx context.Context, db *dynamodb.Client, table string, at time.Time) (time.Time, Window, error) {
	w, err := window(ctx, db, table)
	if err != nil {
		return time.Time{}, w, err
	}
	if !w.Enabled {
		return time.Time{}, w, &PITRError{Table: table, At: at, Window: w}
	}
	if at.IsZero() {
		return w.Latest, w, nil
	}
	if at.Before(w.Earliest) || at.After(w.Latest) {
		return time.Time{}, w, &PITRError{Table: table, At: at, Window: w}
	}
	return at, w, nil
}

// startRestore asks for the restore into a new table encrypted with kmsKey.
func startRestore(ctx context.Context, db *dynamodb.Client, source, into string, point time.Time, kmsKey string) error {
	in := &dynamodb.RestoreTableToPointInTimeInput{
		SourceTableName: aws.String(source), TargetTableName: aws.String(into), RestoreDateTime: aws.Time(point),
	}
	if kmsKey != "" {
		in.SSESpecificationOverride = &types.SSESpecification{Enabled: aws.Bool(true), SSEType: types.SSETypeKms, KMSMasterKeyId: aws.String(kmsKey)}
	}
	if _, err := db.RestoreTableToPointInTime(ctx, in); err != nil {
		return fmt.Errorf("restoring %s as of %s into %s: %w", source, point.UTC().Format(time.RFC3339Nano), into, err)
	}
	return nil
}

// waitActive polls a restored table until ACTIVE. On timeout it tries to
// delete the table; DynamoDB refuses while it is CREATING, and the error
// then says how to remove it later.
func waitActive(ctx context.Context, db *dynamodb.Client, table string, started time.Time, timeout, poll time.Duration, progress func(Progress)) error {
	deadline := started.Add(timeout)
	// Look soon, then back off to poll: a restore's length is unknown, and
	// an emulator's takes seconds.
	next := 250 * time.Millisecond
	for {
		out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
		if err != nil {
			return fmt.Errorf("waiting for %s: %w", table, err)
		}
		status := string(out.Table.TableStatus)
		if progress != nil {
			progress(Progress{Table: table, Status: status, Elapsed: time.Since(started)})
		}
		if out.Table.TableStatus == types.TableStatusActive {
			return nil
		}
		if !time.Now().Before(deadline) {
			return timeoutError(ctx, db, table, status, timeout)
		}
		wait := min(next, poll, time.Until(deadline))
		next *= 2
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", table, ctx.Err())
		case <-time.After(wait):
		}
	}
}

func timeoutError(ctx context.Context, db *dynamodb.Client, table, status string, timeout time.Duration) error {
	_, err := db.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(table)})
	switch {
	case err == nil:
		return fmt.Errorf("%w: %s was still %s after %s; it has been deleted", ErrTimeout, table, status, timeout)
	case apiCode(err) == "ResourceInUseException":
		return fmt.Errorf("%w: %s was still %s after %s, and DynamoDB cannot delete a table before it is ACTIVE: `drill <stack> --sweep` deletes it once the restore ends", ErrTimeout, table, status, timeout)
	default:
		return fmt.Errorf("%w: %s was still %s after %s, and deleting it failed: %v", ErrTimeout, table, status, timeout, err)
	}
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// reapply puts back what a restore drops and the environment needs.
func reapply(ctx context.Context, db *dynamodb.Client, tbl Table, name string, tags map[string]string, protect, pitr bool) error {
	desc, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	if err != nil {
		return fmt.Errorf("describing %s: %w", name, err)
	}
	if tbl.Schema.TTLAttribute != "" {
		if _, err := db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String(name),
			TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String(tbl.Schema.TTLAttribute), Enabled: aws.Bool(true)}}); err != nil {
			return fmt.Errorf("turning TTL on for %s: %w", name, err)
		}
	}
	if protect {
		if _, err := db.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String(name), DeletionProtectionEnabled: aws.Bool(true)}); err != nil {
			return fmt.Errorf("turning deletion protection on for %s: %w", name, err)
		}
	}
	if pitr {
		if _, err := db.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{TableName: aws.String(name),
			PointInTimeRecoverySpecification: &types.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(true)}}); err != nil {
			return fmt.Errorf("turning PITR on for %s: %w", name, err)
		}
	}
	var tl []types.Tag
	for _, k := range sortedKeys(tags) {
		tl = append(tl, types.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}
	if len(tl) > 0 {
		if _, err := db.TagResource(ctx, &dynamodb.TagResourceInput{ResourceArn: desc.Table.TableArn, Tags: tl}); err != nil {
			return fmt.Errorf("tagging %s: %w", name, err)
		}
	}
	return nil
}

// envTags are the tags every table of the environment carries.
func envTags(t target.Env) map[string]string {
	return map[string]string{spec.TagKeyProject: spec.TagValueProject, spec.TagKeyEnvironment: t.Environment}
}
