package emulator

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/mirror-dissonance/mirror-infra/spec"
)

// defaultWriterZone is the time zone of the original Oracle's runner in
// the Terraform-era data when TerraformOptions.WriterZone is nil: UTC+5:30,
// so its block-counter hours (the start of the local hour, written in UTC)
// fall on the half hour and the writer's zone shows in every key.
func defaultWriterZone() *time.Location { return time.FixedZone("UTC+05:30", 5*3600+30*60) }

// tsItems writes the items the original TypeScript Oracle
// (reference/oracle/adapters/aws/) leaves in the tables, in its shapes and
// through its requests, not through this module's adapters: FP events with
// the older eventType spelling pull_request, block counters with ttl and
// no expiresAt keyed by the writer's local hour, consent as pk/sk records
// (stored under orgId by a table keyed orgId, under pk/sk by TFKeySchema's
// table), and governance-cache rows. Their keys are kept in Items.
type tsItems struct {
	t   *tfSeeder
	now time.Time
}

func (t *tfSeeder) items(ctx context.Context) error {
	w := tsItems{t: t, now: time.Now()}
	n := t.names()
	for i := 1; i <= 3; i++ {
		if err := w.fpEvent(ctx, n.Table(spec.TableFPEvents), i); err != nil {
			return fmt.Errorf("recording an FP event as the original Oracle does: %w", err)
		}
		org := fmt.Sprintf("terraform-era-org-%d", i)
		if err := w.consent(ctx, n.Table(spec.TableConsent), org, i); err != nil {
			return fmt.Errorf("recording consent as the original Oracle does: %w", err)
		}
		if !t.o.Has(TFMissing) {
			if err := w.block(ctx, n.Table(spec.TableBlockCounter), "MD-001", org); err != nil {
				return fmt.Errorf("counting a block as the original Oracle does: %w", err)
			}
		}
		if err := w.governanceRow(ctx, n.Table("governance-cache"), i); err != nil {
			return fmt.Errorf("writing a governance-cache row: %w", err)
		}
	}
	return nil
}

func tsS(v string) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberS{Value: v} }
func tsN(v int64) ddbtypes.AttributeValue {
	return &ddbtypes.AttributeValueMemberN{Value: fmt.Sprint(v)}
}

// tsISO is JavaScript's Date.prototype.toISOString.
func tsISO(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// tsHash is the original consent store's hashId: SHA-256 hex.
func tsHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func (w tsItems) keep(table string, item map[string]ddbtypes.AttributeValue, key ...string) {
	k := map[string]ddbtypes.AttributeValue{}
	for _, a := range key {
		k[a] = item[a]
	}
	w.t.s.Items[table] = append(w.t.s.Items[table], k)
}

// fpEvent is fp-store.ts recordEvent: marshall of the event, create-only.
func (w tsItems) fpEvent(ctx context.Context, table string, i int) error {
	at := w.now.Add(-time.Duration(i) * time.Minute).Truncate(time.Millisecond)
	id := fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
	rule, finding := "MD-001", fmt.Sprintf("terraform-era-%d", i)
	item := map[string]ddbtypes.AttributeValue{
		spec.AttrPK: tsS("rule#" + rule), spec.AttrSK: tsS("event#" + tsISO(at) + "#" + id),
		spec.AttrGSI1PK: tsS("finding#" + finding), spec.AttrGSI1SK: tsS("rule#" + rule + "#1.2.0"),
		"eventId": tsS(id), "ruleId": tsS(rule), "ruleVersion": tsS("1.2.0"), "findingId": tsS(finding),
		"outcome": tsS("block"), "isFalsePositive": &ddbtypes.AttributeValueMemberBOOL{Value: false},
		"timestamp": tsS(tsISO(at)),
		"context": &ddbtypes.AttributeValueMemberM{Value: map[string]ddbtypes.AttributeValue{
			"repo": tsS("acme/api"), "branch": tsS("main"), "eventType": tsS("pull_request"),
		}},
		"expiresAt":  tsN(w.now.Unix() + 90*86400),
		"recordedAt": tsN(w.now.UnixMilli()),
	}
	if _, err := w.t.ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item,
		ConditionExpression: aws.String("attribute_not_exists(pk) AND attribute_not_exists(sk)")}); err != nil {
		return err
	}
	w.keep(table, item, spec.AttrPK, spec.AttrSK)
	return nil
}

// block is block-counter.ts increment: the start of the writer's local
// hour as an ISO string in the key, expiry in ttl.
func (w tsItems) block(ctx context.Context, table, rule, org string) error {
	zone := w.t.o.WriterZone
	if zone == nil {
		zone = defaultWriterZone()
	}
	local := w.now.In(zone)
	hour := time.Date(local.Year(), local.Month(), local.Day(), local.Hour(), 0, 0, 0, zone)
	key := map[string]ddbtypes.AttributeValue{spec.AttrBucketKey: tsS(rule + ":" + org + ":" + tsISO(hour))}
	if _, err := w.t.ddb.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(table), Key: key,
		UpdateExpression:         aws.String("ADD #count :inc SET #ttl = if_not_exists(#ttl, :ttl), #ts = :ts"),
		ExpressionAttributeNames: map[string]string{"#count": "count", "#ttl": "ttl", "#ts": "timestamp"},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{
			":inc": tsN(1), ":ttl": tsN(w.now.Unix() + 24*3600), ":ts": tsN(w.now.UnixMilli()),
		},
		ReturnValues: ddbtypes.ReturnValueUpdatedNew,
	}); err != nil {
		return err
	}
	w.keep(table, key, spec.AttrBucketKey)
	return nil
}

// consent is consent-store.ts recordConsent: a pk/sk record carrying the
// hashed orgId, which a table keyed orgId stores under orgId.
func (w tsItems) consent(ctx context.Context, table, org string, i int) error {
	now := tsISO(w.now)
	id := tsHash(org)
	item := map[string]ddbtypes.AttributeValue{
		spec.AttrPK: tsS("org#" + id), spec.AttrSK: tsS(fmt.Sprintf("consent#pull_request_analysis#00000000-0000-4000-8000-%012d", i)),
		spec.AttrOrgID: tsS(id), "scope": tsS("pull_request_analysis"), "grantedBy": tsS(tsHash("admin@" + org)),
		"grantedAt": tsS(now), "revoked": &ddbtypes.AttributeValueMemberBOOL{Value: false}, "updatedAt": tsS(now),
	}
	if _, err := w.t.ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
		return err
	}
	if w.t.o.Has(TFKeySchema) {
		w.keep(table, item, spec.AttrPK, spec.AttrSK)
	} else {
		w.keep(table, item, spec.AttrOrgID)
	}
	return nil
}

// governanceRow is a row of the governance cache, which this program
// leaves alone.
func (w tsItems) governanceRow(ctx context.Context, table string, i int) error {
	item := map[string]ddbtypes.AttributeValue{"org": tsS("acme"), "repo": tsS(fmt.Sprintf("acme/repo-%d", i)),
		"state": tsS("{}"), "scannedAt": tsS(w.now.UTC().Format(time.RFC3339))}
	if _, err := w.t.ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
		return err
	}
	w.keep(table, item, "org", "repo")
	return nil
}
