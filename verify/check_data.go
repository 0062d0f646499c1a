package verify

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/mirror-dissonance/mirror-infra/oracle/breaker"
	"github.com/mirror-dissonance/mirror-infra/oracle/consent"
	"github.com/mirror-dissonance/mirror-infra/oracle/fpevents"
	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/spec"
)

// IDData is the id of the data check.
const IDData = "data"

func init() {
	register(check{Entry: Entry{ID: IDData, Writes: false,
		Summary: "the newest items of each table follow the data contract",
		Catches: []string{}},
		rank: 130, run: (*session).checkData})
}

// dataSample is how many of each table's newest items the check reads
// and validates.
const dataSample = 100

// dataScanPages bounds the Scan that finds the newest items: at most this
// many 1 MB pages per table. A larger table is sampled among the items
// read, and the details say so.
const dataScanPages = 8

const fixContract = "see docs/oracle-contract.md for the item formats and the Oracle's fixes"

// dataTable is how the data check reads one table: its validator, the
// attribute that orders its items by recency, and the fix per finding code.
type dataTable struct {
	suffix string
	check  func(map[string]types.AttributeValue) []fpevents.Finding
	// order says in words what recency orders by, for the details.
	order string
	// recency returns a sortable recency key (newest is greatest).
	recency func(map[string]types.AttributeValue) string
}

var dataTables = []dataTable{
	// sk is event#<ISO-8601 UTC>#<eventId>: it sorts by the event's time.
	{spec.TableFPEvents, fpevents.CheckItem, "sk (the event time)", func(it map[string]types.AttributeValue) string { return sAttr(it, spec.AttrSK) }},
	{spec.TableConsent, consent.CheckItem, "updatedAt", func(it map[string]types.AttributeValue) string {
		return nAttr(it, "updatedAt") + sAttr(it, "updatedAt")
	}},
	// A key the contract does not parse sorts as oldest, so it is sampled
	// only when the table has room for it.
	{spec.TableBlockCounter, breaker.CheckItem, "the hour of bucketKey", func(it map[string]types.AttributeValue) string {
		k := sAttr(it, spec.AttrBucketKey)
		if b, err := breaker.ParseBucketKey(k); err == nil {
			return b.Hour.Format("2006-01-02T15")
		}
		return ""
	}},
}

// dataFixes says what to do about each finding code.
var dataFixes = map[string]string{
	breaker.CodeNoExpiry: "the Oracle's block counter must SET expiresAt (end of the hour + 24 h, epoch seconds) instead of ttl; " +
		"existing buckets: set expiresAt on them, or delete buckets whose hour ended more than a day ago",
	breaker.CodeBadKey:            "delete block-counter items whose key is not <ruleId>:<orgId>:<hour>; nothing reads them",
	breaker.CodeBadCount:          "the breaker cannot use these buckets; delete them",
	fpevents.CodeMissingIndexKeys: "every FP event needs gsi1pk=finding#<findingId> and gsi1sk=rule#<ruleId>#<ruleVersion>; fix the writer and backfill the keys",
	fpevents.CodeKeyMismatch:      "fix the writer of these FP events: keys must follow the data contract (docs/oracle-contract.md in mirror-infra)",
	fpevents.CodeUnknownEventType: "FP events need context.eventType pullrequest, mergegroup or drift; fix the writer",
	fpevents.CodeBadField:         "fix the writer of these FP events: outcome block|warn|pass, timestamp ISO-8601 UTC with ms",
	fpevents.CodeNoExpiry:         "FP events need expiresAt (epoch seconds, recording time + 90 days)",
	consent.CodeOracleShape: "the Oracle's consent store must read and write the consent table by orgId (SHA-256 of the org), one item per organisation; " +
		"the organisations of these items must grant consent again",
	consent.CodeBadKey:    "consent items must be keyed by the SHA-256 hex of the organisation; delete items with other keys",
	consent.CodeBadRecord: "rewrite or delete consent items the Oracle cannot read: it fails closed on them",
}

func sAttr(it map[string]types.AttributeValue, name string) string {
	if v, ok := it[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func nAttr(it map[string]types.AttributeValue, name string) string {
	if v, ok := it[name].(*types.AttributeValueMemberN); ok {
		return fmt.Sprintf("%020s", v.Value)
	}
	return ""
}

// codeTally is what one finding code amounted to in one table.
type codeTally struct {
	code     string
	severity report.Status
	items    int
	bytes    int
	example  string
}

// checkData samples each table's newest items: a Scan of at most
// dataScanPages pages (DynamoDB has no table-wide newest-first order on
// these keys, the index orders by finding, and a Query needs one rule's
// partition) keeps the dataSample newest, and the adapters' validators
// check each. The details say what was sampled and how. SKIP when all three
// tables are empty.
func (s *session) checkData(ctx context.Context) report.Check {
	f := newFindings(IDData)
	tables := s.tgt.Tables()
	sampled, empty := 0, 0
	for _, dt := range dataTables {
		name := tables[dt.suffix]
		smp, err := s.newestItems(ctx, name, dt)
		switch {
		case isNotFound(err):
			f.warn("", "%s not checked: the table does not exist (see the tables check)", name)
			continue
		case f.failed("sampling "+name, err):
			continue
		}
		items := smp.items
		if len(items) == 0 {
			empty++
			f.details[name] = "empty"
			continue
		}
		sampled += len(items)
		tallies := map[string]*codeTally{}
		bad := 0
		for _, it := range items {
			fs := dt.check(it)
			if len(fs) > 0 {
				bad++
			}
			for _, fd := range fs {
				t := tallies[fd.Code]
				if t == nil {
					t = &codeTally{code: fd.Code, severity: fd.Severity, example: fd.Detail}
					tallies[fd.Code] = t
				}
				t.items++
				t.bytes += breaker.ItemSize(it)
			}
		}
		f.details[name] = fmt.Sprintf("sampled the %d newest item(s) by %s of %d read in %d Scan page(s)%s, %d with findings",
			len(items), dt.order, smp.read, smp.pages, smp.bound(), bad)
		var kinds []string
		for _, t := range sortedTallies(tallies) {
			// Details list every kind, WARNs included, since a FAIL
			// elsewhere leaves only the FAILs in the reason.
			kinds = append(kinds, fmt.Sprintf("%s %s x%d", t.severity, t.code, t.items))
			msg := fmt.Sprintf("%s: %d of %d sampled item(s) %s (e.g. %s)", name, t.items, len(items), t.code, t.example)
			if t.code == breaker.CodeNoExpiry {
				msg = fmt.Sprintf("%s: %d of %d sampled block-counter item(s) have no %s and never expire (%d bytes in the sample, about %d each): "+
					"one item per rule, organisation and hour with a block stays forever, so storage, backups and every scan of the table grow without bound (e.g. %s)",
					name, t.items, len(items), spec.TTLAttribute, t.bytes, t.bytes/t.items, t.example)
			}
			fix := dataFixes[t.code]
			if fix == "" {
				fix = fixContract
			}
			if t.severity == report.Fail {
				f.fail(fix+" ("+fixContract+")", "%s", msg)
			} else {
				f.warn(fix+" ("+fixContract+")", "%s", msg)
			}
		}
		if len(kinds) > 0 {
			f.details[name] += ": " + strings.Join(kinds, ", ")
		}
	}
	if empty == len(dataTables) {
		c := f.result("")
		c.Status, c.Reason = report.Skip, "all three tables are empty: no data to check"
		return c
	}
	return f.result(fmt.Sprintf("%d sampled item(s) follow the data contract (docs/oracle-contract.md)", sampled))
}

func sortedTallies(m map[string]*codeTally) []*codeTally {
	out := make([]*codeTally, 0, len(m))
	for _, t := range m {
		out = append(out, t)
	}
	// FAILs first, then by code, so the reason reads the same every run.
	sort.Slice(out, func(i, j int) bool {
		if (out[i].severity == report.Fail) != (out[j].severity == report.Fail) {
			return out[i].severity == report.Fail
		}
		return strings.Compare(out[i].code, out[j].code) < 0
	})
	return out
}

// dataSampled is what newestItems read of one table.
type dataSampled struct {
	items []map[string]types.AttributeValue
	// read and pages are what the Scan read.
	read, pages int
	// more is set when the Scan stopped at dataScanPages.
	more bool
}

func (d dataSampled) bound() string {
	if d.more {
		return fmt.Sprintf(" (stopped at %d pages: the table has more, older or newer, items not sampled)", dataScanPages)
	}
	return " (the whole table)"
}

// newestItems returns up to dataSample of the newest items of table name,
// newest first, from a Scan of at most dataScanPages pages. Only the newest
// dataSample items are kept while the pages go by, so memory stays bounded.
func (s *session) newestItems(ctx context.Context, name string, dt dataTable) (dataSampled, error) {
	var out dataSampled
	in := &dynamodb.ScanInput{TableName: aws.String(name)}
	for {
		page, err := s.c.DynamoDB.Scan(ctx, in)
		if err != nil {
			return dataSampled{}, err
		}
		out.pages++
		out.read += len(page.Items)
		out.items = append(out.items, page.Items...)
		sort.SliceStable(out.items, func(i, j int) bool { return dt.recency(out.items[i]) > dt.recency(out.items[j]) })
		out.items = out.items[:min(len(out.items), dataSample)]
		if len(page.LastEvaluatedKey) == 0 {
			return out, nil
		}
		if out.pages == dataScanPages {
			out.more = true
			return out, nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}
