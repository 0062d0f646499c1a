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

// tableSpec is SPEC 2.2 for one table.
type tableSpec struct {
	hash, rng string
	// gsi names the one index, with its hash and range keys; empty for none.
	gsi, gsiHash, gsiRange string
	ttl                    bool
}

var tableSpecs = map[string]tableSpec{
	spec.TableFPEvents:     {hash: "pk", rng: "sk", gsi: "FindingIndex", gsiHash: "gsi1pk", gsiRange: "gsi1sk", ttl: true},
	spec.TableConsent:      {hash: "orgId"},
	spec.TableBlockCounter: {hash: "bucketKey", ttl: true},
}

// TTLAttribute is the TTL attribute of fp-events and block-counter.
const TTLAttribute = "expiresAt"

const fixDeploy = "run the deploy (go run ./automation <stack>) so the program's settings are applied again"

// eachTable describes every table once and calls fn with the suffix, name
// and description; a missing table is reported once, by the tables check,
// and elsewhere as not checked (WARN).
func (s *session) eachTable(f *findings, missingIsFail bool, fn func(suffix, name string, d *types.TableDescription)) {
	tables := s.t.Tables()
	for _, suffix := range spec.TableSuffixes {
		name := tables[suffix]
		out, err := s.tables[name]()
		switch {
		case isNotFound(err):
			if missingIsFail {
				f.fail(fixDeploy, "table %s does not exist", name)
			} else {
				f.warn("", "%s not checked: the table does not exist (see the tables check)", name)
			}
		case err != nil:
			f.err("describing table "+name, err)
		default:
			fn(suffix, name, out.Table)
		}
	}
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
	s.eachTable(f, true, func(suffix, name string, d *types.TableDescription) {
		spec := tableSpecs[suffix]
		var notes []string
		if d.TableStatus != types.TableStatusActive {
			f.fail("wait for the table to become ACTIVE, or inspect it in the console", "table %s is %s, not ACTIVE", name, d.TableStatus)
		}
		if got := keyOf(d.KeySchema, types.KeyTypeHash); got != spec.hash {
			f.fail(fixDeploy+" (a key change replaces the table: restore data from PITR)", "table %s has hash key %q, want %q", name, got, spec.hash)
		}
		if got := keyOf(d.KeySchema, types.KeyTypeRange); got != spec.rng {
			f.fail(fixDeploy+" (a key change replaces the table: restore data from PITR)", "table %s has range key %q, want %q", name, got, spec.rng)
		}
		for _, a := range d.AttributeDefinitions {
			if a.AttributeType != types.ScalarAttributeTypeS {
				f.fail(fixDeploy, "table %s attribute %s is of type %s, want S", name, aws.ToString(a.AttributeName), a.AttributeType)
			}
		}
		s.checkIndexes(f, name, spec, d.GlobalSecondaryIndexes)
		if d.BillingModeSummary == nil || d.BillingModeSummary.BillingMode != types.BillingModePayPerRequest {
			mode := "PROVISIONED"
			if d.BillingModeSummary != nil {
				mode = string(d.BillingModeSummary.BillingMode)
			}
			f.fail(fixDeploy, "table %s bills %s, want PAY_PER_REQUEST", name, mode)
		}
		if d.StreamSpecification != nil && aws.ToBool(d.StreamSpecification.StreamEnabled) {
			f.fail(fixDeploy, "table %s has a stream enabled; the SPEC has no streams", name)
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
	return f.result("the three tables are ACTIVE, pay-per-request, with the keys and index of SPEC 2.2")
}

func (s *session) checkIndexes(f *findings, name string, spec tableSpec, gsis []types.GlobalSecondaryIndexDescription) {
	if spec.gsi == "" {
		for _, g := range gsis {
			f.fail(fixDeploy, "table %s has an unexpected index %s", name, aws.ToString(g.IndexName))
		}
		return
	}
	var found *types.GlobalSecondaryIndexDescription
	for i := range gsis {
		if aws.ToString(gsis[i].IndexName) == spec.gsi {
			found = &gsis[i]
		} else {
			f.fail(fixDeploy, "table %s has an unexpected index %s", name, aws.ToString(gsis[i].IndexName))
		}
	}
	if found == nil {
		f.fail(fixDeploy, "table %s lacks the index %s", name, spec.gsi)
		return
	}
	if h, r := keyOf(found.KeySchema, types.KeyTypeHash), keyOf(found.KeySchema, types.KeyTypeRange); h != spec.gsiHash || r != spec.gsiRange {
		f.fail(fixDeploy, "index %s of %s has keys (%s, %s), want (%s, %s)", spec.gsi, name, h, r, spec.gsiHash, spec.gsiRange)
	}
	if found.Projection == nil || found.Projection.ProjectionType != types.ProjectionTypeAll {
		f.fail(fixDeploy, "index %s of %s does not project ALL attributes", spec.gsi, name)
	}
}

func (s *session) checkSSE(ctx context.Context) report.Check {
	f := newFindings(IDSSE)
	cmk, cmkErr := s.cmk()
	fix := "set the table's server-side encryption to the environment CMK (" + s.t.KMSAlias + ") and deploy"
	s.eachTable(f, false, func(suffix, name string, d *types.TableDescription) {
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
	tables := s.t.Tables()
	for _, suffix := range spec.TableSuffixes {
		if !tableSpecs[suffix].ttl {
			continue
		}
		name := tables[suffix]
		out, err := s.c.DynamoDB.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)})
		switch {
		case isNotFound(err):
			f.warn("", "%s not checked: the table does not exist (see the tables check)", name)
			continue
		case err != nil:
			f.err("describing the TTL of "+name, err)
			continue
		}
		d := out.TimeToLiveDescription
		fix := "enable TTL on attribute " + TTLAttribute + " (the program sets it; deploy again)"
		if d == nil || d.TimeToLiveStatus == types.TimeToLiveStatusDisabled || d.TimeToLiveStatus == "" {
			f.fail(fix, "TTL is disabled on %s", name)
			continue
		}
		if attr := aws.ToString(d.AttributeName); attr != TTLAttribute {
			f.fail(fix, "TTL of %s uses attribute %q, want %q (items written with %s never expire)", name, attr, TTLAttribute, TTLAttribute)
			continue
		}
		if d.TimeToLiveStatus != types.TimeToLiveStatusEnabled {
			f.warn("wait a few minutes and run again", "TTL of %s is %s", name, d.TimeToLiveStatus)
			continue
		}
		f.details[name] = "TTL on " + TTLAttribute
	}
	return f.result("TTL on expiresAt is enabled on fp-events and block-counter")
}

func (s *session) checkPITR(ctx context.Context) report.Check {
	f := newFindings(IDPITR)
	tables := s.t.Tables()
	for _, suffix := range spec.TableSuffixes {
		name := tables[suffix]
		out, err := s.c.DynamoDB.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String(name)})
		switch {
		case isNotFound(err):
			f.warn("", "%s not checked: the table does not exist (see the tables check)", name)
			continue
		case err != nil:
			f.err("describing the continuous backups of "+name, err)
			continue
		}
		d := out.ContinuousBackupsDescription
		if d == nil || d.PointInTimeRecoveryDescription == nil ||
			d.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus != types.PointInTimeRecoveryStatusEnabled {
			status := "DISABLED"
			if d != nil && d.PointInTimeRecoveryDescription != nil && d.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus != "" {
				status = string(d.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus)
			}
			f.fail("enable point-in-time recovery on "+name+" (the program sets it; deploy again, or aws dynamodb update-continuous-backups)",
				"point-in-time recovery is %s on %s", status, name)
			continue
		}
		p := d.PointInTimeRecoveryDescription
		f.details[name] = restoreWindow(p.EarliestRestorableDateTime, p.LatestRestorableDateTime, p.RecoveryPeriodInDays)
	}
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
