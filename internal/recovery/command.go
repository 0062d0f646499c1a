package recovery

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/verify/target"
)

// RestoreOptions are the choices of one restore (`restore <stack> --table T
// --to TIME [--into NAME]`).
type RestoreOptions struct {
	// Table is the suffix: fp-events, consent or block-counter.
	Table string
	// To is the restore point; zero is the latest restorable time.
	To time.Time
	// Into names the new table; empty is RestoreName(table, To).
	Into string
	// KMSKey encrypts the new table; empty is the target's key.
	KMSKey string
	// Keep turns PITR on for the restored table (it is to be kept).
	Keep bool
	// Timeout bounds the wait for ACTIVE (DefaultTimeout); Poll is the
	// interval between looks (DefaultPoll).
	Timeout, Poll time.Duration
	// ReadBudget bounds the items read from each table for the diff
	// (DefaultReadBudget).
	ReadBudget int
	// CopyBack copies items into the live table: the keys in CopyKeys, or
	// every item only in the restored table when CopyKeys is empty. It
	// needs Approve equal to the fingerprint of that choice.
	CopyBack bool
	CopyKeys []string
	Approve  string
	// Existing uses the existing restored table Into instead of making
	// one: a copy-back after reviewing an earlier run's diff. It is implied
	// when Into names a table that exists (which must be a finished restore
	// of the live table).
	Existing bool
	Progress func(Progress)
}

// RestoreResult is what a restore did.
type RestoreResult struct {
	Source      string        `json:"source"`
	Table       string        `json:"table"`
	Point       time.Time     `json:"point"`
	Elapsed     time.Duration `json:"elapsedNs"`
	Diff        *Diff         `json:"diff,omitempty"`
	Fingerprint string        `json:"fingerprint,omitempty"`
	Copy        *CopyResult   `json:"copy,omitempty"`
}

// CopyResult lists each chosen item by what happened to it.
type CopyResult struct {
	Copied      []string `json:"copied"`
	Skipped     []string `json:"skipped"`
	Conflicting []string `json:"conflicting"`
}

// Restore restores one table as of a time into a new table and reports a
// diff with the live table; with CopyBack and the approval it copies the
// chosen items into the live table. Checks: restore, reapply, diff and
// copy-back. A cloud failure is an Infra check (exit 3); the error says
// what was being done.
func Restore(ctx context.Context, cfg aws.Config, t target.Env, o RestoreOptions) (*report.Report, *RestoreResult, error) {
	rep := &report.Report{Command: "restore", Stack: t.Environment, Started: time.Now()}
	tables, err := Tables(t, o.Table)
	if err != nil {
		return rep, nil, err
	}
	tbl := tables[0]
	o = o.withDefaults(t)
	db := dynamodb.NewFromConfig(cfg)
	res := &RestoreResult{Source: tbl.Name, Table: o.Into}
	if o.Into != "" && !o.Existing {
		_, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(o.Into)})
		switch {
		case err == nil:
			o.Existing = true
		case apiCode(err) != "ResourceNotFoundException":
			err = fmt.Errorf("looking for %s: %w", o.Into, err)
			return fail(rep, "restore", err, err), res, err
		}
	}

	if !o.Existing {
		point, _, err := checkPoint(ctx, db, tbl.Name, o.To)
		if err != nil {
			return fail(rep, "restore", err, err), res, err
		}
		res.Point = point
		if res.Table == "" {
			res.Table = RestoreName(tbl.Name, point)
		}
		if res.Table == tbl.Name {
			err := fmt.Errorf("refusing to restore into the live table %s", tbl.Name)
			return fail(rep, "restore", err, nil), res, err
		}
		started := time.Now()
		if err := startRestore(ctx, db, tbl.Name, res.Table, point, o.KMSKey); err != nil {
			return fail(rep, "restore", err, err), res, err
		}
		if err := waitActive(ctx, db, res.Table, started, o.Timeout, o.Poll, o.Progress); err != nil {
			return fail(rep, "restore", err, err), res, err
		}
		res.Elapsed = time.Since(started)
		rep.Add(report.Check{ID: "restore", Status: report.Pass, Duration: res.Elapsed,
			Reason:  fmt.Sprintf("%s restored as of %s into %s in %s", tbl.Name, point.UTC().Format(time.RFC3339Nano), res.Table, res.Elapsed.Round(time.Millisecond)),
			Details: map[string]string{"table": res.Table, "point": point.UTC().Format(time.RFC3339Nano)}})
		tags := envTags(t)
		tags[TagRestoreSource], tags[TagRestorePoint] = tbl.Name, point.UTC().Format(time.RFC3339)
		if err := reapply(ctx, db, tbl, res.Table, tags, true, o.Keep); err != nil {
			return fail(rep, "reapply", err, err), res, err
		}
		rep.Add(report.Check{ID: "reapply", Status: report.Pass, Reason: reapplied(tbl, o.Keep)})
	}
	if res.Table == "" {
		err := errors.New("a copy-back into the live table from an existing restore needs the restored table's name (--into)")
		return fail(rep, "restore", err, nil), res, err
	}
	if o.Existing {
		// Only a restore of this live table may feed it.
		point, err := restoredFrom(ctx, db, res.Table, tbl.Name)
		if err != nil {
			return fail(rep, "restore", err, nil), res, err
		}
		res.Point = point
	}

	d, err := diffTables(ctx, db, tbl.Schema, res.Table, tbl.Name, o.ReadBudget)
	if err != nil {
		return fail(rep, "diff", err, err), res, err
	}
	res.Diff = d
	rep.Add(diffCheck(d, o.ReadBudget))

	keys := o.CopyKeys
	if len(keys) == 0 {
		keys = d.OnlyRestored
	}
	res.Fingerprint = CopyFingerprint(tbl.Name, keys, d.restored)
	if !o.CopyBack {
		rep.Add(report.Check{ID: "copy-back", Status: report.Skip,
			Reason: fmt.Sprintf("not asked; %d item(s) would be offered (fingerprint %s)", len(keys), res.Fingerprint)})
		return rep, res, nil
	}
	rep.Fingerprint = res.Fingerprint
	if o.Approve != res.Fingerprint {
		err := fmt.Errorf("the copy-back of %d item(s) into %s is not approved: review the diff and pass --approve %s", len(keys), tbl.Name, res.Fingerprint)
		rep.Add(report.Check{ID: "copy-back", Status: report.Fail, Reason: err.Error(), Fix: "re-run with --copy-back --approve " + res.Fingerprint})
		return rep, res, err
	}
	cr, err := copyBack(ctx, db, tbl, d, keys)
	res.Copy = cr
	if err != nil {
		return fail(rep, "copy-back", err, err), res, err
	}
	st := report.Pass
	if len(cr.Conflicting) > 0 {
		st = report.Warn
	}
	rep.Add(report.Check{ID: "copy-back", Status: st, Reason: fmt.Sprintf("%d copied, %d skipped, %d conflicting (changed since the restore point; not overwritten)",
		len(cr.Copied), len(cr.Skipped), len(cr.Conflicting)),
		Details: map[string]string{"copied": strings.Join(cr.Copied, " "), "skipped": strings.Join(cr.Skipped, " "), "conflicting": strings.Join(cr.Conflicting, " ")}})
	return rep, res, nil
}

func (o RestoreOptions) withDefaults(t target.Env) RestoreOptions {
	if o.KMSKey == "" {
		o.KMSKey = t.KMSKey
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Poll <= 0 {
		o.Poll = DefaultPoll
	}
	if o.ReadBudget <= 0 {
		o.ReadBudget = DefaultReadBudget
	}
	return o
}

func reapplied(t Table, pitr bool) string {
	parts := []string{"deletion protection", "tags (source, restore point)"}
	if t.Schema.TTLAttribute != "" {
		parts = append(parts, "TTL on "+t.Schema.TTLAttribute)
	}
	if pitr {
		parts = append(parts, "PITR")
	}
	return "re-applied: " + strings.Join(parts, ", ")
}

func diffCheck(d *Diff, budget int) report.Check {
	c := report.Check{ID: "diff", Status: report.Pass,
		Reason: fmt.Sprintf("%d only in the restored table, %d only in the live table, %d different, %d the same",
			len(d.OnlyRestored), len(d.OnlyLive), len(d.Different), d.Same),
		Details: map[string]string{"onlyRestored": strings.Join(d.OnlyRestored, " "), "onlyLive": strings.Join(d.OnlyLive, " ")}}
	var diffs []string
	for _, ch := range d.Different {
		diffs = append(diffs, ch.Key+"("+strings.Join(ch.Attributes, ",")+")")
	}
	c.Details["different"] = strings.Join(diffs, " ")
	if d.Truncated {
		c.Status = report.Warn
		c.Reason += "; a table has more items than the read budget of " + strconv.Itoa(budget)
		c.Fix = "raise the read budget (--read-budget) to compare every item"
	}
	return c
}

// fail adds a FAIL check for a step; infra (non-nil) marks a cloud failure.
func fail(rep *report.Report, id string, err, infra error) *report.Report {
	c := report.Check{ID: id, Status: report.Fail, Reason: err.Error()}
	var pe *PITRError
	if infra != nil && !errors.As(infra, &pe) {
		c.Infra = true
	}
	rep.Add(c)
	return rep
}

// copyBack writes the chosen items into the live table. An item missing
// from the live table is put only if it is still missing; an item the live
// table holds with other content changed after the restore point and is
// never overwritten; nothing is deleted.
func copyBack(ctx context.Context, db *dynamodb.Client, tbl Table, d *Diff, keys []string) (*CopyResult, error) {
	cr := &CopyResult{Copied: []string{}, Skipped: []string{}, Conflicting: []string{}}
	different := map[string]bool{}
	for _, ch := range d.Different {
		different[ch.Key] = true
	}
	for _, k := range keys {
		it, ok := d.restored[k]
		switch {
		case !ok:
			cr.Skipped = append(cr.Skipped, k) // not in the restored table
			continue
		case different[k]:
			cr.Conflicting = append(cr.Conflicting, k)
			continue
		case d.live[k] != nil:
			cr.Skipped = append(cr.Skipped, k) // the same in both
			continue
		}
		_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(tbl.Name), Item: it,
			ConditionExpression:      aws.String("attribute_not_exists(#h)"),
			ExpressionAttributeNames: map[string]string{"#h": tbl.Schema.HashKey}})
		var ccf *types.ConditionalCheckFailedException
		switch {
		case errors.As(err, &ccf):
			cr.Conflicting = append(cr.Conflicting, k) // written since the diff
		case err != nil:
			return cr, fmt.Errorf("copying %s into %s: %w", k, tbl.Name, err)
		default:
			cr.Copied = append(cr.Copied, k)
		}
	}
	return cr, nil
}

// restoredFrom checks that table is a finished restore of live and
// returns its restore point.
func restoredFrom(ctx context.Context, db *dynamodb.Client, table, live string) (time.Time, error) {
	d, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		return time.Time{}, fmt.Errorf("describing the restored table %s: %w", table, err)
	}
	rs := d.Table.RestoreSummary
	if rs == nil || !strings.HasSuffix(aws.ToString(rs.SourceTableArn), ":table/"+live) {
		return time.Time{}, fmt.Errorf("%s is not a restore of %s: refusing to copy from it", table, live)
	}
	if aws.ToBool(rs.RestoreInProgress) || d.Table.TableStatus != types.TableStatusActive {
		return time.Time{}, fmt.Errorf("%s is still being restored (%s)", table, d.Table.TableStatus)
	}
	return aws.ToTime(rs.RestoreDateTime), nil
}
