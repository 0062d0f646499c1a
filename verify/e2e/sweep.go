package e2e

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/mirror-dissonance/mirror-infra/oracle/breaker"
	"github.com/mirror-dissonance/mirror-infra/oracle/fpevents"
	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/spec"
	"github.com/mirror-dissonance/mirror-infra/verify/target"
)

// The E2E marker: every item a run writes carries its run id in
// MarkerAttribute (every baseline version in the S3 user metadata
// MarkerMetadata), and an expiry: expiresAt (the table's TTL) on FP
// events (ItemRetention) and block counters, the grant's expiry inside
// the consent record. Oracle data never carries the marker, and Sweep
// removes nothing without it.
const (
	MarkerAttribute = fpevents.MarkerAttribute
	MarkerMetadata  = "e2e-run-id"
	// ItemRetention is how long a run's FP events live before the
	// table's TTL removes them, should cleanup and every sweep miss them.
	ItemRetention = 24 * time.Hour
)

// Sweep bounds.
const (
	// DefaultSweepAge is the youngest a marked item may be to be swept:
	// longer than a run with the default timeout lasts (DefaultTimeout
	// plus CleanupTimeout), so a sweep never pulls items from under a run
	// in progress.
	DefaultSweepAge = 15 * time.Minute
	// DefaultSweepPages bounds the Scan pages read per table.
	DefaultSweepPages = 100
	// SweepCheckID is the id of the sweep's check.
	SweepCheckID = CheckID + ".sweep"
)

// SweepOptions bound a sweep.
type SweepOptions struct {
	// OlderThan: marked items last written at least this long ago are
	// removed (DefaultSweepAge if 0); so are marked items whose expiry
	// has passed, whatever their age. Negative is an error.
	OlderThan time.Duration
	// MaxPages bounds the Scan pages per table (DefaultSweepPages if 0).
	MaxPages int
	// Now is the clock (time.Now if nil).
	Now func() time.Time
	// TempDir is where runs made their drift trees (os.TempDir when
	// empty); the md-e2e-drift-* directories of dead runs are removed.
	TempDir string
}

// SweepResult counts what a sweep removed and kept.
type SweepResult struct {
	FPEvents, Consent, BlockCounters int
	// Baselines counts baseline object versions and delete markers.
	Baselines int
	// Leases counts the lapsed leases of dead runs removed.
	Leases int
	// TempDirs counts the drift trees of dead runs removed.
	TempDirs int
	// Kept counts marked items of live runs (their lease is live) and,
	// of runs without a lease, items too young to sweep.
	Kept int
	// Truncated is true when a table had more pages than MaxPages.
	Truncated bool
}

// Removed is the total removed.
func (r SweepResult) Removed() int {
	return r.FPEvents + r.Consent + r.BlockCounters + r.Baselines + r.Leases + r.TempDirs
}

// Scanner is the DynamoDB call a sweep needs besides the cycle's.
type Scanner interface {
	Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

// ErrNoScan means Clients.DynamoDB cannot Scan, which a sweep needs.
var ErrNoScan = errors.New("the DynamoDB client has no Scan method")

// e2eBaselineKey matches the baseline keys runs write
// (baselines/e2e-<run id>/mirror-dissonance-e2e.json); the marker in the
// object's metadata is checked as well.
var e2eBaselineKey = regexp.MustCompile(`^` + regexp.QuoteMeta(spec.BaselineKeyPrefix+syntheticOrgBase) + `[A-Za-z0-9_-]+/` + regexp.QuoteMeta(syntheticRepo) + `\.json$`)

// Sweep removes what earlier E2E runs left behind: items of the three
// tables, baseline versions and drift trees that carry the E2E marker and
// belong to a dead run: one whose lease lapsed (at once, whatever the
// age), or, for a run without a lease, last written OlderThan ago or
// expired. Nothing of a run whose lease is live is removed, whatever
// OlderThan says. A baseline version that vanished between the listing and
// its read is gone, not an error (its run removed it). Every delete is conditional on
// the marker, so an item without it (Oracle data) is never removed, even
// one written under the same key meanwhile; a delete whose answer was
// lost and whose retry finds nothing is counted as done.
func Sweep(ctx context.Context, c Clients, env target.Env, o SweepOptions) (SweepResult, error) {
	var res SweepResult
	if o.OlderThan < 0 {
		return res, fmt.Errorf("sweep age %s is negative", o.OlderThan)
	}
	age := o.OlderThan
	if age == 0 {
		age = DefaultSweepAge
	}
	pages := o.MaxPages
	if pages <= 0 {
		pages = DefaultSweepPages
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	sc, ok := c.DynamoDB.(Scanner)
	if !ok {
		return res, ErrNoScan
	}
	cut := now().Add(-age)
	ls := &leases{db: c.DynamoDB, table: env.BlockCounterTable, now: now, seen: map[string]leaseState{}}
	var errs []error
	for _, t := range []struct {
		table string
		keys  []string
		n     *int
		// old reports whether a marked item may go.
		old func(map[string]types.AttributeValue) bool
	}{
		{env.FPEventsTable, []string{spec.AttrPK, spec.AttrSK}, &res.FPEvents, func(it map[string]types.AttributeValue) bool {
			return olderMs(it, "recordedAt", cut) || expired(it, now())
		}},
		{env.ConsentTable, []string{spec.AttrOrgID}, &res.Consent, func(it map[string]types.AttributeValue) bool {
			return olderS(it, "updatedAt", cut) || consentExpired(it, now())
		}},
		{env.BlockCounterTable, []string{spec.AttrBucketKey}, &res.BlockCounters, func(it map[string]types.AttributeValue) bool {
			return olderMs(it, breaker.AttrTimestamp, cut) || expired(it, now())
		}},
	} {
		if t.table == "" {
			continue
		}
		n, kept, trunc, err := sweepTable(ctx, sc, c.DynamoDB, ls, t.table, t.keys, pages, t.old)
		*t.n += n
		res.Kept += kept
		res.Truncated = res.Truncated || trunc
		if err != nil {
			errs = append(errs, err)
		}
	}
	if env.BaselinesBucket != "" && c.S3 != nil {
		n, kept, err := sweepBaselines(ctx, c, ls, env.BaselinesBucket, cut)
		res.Baselines += n
		res.Kept += kept
		if err != nil {
			errs = append(errs, err)
		}
	}
	n, kept, err := sweepTempDirs(ctx, ls, o.TempDir, cut)
	res.TempDirs, res.Kept = n, res.Kept+kept
	if err != nil {
		errs = append(errs, err)
	}
	// Leases last: a sweep cut short leaves them, and the next one still
	// knows their runs are dead.
	if len(errs) == 0 {
		res.Leases, err = ls.releaseLapsed(ctx)
		if err != nil {
			errs = append(errs, err)
		}
	}
	return res, errors.Join(errs...)
}

type deleter interface {
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

func sweepTable(ctx context.Context, sc Scanner, del deleter, ls *leases, table string, keys []string, maxPages int, old func(map[string]types.AttributeValue) bool) (removed, kept int, truncated bool, err error) {
	in := &dynamodb.ScanInput{
		TableName:                aws.String(table),
		FilterExpression:         aws.String("attribute_exists(#mk)"),
		ExpressionAttributeNames: map[string]string{"#mk": MarkerAttribute},
		// A consistent read: an item written just before a sweep is seen
		// with its age, not missed.
		ConsistentRead: aws.Bool(true),
	}
	var errs []error
	for page := 0; ; page++ {
		if page == maxPages {
			return removed, kept, true, errors.Join(errs...)
		}
		out, err := sc.Scan(ctx, in)
		if err != nil {
			errs = append(errs, fmt.Errorf("sweeping %s: scanning: %w", table, err))
			return removed, kept, false, errors.Join(errs...)
		}
		for _, it := range out.Items {
			mark, ok := it[MarkerAttribute].(*types.AttributeValueMemberS)
			if !ok || mark.Value == "" {
				continue
			}
			if bk, ok := it[spec.AttrBucketKey].(*types.AttributeValueMemberS); ok && IsLease(bk.Value) {
				// Looked up (so a lapsed one is released at the end), never
				// deleted here.
				if l, err := ls.of(ctx, mark.Value); err != nil {
					errs = append(errs, err)
				} else if l == live {
					kept++
				}
				continue
			}
			l, err := ls.of(ctx, mark.Value)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if l == live || (l == noLease && !old(it)) {
				kept++
				continue
			}
			key := map[string]types.AttributeValue{}
			for _, k := range keys {
				key[k] = it[k]
			}
			_, err = del.DeleteItem(ctx, &dynamodb.DeleteItemInput{
				TableName:                 aws.String(table),
				Key:                       key,
				ConditionExpression:       aws.String("#mk = :mk"),
				ExpressionAttributeNames:  map[string]string{"#mk": MarkerAttribute},
				ExpressionAttributeValues: map[string]types.AttributeValue{":mk": mark},
			})
			var ccf *types.ConditionalCheckFailedException
			switch {
			case errors.As(err, &ccf):
				// Gone already (a retried delete after a lost answer, or
				// a concurrent sweep), or no longer the run's item:
				// either way nothing of ours is left under the key.
			case err != nil:
				errs = append(errs, fmt.Errorf("sweeping %s: deleting an item of run %s: %w", table, mark.Value, err))
			default:
				removed++
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			return removed, kept, false, errors.Join(errs...)
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// sweepBaselines removes every version (and delete marker) of a run's
// baseline key when one of its versions carries the marker and the newest
// is older than cut.
func sweepBaselines(ctx context.Context, c Clients, ls *leases, bucket string, cut time.Time) (removed, kept int, err error) {
	type ver struct {
		id   string
		at   time.Time
		data bool
	}
	byKey := map[string][]ver{}
	var order []string
	in := &s3.ListObjectVersionsInput{Bucket: aws.String(bucket), Prefix: aws.String(spec.BaselineKeyPrefix + syntheticOrgBase)}
	for {
		page, err := c.S3.ListObjectVersions(ctx, in)
		if err != nil {
			return 0, 0, fmt.Errorf("sweeping s3://%s: listing baselines: %w", bucket, err)
		}
		add := func(key, id string, at time.Time, data bool) {
			if !e2eBaselineKey.MatchString(key) {
				return
			}
			if _, ok := byKey[key]; !ok {
				order = append(order, key)
			}
			byKey[key] = append(byKey[key], ver{id: id, at: at, data: data})
		}
		for _, v := range page.Versions {
			add(aws.ToString(v.Key), aws.ToString(v.VersionId), aws.ToTime(v.LastModified), true)
		}
		for _, m := range page.DeleteMarkers {
			add(aws.ToString(m.Key), aws.ToString(m.VersionId), aws.ToTime(m.LastModified), false)
		}
		if !aws.ToBool(page.IsTruncated) {
			break
		}
		in.KeyMarker, in.VersionIdMarker = page.NextKeyMarker, page.NextVersionIdMarker
	}
	var errs []error
	for _, key := range order {
		vs := byKey[key]
		newest, run := time.Time{}, ""
		for _, v := range vs {
			if v.at.After(newest) {
				newest = v.at
			}
			if v.data && run == "" {
				m, err := markerOf(ctx, c, bucket, key, v.id)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				run = m
			}
		}
		if run == "" {
			continue
		}
		l, err := ls.of(ctx, run)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if l == live || (l == noLease && newest.After(cut)) {
			kept += len(vs)
			continue
		}
		for _, v := range vs {
			din := &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}
			if v.id != "" && v.id != "null" {
				din.VersionId = aws.String(v.id)
			}
			// Deleting a version is idempotent: a retry after a lost
			// answer deletes nothing more.
			if _, err := c.S3.DeleteObject(ctx, din); err != nil {
				errs = append(errs, fmt.Errorf("sweeping s3://%s/%s version %s: %w", bucket, key, v.id, err))
				continue
			}
			removed++
		}
	}
	return removed, kept, errors.Join(errs...)
}

func markerOf(ctx context.Context, c Clients, bucket, key, version string) (string, error) {
	in := &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}
	if version != "" && version != "null" {
		in.VersionId = aws.String(version)
	}
	out, err := c.S3.GetObject(ctx, in)
	if vanished(err) {
		// Deleted since the listing (its run's cleanup, another sweep):
		// nothing left to read or remove.
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("sweeping s3://%s/%s: reading version %s: %w", bucket, key, version, err)
	}
	_ = out.Body.Close()
	for k, v := range out.Metadata {
		if strings.EqualFold(k, MarkerMetadata) {
			return v, nil
		}
	}
	return "", nil
}

// vanished: the object version is gone (S3 answers NoSuchVersion, or
// NoSuchKey / 404 for the null version or a key with no versions left).
func vanished(err error) bool {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "NoSuchVersion", "NoSuchKey", "NotFound":
			return true
		}
	}
	var re *smithyhttp.ResponseError
	return errors.As(err, &re) && re.HTTPStatusCode() == 404
}

func intAttr(it map[string]types.AttributeValue, name string) (int64, bool) {
	n, ok := it[name].(*types.AttributeValueMemberN)
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseInt(n.Value, 10, 64)
	return v, err == nil
}

// olderMs: an item without the attribute counts as old, since its age
// cannot protect a run in progress that always writes it.
func olderMs(it map[string]types.AttributeValue, name string, cut time.Time) bool {
	v, ok := intAttr(it, name)
	return !ok || time.UnixMilli(v).Before(cut)
}

func olderS(it map[string]types.AttributeValue, name string, cut time.Time) bool {
	v, ok := intAttr(it, name)
	return !ok || time.Unix(v, 0).Before(cut)
}

func expired(it map[string]types.AttributeValue, now time.Time) bool {
	v, ok := intAttr(it, spec.TTLAttribute)
	return ok && v <= now.Unix()
}

// consentExpired: every resource of the record has an expiry, and all
// have passed (the grant's expiry inside the item, which the sweep honours
// as the table has no TTL).
func consentExpired(it map[string]types.AttributeValue, now time.Time) bool {
	m, ok := it["resources"].(*types.AttributeValueMemberM)
	if !ok || len(m.Value) == 0 {
		return false
	}
	for _, r := range m.Value {
		rm, ok := r.(*types.AttributeValueMemberM)
		if !ok {
			return false
		}
		v, ok := intAttr(rm.Value, spec.TTLAttribute)
		if !ok || v == 0 || v > now.Unix() {
			return false
		}
	}
	return true
}

// SweepCheck is the sweep's result as a check: PASS with what was
// removed, WARN when it could not finish (the run's verdict does not
// depend on housekeeping; the next sweep retries).
func SweepCheck(res SweepResult, err error, d time.Duration) report.Check {
	c := report.Check{ID: SweepCheckID, Status: report.Pass, Duration: d, Details: map[string]string{
		"fpEvents": strconv.Itoa(res.FPEvents), "consent": strconv.Itoa(res.Consent),
		"blockCounters": strconv.Itoa(res.BlockCounters), "baselines": strconv.Itoa(res.Baselines), "kept": strconv.Itoa(res.Kept),
	}}
	c.Details["leases"], c.Details["tempDirs"] = strconv.Itoa(res.Leases), strconv.Itoa(res.TempDirs)
	c.Reason = fmt.Sprintf("removed %d item(s) dead runs left (%d FP events, %d consent, %d block counters, %d baseline versions, %d lapsed leases, %d drift trees); kept %d of live or too young runs", res.Removed(), res.FPEvents, res.Consent, res.BlockCounters, res.Baselines, res.Leases, res.TempDirs, res.Kept)
	switch {
	case err != nil:
		c.Status, c.Reason = report.Warn, "sweep incomplete: "+err.Error()+"; "+c.Reason
		c.Fix = "run e2e --sweep again; the items also expire (TTL, consent expiry)"
	case res.Truncated:
		c.Status, c.Reason = report.Warn, "sweep stopped at the page bound; "+c.Reason
		c.Fix = "run e2e --sweep again to continue"
	}
	return c
}
