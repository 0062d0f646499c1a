package verify

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/spec"
)

// TTLAttribute is the TTL attribute of fp-events and block-counter.
//
// Deprecated: use spec.TTLAttribute.
const TTLAttribute = spec.TTLAttribute

const fixDeploy = "deploy the environment's stack again so the program's settings apply (in mirror-infra: go run ./automation <stack>)"

// fixMissing is the fix of a resource the target names but the account
// lacks: first what the caller set (the target field, its MD_* variable,
// the aws.Config's region), then the deploy.
func (s *session) fixMissing(field, variable string) string {
	return fmt.Sprintf("check target.Env.%s (%s) and the region %s (the aws.Config's, or target.Env.Region); if they are right, %s",
		field, variable, s.t.Region, fixDeploy)
}

// eachTable calls describe for each table of schemas and fn with what it
// returned. A missing table is a FAIL when missingIsFail (the tables
// check), elsewhere a WARN that it was not checked, so it is reported once;
// any other error is a call failure.
func eachTable[T any](s *session, f *findings, schemas []spec.TableSchema, missingIsFail bool, what string,
	describe func(name string) (T, error), fn func(ts spec.TableSchema, name string, out T)) {
	tables := s.t.Tables()
	for _, ts := range schemas {
		name := tables[ts.Suffix]
		out, err := describe(name)
		switch {
		case isNotFound(err) && missingIsFail:
			f.fail(s.fixMissing("FPEventsTable, ConsentTable, BlockCounterTable", "MD_FP_EVENTS_TABLE, MD_CONSENT_TABLE, MD_BLOCK_COUNTER_TABLE"), "table %s does not exist", name)
		case isNotFound(err):
			f.warn("", "%s not checked: the table does not exist (see the tables check)", name)
		case err != nil:
			f.err(what+" "+name, err)
		default:
			fn(ts, name, out)
		}
	}
}

// eachDescription is eachTable over the run's shared DescribeTable calls.
func (s *session) eachDescription(f *findings, missingIsFail bool, fn func(ts spec.TableSchema, name string, d *types.TableDescription)) {
	describe := func(name string) (*dynamodb.DescribeTableOutput, error) { return s.tables[name]() }
	eachTable(s, f, spec.TableSchemas, missingIsFail, "describing table", describe,
		func(ts spec.TableSchema, name string, out *dynamodb.DescribeTableOutput) { fn(ts, name, out.Table) })
}

func keyOf(ks []types.KeySchemaElement, kt types.KeyType) string {
	for _, k := range ks {
		if k.KeyType == kt {
			return aws.ToString(k.AttributeName)
		}
	}
	return ""
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

func (s *session) checkSSE(ctx context.Context) report.Check {
	f := newFindings(IDSSE)
	cmk, cmkErr := s.cmk()
	fix := "set the table's server-side encryption to the environment CMK (" + s.t.KMSAlias + "); " + fixDeploy
	s.eachDescription(f, false, func(_ spec.TableSchema, name string, d *types.TableDescription) {
		sse := d.SSEDescription
		switch {
		case sse == nil:
			f.fail(fix, "table %s is encrypted with the AWS-owned key, not the environment CMK", name)
		case sse.Status != types.SSEStatusEnabled:
			f.fail(fix, "table %s encryption is %s, not ENABLED", name, sse.Status)
		case sse.SSEType != types.SSETypeKms:
			f.fail(fix, "table %s encryption type is %s, not KMS", name, sse.SSEType)
		case cmkErr != nil:
			f.warn("see the kms check", "table %s uses key %s; not compared: the environment CMK %s could not be described", name, aws.ToString(sse.KMSMasterKeyArn), s.t.KMSKey)
		case aws.ToString(sse.KMSMasterKeyArn) != cmk.Arn:
			f.fail(fix, "table %s is encrypted with key %s, not the environment CMK %s", name, aws.ToString(sse.KMSMasterKeyArn), cmk.Arn)
		default:
			f.details[name] = "KMS " + cmk.Arn
		}
	})
	if cmkErr != nil && !isNotFound(cmkErr) {
		f.err("describing the environment CMK", cmkErr)
	}
	return f.result("the three tables are encrypted with the environment CMK")
}

func (s *session) checkTTL(ctx context.Context) report.Check {
	f := newFindings(IDTTL)
	var withTTL []spec.TableSchema
	var suffixes []string
	for _, ts := range spec.TableSchemas {
		if ts.TTLAttribute != "" {
			withTTL, suffixes = append(withTTL, ts), append(suffixes, ts.Suffix)
		}
	}
	describe := func(name string) (*dynamodb.DescribeTimeToLiveOutput, error) {
		return s.c.DynamoDB.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)})
	}
	eachTable(s, f, withTTL, false, "describing the TTL of", describe, func(ts spec.TableSchema, name string, out *dynamodb.DescribeTimeToLiveOutput) {
		d, want := out.TimeToLiveDescription, ts.TTLAttribute
		fix := "enable TTL on attribute " + want + ": " + fixDeploy
		switch {
		case d == nil || d.TimeToLiveStatus == types.TimeToLiveStatusDisabled || d.TimeToLiveStatus == "":
			f.fail(fix, "TTL is disabled on %s", name)
		case aws.ToString(d.AttributeName) != want:
			f.fail(fix, "TTL of %s uses attribute %q, want %q (items written with %s never expire)", name, aws.ToString(d.AttributeName), want, want)
		case d.TimeToLiveStatus != types.TimeToLiveStatusEnabled:
			f.warn("wait a few minutes and run again", "TTL of %s is %s", name, d.TimeToLiveStatus)
		default:
			f.details[name] = "TTL on " + want
		}
	})
	return f.result("TTL on " + spec.TTLAttribute + " is enabled on " + strings.Join(suffixes, " and "))
}

func (s *session) checkPITR(ctx context.Context) report.Check {
	f := newFindings(IDPITR)
	describe := func(name string) (*dynamodb.DescribeContinuousBackupsOutput, error) {
		return s.c.DynamoDB.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String(name)})
	}
	eachTable(s, f, spec.TableSchemas, false, "describing the continuous backups of", describe, func(_ spec.TableSchema, name string, out *dynamodb.DescribeContinuousBackupsOutput) {
		d := out.ContinuousBackupsDescription
		if d == nil || d.PointInTimeRecoveryDescription == nil ||
			d.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus != types.PointInTimeRecoveryStatusEnabled {
			status := "DISABLED"
			if d != nil && d.PointInTimeRecoveryDescription != nil && d.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus != "" {
				status = string(d.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus)
			}
			f.fail("enable point-in-time recovery on "+name+" (aws dynamodb update-continuous-backups); "+fixDeploy,
				"point-in-time recovery is %s on %s", status, name)
			return
		}
		p := d.PointInTimeRecoveryDescription
		f.details[name] = restoreWindow(p.EarliestRestorableDateTime, p.LatestRestorableDateTime, p.RecoveryPeriodInDays)
	})
	return f.result("point-in-time recovery is enabled on the three tables")
}

func restoreWindow(earliest, latest *time.Time, days *int32) string {
	if earliest == nil || latest == nil {
		return "ENABLED (no restore window reported yet)"
	}
	w := fmt.Sprintf("ENABLED, restorable %s .. %s (%s)", earliest.UTC().Format(time.RFC3339), latest.UTC().Format(time.RFC3339),
		latest.Sub(*earliest).Round(time.Second))
	if days != nil {
		w += fmt.Sprintf(", retention %d days", *days)
	}
	return w
}
