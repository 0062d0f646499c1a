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

	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/verify/e2e"
	"github.com/mirror-dissonance/mirror-infra/verify/target"
)

// Leftover is something a killed drill (or a timed-out restore) left.
type Leftover struct {
	Kind   string `json:"kind"` // "table" or "marker"
	Name   string `json:"name"`
	Run    string `json:"run,omitempty"`
	Status string `json:"status,omitempty"`
	// Live: the drill that wrote it is running (its lease is live); Sweep
	// leaves it.
	Live bool `json:"live,omitempty"`
}

// Leftovers lists, read-only, the drill's scratch tables (named
// <table>-drill-<run> and restored from that live table), restores that
// never finished (<table>-restore-* restored from it, without the tags a
// finished restore gets) and markers in the live tables, each marked Live
// when its drill's lease is live.
func Leftovers(ctx context.Context, cfg aws.Config, t target.Env) ([]Leftover, error) {
	db := dynamodb.NewFromConfig(cfg)
	return leftovers(ctx, db, t, e2e.NewLeaseBook(db, t.BlockCounterTable))
}

// liveRun reports whether drill run's lease is live; with the
// block-counter table gone (after a destroy) no drill is.
func liveRun(ctx context.Context, book *e2e.LeaseBook, run string) (bool, error) {
	if run == "" {
		return false, nil // a restore's table: no drill, no lease
	}
	ok, err := book.Live(ctx, leaseRun(run))
	if apiCode(err) == "ResourceNotFoundException" {
		return false, nil
	}
	return ok, err
}

// leftovers reads each run's lease after seeing its item: a drill takes
// its lease before writing anything, so the answer is authoritative.
func leftovers(ctx context.Context, db *dynamodb.Client, t target.Env, book *e2e.LeaseBook) ([]Leftover, error) {
	tables, err := Tables(t)
	if err != nil {
		return nil, err
	}
	var names []string
	p := dynamodb.NewListTablesPaginator(db, &dynamodb.ListTablesInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing tables: %w", err)
		}
		names = append(names, page.TableNames...)
	}
	var out []Leftover
	for _, tbl := range tables {
		for _, n := range names {
			drill := strings.HasPrefix(n, tbl.Name+"-drill-")
			restore := strings.HasPrefix(n, tbl.Name+"-restore-")
			if n == tbl.Name || (!drill && !restore) {
				continue
			}
			l, ok, err := scratchTable(ctx, db, tbl, n, drill)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
			if l.Live, err = liveRun(ctx, book, l.Run); err != nil {
				return nil, err
			}
			out = append(out, l)
		}
		m, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(tbl.Name), Key: markerKey(tbl), ConsistentRead: aws.Bool(true)})
		switch {
		case apiCode(err) == "ResourceNotFoundException":
			continue // the live table is gone (after a destroy): no marker
		case err != nil:
			return nil, fmt.Errorf("looking for a drill marker in %s: %w", tbl.Name, err)
		}
		if run, ok := m.Item[attrDrillRun].(*types.AttributeValueMemberS); ok {
			l := Leftover{Kind: "marker", Name: tbl.Name, Run: run.Value}
			if l.Live, err = liveRun(ctx, book, l.Run); err != nil {
				return nil, err
			}
			out = append(out, l)
		}
	}
	return out, nil
}

// scratchTable decides whether a table named like a scratch table is one:
// restored from the live table (by its restore summary), and, for a
// restore, never finished (no source tag).
func scratchTable(ctx context.Context, db *dynamodb.Client, live Table, name string, drill bool) (Leftover, bool, error) {
	d, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	if err != nil {
		if apiCode(err) == "ResourceNotFoundException" {
			return Leftover{}, false, nil
		}
		return Leftover{}, false, fmt.Errorf("describing %s: %w", name, err)
	}
	rs := d.Table.RestoreSummary
	if rs == nil || !strings.HasSuffix(aws.ToString(rs.SourceTableArn), ":table/"+live.Name) {
		return Leftover{}, false, nil // not restored from the live table: not ours
	}
	if d.Table.TableStatus == types.TableStatusDeleting {
		return Leftover{}, false, nil // going already (a drill's cleanup, or a sweep)
	}
	l := Leftover{Kind: "table", Name: name, Status: string(d.Table.TableStatus)}
	if drill {
		l.Run = strings.TrimPrefix(name, live.Name+"-drill-")
	}
	if d.Table.TableStatus != types.TableStatusActive {
		return l, true, nil
	}
	tags, err := db.ListTagsOfResource(ctx, &dynamodb.ListTagsOfResourceInput{ResourceArn: d.Table.TableArn})
	if err != nil {
		return Leftover{}, false, fmt.Errorf("reading the tags of %s: %w", name, err)
	}
	for _, tg := range tags.Tags {
		switch aws.ToString(tg.Key) {
		case TagDrillRun:
			l.Run = aws.ToString(tg.Value)
		case TagRestoreSource:
			if !drill {
				return Leftover{}, false, nil // a finished restore: the operator's
			}
		}
	}
	return l, true, nil
}

// Sweep removes what Leftovers finds of drills that are not running (no
// lease, or a lapsed one): scratch tables (a table still CREATING is
// reported and left for the next sweep: DynamoDB cannot delete it yet) and
// markers (only if still a marker), then the lapsed leases of drills. What
// a drill with a live lease wrote stays (reported). It never deletes a
// live table or any other item.
func Sweep(ctx context.Context, cfg aws.Config, t target.Env) (*report.Report, []Leftover, error) {
	rep := &report.Report{Command: "drill --sweep", Stack: t.Environment, Started: time.Now()}
	db := dynamodb.NewFromConfig(cfg)
	book := e2e.NewLeaseBook(db, t.BlockCounterTable)
	found, err := leftovers(ctx, db, t, book)
	if err != nil {
		rep.Add(report.Check{ID: "sweep", Status: report.Fail, Infra: true, Reason: err.Error()})
		return rep, nil, err
	}
	tables, _ := Tables(t)
	var removed []Leftover
	var errs []error
	var pending, kept []string
	for _, l := range found {
		if l.Live {
			kept = append(kept, l.Kind+" "+l.Name+" (run "+l.Run+")")
			continue
		}
		switch l.Kind {
		case "table":
			if l.Status != string(types.TableStatusActive) {
				pending = append(pending, l.Name+" ("+l.Status+")")
				continue
			}
			if _, err := db.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(l.Name)}); err != nil {
				errs = append(errs, fmt.Errorf("deleting %s: %w", l.Name, err))
				continue
			}
		case "marker":
			for _, tbl := range tables {
				if tbl.Name != l.Name {
					continue
				}
				if _, err := db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(tbl.Name), Key: markerKey(tbl),
					ConditionExpression: aws.String("attribute_exists(" + attrDrillRun + ")")}); err != nil && apiCode(err) != "ConditionalCheckFailedException" {
					errs = append(errs, fmt.Errorf("deleting the marker in %s: %w", tbl.Name, err))
					continue
				}
			}
		}
		removed = append(removed, l)
	}
	// Leases last, and only after a clean pass: a sweep cut short leaves
	// them, so the next one still knows those drills are dead. Only the
	// leases of drills whose items were met: the role may not scan the
	// block-counter table, so a lease alone (a drill killed between taking
	// it and writing its first marker, or between its cleanup and the
	// release) goes with the E2E sweep, or by the table's TTL an hour
	// after it lapsed.
	released := 0
	if len(errs) == 0 {
		n, err := book.ReleaseLapsed(ctx)
		if err != nil {
			errs = append(errs, err)
		}
		released = n
	}
	var names []string
	for _, l := range removed {
		names = append(names, l.Kind+" "+l.Name)
	}
	c := report.Check{ID: "sweep", Status: report.Pass, Reason: fmt.Sprintf("removed %d: %s", len(removed), strings.Join(names, ", "))}
	if len(removed) == 0 {
		c.Reason = "nothing left by a drill"
	}
	if released > 0 {
		c.Reason += fmt.Sprintf("; released %d lapsed lease(s)", released)
	}
	if len(pending) > 0 {
		c.Status = report.Warn
		c.Reason += "; still being restored (run the sweep again once ACTIVE): " + strings.Join(pending, ", ")
	}
	if len(kept) > 0 {
		c.Status = report.Warn
		c.Reason += "; kept, of a live drill (its lease is live; sweep again after it ends, or once its lease lapsed): " + strings.Join(kept, ", ")
	}
	if err := errors.Join(errs...); err != nil {
		c.Status, c.Infra, c.Reason = report.Fail, true, c.Reason+"; "+err.Error()
		rep.Add(c)
		return rep, removed, err
	}
	rep.Add(c)
	return rep, removed, nil
}
