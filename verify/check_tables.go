package verify

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/spec"
)

// IDTables is the id of the tables check.
const IDTables = "tables"

func init() {
	register(check{Entry: Entry{ID: IDTables, Writes: false,
		Summary: "DescribeTable on the three tables: ACTIVE, keys, index and billing as declared",
		Catches: []string{"table-missing", "table-wrong-schema"}},
		rank: 10, run: (*session).checkTables})
}

func (s *session) checkTables(ctx context.Context) report.Check {
	f := newFindings(IDTables)
	s.eachDescription(f, true, func(ts spec.TableSchema, name string, d *types.TableDescription) {
		var notes []string
		if d.TableStatus != types.TableStatusActive {
			f.fail("wait for the table to become ACTIVE, or inspect it in the console", "table %s is %s, not ACTIVE", name, d.TableStatus)
		}
		if got := keyOf(d.KeySchema, types.KeyTypeHash); got != ts.HashKey {
			f.fail(fixDeploy+" (a key change replaces the table: restore data from PITR)", "table %s has hash key %q, want %q", name, got, ts.HashKey)
		}
		if got := keyOf(d.KeySchema, types.KeyTypeRange); got != ts.RangeKey {
			f.fail(fixDeploy+" (a key change replaces the table: restore data from PITR)", "table %s has range key %q, want %q", name, got, ts.RangeKey)
		}
		for _, a := range d.AttributeDefinitions {
			if string(a.AttributeType) != spec.AttributeTypeString {
				f.fail(fixDeploy, "table %s attribute %s is of type %s, want %s", name, aws.ToString(a.AttributeName), a.AttributeType, spec.AttributeTypeString)
			}
		}
		checkIndexes(f, name, ts.Index, d.GlobalSecondaryIndexes)
		mode := "PROVISIONED"
		if d.BillingModeSummary != nil {
			mode = string(d.BillingModeSummary.BillingMode)
		}
		if mode != spec.BillingMode {
			f.fail(fixDeploy, "table %s bills %s, want %s", name, mode, spec.BillingMode)
		}
		if d.StreamSpecification != nil && aws.ToBool(d.StreamSpecification.StreamEnabled) {
			f.fail(fixDeploy, "table %s has a stream enabled; the stack declares none", name)
		}
		if !aws.ToBool(d.DeletionProtectionEnabled) {
			notes = append(notes, "deletion protection off")
			switch dp := s.opts.DeletionProtection; {
			case dp == nil:
				f.warn("enable deletionProtection in the stack config (required for production)", "table %s has deletion protection off", name)
			case *dp:
				f.fail(fixDeploy+" (the stack config sets deletionProtection: true)", "table %s has deletion protection off, but the stack config turns it on", name)
			}
		}
		status := string(d.TableStatus)
		if len(notes) > 0 {
			status += ", " + strings.Join(notes, ", ")
		}
		f.details[name] = status
	})
	return f.result("the three tables are ACTIVE, pay-per-request, with the keys and index the stack declares (spec.TableSchemas)")
}

// checkIndexes compares a table's indexes with its one index of SPEC 2.2
// (want nil: none).
func checkIndexes(f *findings, name string, want *spec.IndexSchema, gsis []types.GlobalSecondaryIndexDescription) {
	var found *types.GlobalSecondaryIndexDescription
	for i := range gsis {
		if want != nil && aws.ToString(gsis[i].IndexName) == want.Name {
			found = &gsis[i]
		} else {
			f.fail(fixDeploy, "table %s has an unexpected index %s", name, aws.ToString(gsis[i].IndexName))
		}
	}
	switch {
	case want == nil:
	case found == nil:
		f.fail(fixDeploy, "table %s lacks the index %s", name, want.Name)
	default:
		if h, r := keyOf(found.KeySchema, types.KeyTypeHash), keyOf(found.KeySchema, types.KeyTypeRange); h != want.HashKey || r != want.RangeKey {
			f.fail(fixDeploy, "index %s of %s has keys (%s, %s), want (%s, %s)", want.Name, name, h, r, want.HashKey, want.RangeKey)
		}
		if found.Projection == nil || string(found.Projection.ProjectionType) != spec.ProjectionAll {
			f.fail(fixDeploy, "index %s of %s does not project %s attributes", want.Name, name, spec.ProjectionAll)
		}
	}
}
