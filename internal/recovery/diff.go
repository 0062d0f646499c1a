package recovery

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/mirror-dissonance/mirror-infra/spec"
)

// Item is a DynamoDB item.
type Item = map[string]types.AttributeValue

// Diff compares a restored table with the live one, by key. It names keys
// and attribute names, never attribute values.
type Diff struct {
	OnlyRestored []string `json:"onlyRestored"`
	OnlyLive     []string `json:"onlyLive"`
	Different    []Change `json:"different"`
	Same         int      `json:"same"`
	// Truncated: a table had more items than the read budget; the diff
	// covers the first ones read.
	Truncated bool `json:"truncated,omitempty"`
	// restored holds the restored items by key, for a copy-back.
	restored map[string]Item
	live     map[string]Item
}

// Change is an item present in both tables with different attributes.
type Change struct {
	Key        string   `json:"key"`
	Attributes []string `json:"attributes"`
}

// itemKey is a readable key: "pk=a/sk=b" (values as JSON strings).
func itemKey(s spec.TableSchema, it Item) string {
	parts := []string{s.HashKey + "=" + keyValue(it[s.HashKey])}
	if s.RangeKey != "" {
		parts = append(parts, s.RangeKey+"="+keyValue(it[s.RangeKey]))
	}
	return strings.Join(parts, "/")
}

func keyValue(v types.AttributeValue) string {
	var x any
	_ = attributevalue.Unmarshal(v, &x)
	b, _ := json.Marshal(x)
	return string(b)
}

// scanAll reads up to budget items of a table.
func scanAll(ctx context.Context, db *dynamodb.Client, s spec.TableSchema, table string, budget int) (map[string]Item, bool, error) {
	out := map[string]Item{}
	var start Item
	for {
		page, err := db.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(table), ExclusiveStartKey: start,
			Limit: aws.Int32(int32(min(budget-len(out)+1, 1000))), ConsistentRead: aws.Bool(true)})
		if err != nil {
			return nil, false, fmt.Errorf("reading %s: %w", table, err)
		}
		for _, it := range page.Items {
			if len(out) == budget {
				return out, true, nil
			}
			out[itemKey(s, it)] = it
		}
		if len(page.LastEvaluatedKey) == 0 {
			return out, false, nil
		}
		start = page.LastEvaluatedKey
	}
}

func diffTables(ctx context.Context, db *dynamodb.Client, s spec.TableSchema, restored, live string, budget int) (*Diff, error) {
	r, rt, err := scanAll(ctx, db, s, restored, budget)
	if err != nil {
		return nil, err
	}
	l, lt, err := scanAll(ctx, db, s, live, budget)
	if err != nil {
		return nil, err
	}
	d := &Diff{Truncated: rt || lt, restored: r, live: l}
	for k, ri := range r {
		li, ok := l[k]
		switch {
		case !ok:
			d.OnlyRestored = append(d.OnlyRestored, k)
		case reflect.DeepEqual(ri, li):
			d.Same++
		default:
			d.Different = append(d.Different, Change{Key: k, Attributes: differing(ri, li)})
		}
	}
	for k := range l {
		if _, ok := r[k]; !ok {
			d.OnlyLive = append(d.OnlyLive, k)
		}
	}
	sort.Strings(d.OnlyRestored)
	sort.Strings(d.OnlyLive)
	sort.Slice(d.Different, func(i, j int) bool { return d.Different[i].Key < d.Different[j].Key })
	return d, nil
}

func differing(a, b Item) []string {
	var out []string
	for k, v := range a {
		if w, ok := b[k]; !ok || !reflect.DeepEqual(v, w) {
			out = append(out, k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// FingerprintPrefix marks copy-back fingerprints, as the plan fingerprints.
const FingerprintPrefix = "sha256:"

// CopyFingerprint is what an operator approves for a copy-back: the
// SHA-256 of the target table, the chosen keys and each chosen restored
// item's content, so a different choice or a different restore needs a new
// approval.
func CopyFingerprint(live string, keys []string, restored map[string]Item) string {
	sorted := append([]string(nil), keys...)
	sort.Strings(sorted)
	h := sha256.New()
	fmt.Fprintf(h, "copy-back\x00%s\x00", live)
	for _, k := range sorted {
		var v any
		_ = attributevalue.UnmarshalMap(restored[k], &v)
		b, _ := json.Marshal(v) // map keys sorted: canonical
		fmt.Fprintf(h, "%s\x00%s\x00", k, b)
	}
	return FingerprintPrefix + hex.EncodeToString(h.Sum(nil))
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
