package server_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/mirror-dissonance/mirror-infra/emulator"
	"github.com/mirror-dissonance/mirror-infra/spec"
)

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

// strictCase is one request and whether DynamoDB accepts it.
type strictCase struct {
	name   string
	reject bool // ValidationException expected
	call   func(ctx context.Context, db *dynamodb.Client, table string) error
}

// strictCases are the requests of issue 23 that DynamoDB rejects and our
// emulator used to accept, plus accepted neighbours of the shapes the
// Oracle layer sends (so that strictness does not overshoot). table has
// the fp-events schema: pk/sk and the global index FindingIndex on
// gsi1pk/gsi1sk.
func strictCases() []strictCase {
	ix := aws.String(spec.FindingIndex)
	return []strictCase{
		{"reserved word count unescaped in a filter", true, func(ctx context.Context, db *dynamodb.Client, t string) error {
			_, err := db.Scan(ctx, &dynamodb.ScanInput{TableName: &t, FilterExpression: aws.String("count > :n"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":n": &types.AttributeValueMemberN{Value: "1"}}})
			return err
		}},
		{"reserved word ttl unescaped in an update", true, func(ctx context.Context, db *dynamodb.Client, t string) error {
			_, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &t, Key: map[string]types.AttributeValue{"pk": s("a"), "sk": s("b")},
				UpdateExpression: aws.String("SET ttl = :t"), ExpressionAttributeValues: map[string]types.AttributeValue{":t": &types.AttributeValueMemberN{Value: "1"}}})
			return err
		}},
		{"reserved word timestamp unescaped in a projection", true, func(ctx context.Context, db *dynamodb.Client, t string) error {
			_, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &t, Key: map[string]types.AttributeValue{"pk": s("a"), "sk": s("b")}, ProjectionExpression: aws.String("pk, timestamp")})
			return err
		}},
		{"reserved words escaped", false, func(ctx context.Context, db *dynamodb.Client, t string) error {
			_, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &t, Key: map[string]types.AttributeValue{"pk": s("a"), "sk": s("b")},
				UpdateExpression:          aws.String("SET #ttl = :t, #c = if_not_exists(#c, :z) + :one"),
				ExpressionAttributeNames:  map[string]string{"#ttl": "ttl", "#c": "count"},
				ExpressionAttributeValues: map[string]types.AttributeValue{":t": &types.AttributeValueMemberN{Value: "1"}, ":z": &types.AttributeValueMemberN{Value: "0"}, ":one": &types.AttributeValueMemberN{Value: "1"}}})
			return err
		}},
		{"unused expression attribute name", true, func(ctx context.Context, db *dynamodb.Client, t string) error {
			_, err := db.Query(ctx, &dynamodb.QueryInput{TableName: &t, KeyConditionExpression: aws.String("pk = :p"),
				ExpressionAttributeNames:  map[string]string{"#unused": "x"},
				ExpressionAttributeValues: map[string]types.AttributeValue{":p": s("a")}})
			return err
		}},
		{"unused expression attribute value", true, func(ctx context.Context, db *dynamodb.Client, t string) error {
			_, err := db.Query(ctx, &dynamodb.QueryInput{TableName: &t, KeyConditionExpression: aws.String("pk = :p"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":p": s("a"), ":extra": s("b")}})
			return err
		}},
		{"missing expression attribute value", true, func(ctx context.Context, db *dynamodb.Client, t string) error {
			_, err := db.Query(ctx, &dynamodb.QueryInput{TableName: &t, KeyConditionExpression: aws.String("pk = :p AND sk > :missing"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":p": s("a")}})
			return err
		}},
		{"missing expression attribute name", true, func(ctx context.Context, db *dynamodb.Client, t string) error {
			_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &t, Item: map[string]types.AttributeValue{"pk": s("a"), "sk": s("c")},
				ConditionExpression: aws.String("attribute_not_exists(#pk)")})
			return err
		}},
		{"ConsistentRead on a global secondary index", true, func(ctx context.Context, db *dynamodb.Client, t string) error {
			_, err := db.Query(ctx, &dynamodb.QueryInput{TableName: &t, IndexName: ix, ConsistentRead: aws.Bool(true),
				KeyConditionExpression: aws.String("gsi1pk = :f"), ExpressionAttributeValues: map[string]types.AttributeValue{":f": s("F")}})
			return err
		}},
		{"eventually consistent query on the index", false, func(ctx context.Context, db *dynamodb.Client, t string) error {
			_, err := db.Query(ctx, &dynamodb.QueryInput{TableName: &t, IndexName: ix,
				KeyConditionExpression: aws.String("gsi1pk = :f AND begins_with(gsi1sk, :p)"), ExpressionAttributeValues: map[string]types.AttributeValue{":f": s("F"), ":p": s("2026")}})
			return err
		}},
		{"item over 400 KB", true, func(ctx context.Context, db *dynamodb.Client, t string) error {
			_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &t, Item: map[string]types.AttributeValue{"pk": s("big"), "sk": s("1"), "blob": s(strings.Repeat("x", 401*1024))}})
			return err
		}},
		{"item of 300 KB", false, func(ctx context.Context, db *dynamodb.Client, t string) error {
			_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &t, Item: map[string]types.AttributeValue{"pk": s("big"), "sk": s("2"), "blob": s(strings.Repeat("x", 300*1024))}})
			return err
		}},
		{"empty index key value", true, func(ctx context.Context, db *dynamodb.Client, t string) error {
			_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &t, Item: map[string]types.AttributeValue{"pk": s("a"), "sk": s("d"), "gsi1pk": s(""), "gsi1sk": s("x")}})
			return err
		}},
		{"empty table key value", true, func(ctx context.Context, db *dynamodb.Client, t string) error {
			_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &t, Item: map[string]types.AttributeValue{"pk": s(""), "sk": s("d")}})
			return err
		}},
		{"overlapping update paths", true, func(ctx context.Context, db *dynamodb.Client, t string) error {
			_, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &t, Key: map[string]types.AttributeValue{"pk": s("a"), "sk": s("b")},
				UpdateExpression:          aws.String("SET #r = :m, #r.#who = :w"),
				ExpressionAttributeNames:  map[string]string{"#r": "review", "#who": "reviewer"},
				ExpressionAttributeValues: map[string]types.AttributeValue{":m": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{}}, ":w": s("me")}})
			return err
		}},
		{"begins_with on the hash key", true, func(ctx context.Context, db *dynamodb.Client, t string) error {
			_, err := db.Query(ctx, &dynamodb.QueryInput{TableName: &t, KeyConditionExpression: aws.String("begins_with(pk, :p)"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":p": s("a")}})
			return err
		}},
		{"key condition on a non-key attribute", true, func(ctx context.Context, db *dynamodb.Client, t string) error {
			_, err := db.Query(ctx, &dynamodb.QueryInput{TableName: &t, KeyConditionExpression: aws.String("pk = :p AND outcome = :o"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":p": s("a"), ":o": s("block")}})
			return err
		}},
		{"key condition with begins_with on the range key", false, func(ctx context.Context, db *dynamodb.Client, t string) error {
			_, err := db.Query(ctx, &dynamodb.QueryInput{TableName: &t, KeyConditionExpression: aws.String("pk = :p AND begins_with(sk, :s)"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":p": s("a"), ":s": s("b")}, ScanIndexForward: aws.Bool(false), Limit: aws.Int32(5)})
			return err
		}},
		{"Limit 0", true, func(ctx context.Context, db *dynamodb.Client, t string) error {
			_, err := db.Scan(ctx, &dynamodb.ScanInput{TableName: &t, Limit: aws.Int32(0)})
			return err
		}},
		{"conditional put as the Oracle layer sends it", false, func(ctx context.Context, db *dynamodb.Client, t string) error {
			_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &t, Item: map[string]types.AttributeValue{"pk": s("o"), "sk": s("1"), "gsi1pk": s("F"), "gsi1sk": s("2026")},
				ConditionExpression: aws.String("attribute_not_exists(pk)")})
			return err
		}},
	}
}

// verdict is "accept", "ValidationException" or another error code.
func verdict(err error) string {
	if err == nil {
		return "accept"
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return "error: " + err.Error()
}

// TestDynamoDBStrictness sends each request through the SDK: what DynamoDB
// rejects fails with ValidationException, what it accepts succeeds. Before
// the server checked them, kumo accepted every rejected case but Limit 0.
func TestDynamoDBStrictness(t *testing.T) {
	t.Parallel()
	env := emulator.NewTestEnv(t, emulator.SeedOptions{SkipNonce: true})
	db := dynamodb.NewFromConfig(env.Config)
	table := env.Target().FPEventsTable
	for _, c := range strictCases() {
		t.Run(c.name, func(t *testing.T) {
			got := verdict(c.call(context.Background(), db, table))
			want := "accept"
			if c.reject {
				want = "ValidationException"
			}
			if got != want {
				t.Errorf("got %s, want %s", got, want)
			}
		})
	}
}

// TestDynamoDBPagesOfOneMegabyte: 30 items of 40 KB need two pages of a
// Query or a Scan (DynamoDB ends a page at 1 MB evaluated); every item is
// read once across the pages, and Limit ends a page earlier. Before, kumo
// answered one page of 1.2 MB.
func TestDynamoDBPagesOfOneMegabyte(t *testing.T) {
	t.Parallel()
	env := emulator.NewTestEnv(t, emulator.SeedOptions{SkipNonce: true})
	ctx := context.Background()
	db := dynamodb.NewFromConfig(env.Config)
	table := env.Target().FPEventsTable
	blob := strings.Repeat("y", 40*1024)
	for i := range 30 {
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: map[string]types.AttributeValue{
			"pk": s("rule#R1"), "sk": s(fmt.Sprintf("%03d", i)), "blob": s(blob)}}); err != nil {
			t.Fatal(err)
		}
	}
	pages := func(t *testing.T, page func(start map[string]types.AttributeValue) ([]map[string]types.AttributeValue, map[string]types.AttributeValue, error)) (int, int) {
		n, items := 0, map[string]bool{}
		var start map[string]types.AttributeValue
		for {
			got, next, err := page(start)
			if err != nil {
				t.Fatal(err)
			}
			n++
			for _, it := range got {
				items[it["sk"].(*types.AttributeValueMemberS).Value] = true
			}
			if next == nil || n > 10 {
				return n, len(items)
			}
			start = next
		}
	}
	q := func(limit *int32) func(map[string]types.AttributeValue) ([]map[string]types.AttributeValue, map[string]types.AttributeValue, error) {
		return func(start map[string]types.AttributeValue) ([]map[string]types.AttributeValue, map[string]types.AttributeValue, error) {
			out, err := db.Query(ctx, &dynamodb.QueryInput{TableName: &table, KeyConditionExpression: aws.String("pk = :p"), Limit: limit,
				ExpressionAttributeValues: map[string]types.AttributeValue{":p": s("rule#R1")}, ExclusiveStartKey: start})
			if err != nil {
				return nil, nil, err
			}
			return out.Items, out.LastEvaluatedKey, nil
		}
	}
	if n, items := pages(t, q(nil)); n != 2 || items != 30 {
		t.Errorf("Query: %d pages, %d items; want 2 pages of all 30", n, items)
	}
	if n, items := pages(t, q(aws.Int32(7))); n != 5 || items != 30 {
		t.Errorf("Query with Limit 7: %d pages, %d items; want 5 pages of all 30", n, items)
	}
	scan := func(start map[string]types.AttributeValue) ([]map[string]types.AttributeValue, map[string]types.AttributeValue, error) {
		out, err := db.Scan(ctx, &dynamodb.ScanInput{TableName: &table, ExclusiveStartKey: start, FilterExpression: aws.String("attribute_exists(#b)"),
			ExpressionAttributeNames: map[string]string{"#b": "blob"}})
		if err != nil {
			return nil, nil, err
		}
		return out.Items, out.LastEvaluatedKey, nil
	}
	if n, items := pages(t, scan); n != 2 || items != 30 {
		t.Errorf("Scan: %d pages, %d items; want 2 pages of all 30", n, items)
	}
}
