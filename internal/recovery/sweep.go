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
	"github.com/mirror-dissonance/mirror-infra/verify/target"
)

// Leftover is something a killed drill (or a timed-out restore) left.
type Leftover struct {
	Kind   string `json:"kind"` // "table" or "marker"
	Name   string `json:"name"`
	Run    string `json:"run,omitempty"`
	Status string `json:"status,omitempty"`
}

// Leftovers lists, read-only, the drill's scratch tables (named
// <table>-drill-<run> and restored from that live table), restores that
// never finished (<table>-restore-* restored from it, without the tags a
// finished restore gets) and markers in the live tables.
func Leftovers(ctx context.Context, cfg aws.Config, t target.Env) ([]Leftover, error) {
	return leftovers(ctx, dynamodb.NewFromConfig(cfg), t)
}

func leftovers(ctx context.Context, db *dynamodb.Client, t target.Env) ([]Leftover, error) {
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
			if ok {
				out = append(out, l)
			}
		}
		m, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(tbl.Name), Key: markerKey(tbl), ConsistentRead: aws.Bool(true)})
		switch {
		case apiCode(err) == "ResourceNotFoundException":
			continue // the live table is gone (after a destroy): no marker
		case err != nil:
			return nil, fmt.Errorf("looking for a drill marker in %s: %w", tbl.Name, err)
		}
		if run, ok := m.Item[attrDrillRun].(*types.AttributeValueMemberS); ok {
			out = append(out, Leftover{Kind: "marker", Name: tbl.Name, Run: run.Value})
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

// Sweep removes what Leftovers finds: scratch tables (a table still
// CREATING is reported and left for the next sweep: DynamoDB cannot delete
// it yet) and markers (only if still a marker). It never deletes a live
// table or any other item.
func Sweep(ctx context.Context, cfg aws.Config, t target.Env) (*report.Report, []Leftover, error) {
	rep := &report.Report{Command: "drill --sweep", Stack: t.Environment, Started: time.Now()}
	db := dynamodb.NewFromConfig(cfg)
	found, err := leftovers(ctx, db, t)
	if err != nil {
		rep.Add(report.Check{ID: "sweep", Status: report.Fail, Infra: true, Reason: err.Error()})
		return rep, nil, err
	}
	tables, _ := Tables(t)
	var removed []Leftover
	var errs []error
	var pending []string
	for _, l := range found {
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
	var names []string
	for _, l := range removed {
		names = append(names, l.Kind+" "+l.Name)
	}
	c := report.Check{ID: "sweep", Status: report.Pass, Reason: fmt.Sprintf("removed %d: %s", len(removed), strings.Join(names, ", "))}
	if len(removed) == 0 {
		c.Reason = "nothing left by a drill"
	}
	if len(pending) > 0 {
		c.Status = report.Warn
		c.Reason += "; still being restored (run the sweep again once ACTIVE): " + strings.Join(pending, ", ")
	}
	if err := errors.Join(errs...); err != nil {
		c.Status, c.Infra, c.Reason = report.Fail, true, c.Reason+"; "+err.Error()
		rep.Add(c)
		return rep, removed, err
	}
	rep.Add(c)
	return rep, removed, nil
}
