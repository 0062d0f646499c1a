package server_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/smithy-go"

	"github.com/mirror-dissonance/mirror-infra/emulator"
)

func restoreClient(t *testing.T) (*emulator.Emulator, *dynamodb.Client, *kms.Client) {
	t.Helper()
	e := emulator.Start()
	t.Cleanup(e.Close)
	e.SetRestoreTiming(300*time.Millisecond, 50*time.Millisecond)
	cfg, err := e.Config(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return e, dynamodb.NewFromConfig(cfg), kms.NewFromConfig(cfg)
}

// restoreSource creates a pay-per-request table with an index, a customer
// key, TTL, deletion protection, tags and (when pitr) PITR.
func restoreSource(t *testing.T, db *dynamodb.Client, km *kms.Client, name string, pitr bool) string {
	t.Helper()
	ctx := context.Background()
	key, err := km.CreateKey(ctx, &kms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	s := func(n string) types.AttributeDefinition {
		return types.AttributeDefinition{AttributeName: aws.String(n), AttributeType: types.ScalarAttributeTypeS}
	}
	_, err = db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{s("pk"), s("sk"), s("g")},
		KeySchema: []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange}},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{IndexName: aws.String("ByG"),
			KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String("g"), KeyType: types.KeyTypeHash}},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll}}},
		SSESpecification:          &types.SSESpecification{Enabled: aws.Bool(true), SSEType: types.SSETypeKms, KMSMasterKeyId: key.KeyMetadata.Arn},
		DeletionProtectionEnabled: aws.Bool(true),
		Tags:                      []types.Tag{{Key: aws.String("Project"), Value: aws.String("x")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String(name),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String("expiresAt"), Enabled: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	if pitr {
		enablePITR(t, db, name)
	}
	return aws.ToString(key.KeyMetadata.Arn)
}

func enablePITR(t *testing.T, db *dynamodb.Client, name string) {
	t.Helper()
	if _, err := db.UpdateContinuousBackups(context.Background(), &dynamodb.UpdateContinuousBackupsInput{TableName: aws.String(name),
		PointInTimeRecoverySpecification: &types.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
}

func item(pk, v string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk},
		"sk": &types.AttributeValueMemberS{Value: "s"}, "v": &types.AttributeValueMemberS{Value: v}}
}

func key(pk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}, "sk": &types.AttributeValueMemberS{Value: "s"}}
}

// contents are "pk=v" of every item of a table, sorted.
func contents(t *testing.T, db *dynamodb.Client, table string) []string {
	t.Helper()
	out, err := db.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range out.Items {
		got = append(got, it["pk"].(*types.AttributeValueMemberS).Value+"="+it["v"].(*types.AttributeValueMemberS).Value)
	}
	sort.Strings(got)
	return got
}

func waitActive(t *testing.T, db *dynamodb.Client, table string) *types.TableDescription {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		d, err := db.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(table)})
		if err != nil {
			t.Fatal(err)
		}
		if d.Table.TableStatus == types.TableStatusActive {
			return d.Table
		}
	}
	t.Fatalf("%s never became ACTIVE", table)
	return nil
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return fmt.Sprint(err)
}

// TestRestoreItemsAsOfTheTime: a restore holds exactly the items as of the
// requested time, before and after an update, a delete and a put.
func TestRestoreItemsAsOfTheTime(t *testing.T) {
	ctx := context.Background()
	e, db, km := restoreClient(t)
	src := "restore-asof-" + fmt.Sprint(time.Now().UnixNano())
	restoreSource(t, db, km, src, true)
	put := func(it map[string]types.AttributeValue) {
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(src), Item: it}); err != nil {
			t.Fatal(err)
		}
	}
	put(item("a", "1"))
	put(item("b", "1"))
	time.Sleep(5 * time.Millisecond)
	t1 := time.Now()
	time.Sleep(5 * time.Millisecond)
	if _, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(src), Key: key("a"),
		UpdateExpression:          aws.String("SET v = :v"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": &types.AttributeValueMemberS{Value: "2"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(src), Key: key("b")}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{
		src: {{PutRequest: &types.PutRequest{Item: item("c", "1")}}}}}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond)
	t2 := time.Now()
	time.Sleep(100 * time.Millisecond) // past the lag

	cases := []struct {
		at   time.Time
		want []string
	}{{t1, []string{"a=1", "b=1"}}, {t2, []string{"a=2", "c=1"}}}
	for i, tc := range cases {
		target := fmt.Sprintf("%s-r%d", src, i)
		out, err := db.RestoreTableToPointInTime(ctx, &dynamodb.RestoreTableToPointInTimeInput{
			SourceTableName: aws.String(src), TargetTableName: aws.String(target), RestoreDateTime: aws.Time(tc.at)})
		if err != nil {
			t.Fatal(err)
		}
		if out.TableDescription.TableStatus != types.TableStatusCreating {
			t.Errorf("restore answered %s, want CREATING", out.TableDescription.TableStatus)
		}
		// While CREATING, data calls find no table and changes are refused.
		if _, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(target), Key: key("a")}); apiCode(err) != "ResourceNotFoundException" {
			t.Errorf("GetItem while CREATING: %v", err)
		}
		if _, err := db.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(target)}); apiCode(err) != "ResourceInUseException" {
			t.Errorf("DeleteTable while CREATING: %v", err)
		}
		desc := waitActive(t, db, target)
		if got := contents(t, db, target); fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("restore as of %s holds %v, want %v", tc.at.Format(time.StampMilli), got, tc.want)
		}
		if desc.RestoreSummary == nil || aws.ToString(desc.RestoreSummary.SourceTableArn) == "" || aws.ToBool(desc.RestoreSummary.RestoreInProgress) {
			t.Errorf("restore summary %+v", desc.RestoreSummary)
		}
	}
	_ = e
}

// TestRestoreKeepsAndDrops: keys, the index, billing and encryption are
// kept (or overridden); TTL, PITR, deletion protection and tags are not.
func TestRestoreKeepsAndDrops(t *testing.T) {
	ctx := context.Background()
	_, db, km := restoreClient(t)
	src := "restore-keep-" + fmt.Sprint(time.Now().UnixNano())
	keyArn := restoreSource(t, db, km, src, true)
	time.Sleep(100 * time.Millisecond)
	other, err := km.CreateKey(ctx, &kms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	for target, override := range map[string]*types.SSESpecification{
		src + "-same":     nil,
		src + "-override": {Enabled: aws.Bool(true), SSEType: types.SSETypeKms, KMSMasterKeyId: other.KeyMetadata.KeyId},
	} {
		if _, err := db.RestoreTableToPointInTime(ctx, &dynamodb.RestoreTableToPointInTimeInput{
			SourceTableName: aws.String(src), TargetTableName: aws.String(target),
			UseLatestRestorableTime: aws.Bool(true), SSESpecificationOverride: override}); err != nil {
			t.Fatal(err)
		}
		d := waitActive(t, db, target)
		wantKey := keyArn
		if override != nil {
			wantKey = aws.ToString(other.KeyMetadata.Arn)
		}
		if d.SSEDescription == nil || aws.ToString(d.SSEDescription.KMSMasterKeyArn) != wantKey {
			t.Errorf("%s: SSE %+v, want key %s", target, d.SSEDescription, wantKey)
		}
		if len(d.GlobalSecondaryIndexes) != 1 || aws.ToString(d.GlobalSecondaryIndexes[0].IndexName) != "ByG" || len(d.KeySchema) != 2 {
			t.Errorf("%s: keys %v, indexes %v", target, d.KeySchema, d.GlobalSecondaryIndexes)
		}
		if d.BillingModeSummary == nil || d.BillingModeSummary.BillingMode != types.BillingModePayPerRequest {
			t.Errorf("%s: billing %+v", target, d.BillingModeSummary)
		}
		if aws.ToBool(d.DeletionProtectionEnabled) {
			t.Errorf("%s: deletion protection carried over", target)
		}
		ttl, err := db.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(target)})
		if err != nil || ttl.TimeToLiveDescription.TimeToLiveStatus == types.TimeToLiveStatusEnabled {
			t.Errorf("%s: TTL %+v, %v", target, ttl, err)
		}
		cb, err := db.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String(target)})
		if err != nil || cb.ContinuousBackupsDescription.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus == types.PointInTimeRecoveryStatusEnabled {
			t.Errorf("%s: PITR carried over (%v)", target, err)
		}
		tags, err := db.ListTagsOfResource(ctx, &dynamodb.ListTagsOfResourceInput{ResourceArn: d.TableArn})
		if err != nil || len(tags.Tags) != 0 {
			t.Errorf("%s: tags %v, %v", target, tags, err)
		}
	}
}

// TestRestoreRefusals: no PITR, a time before PITR was enabled or after the
// latest restorable time, and an existing target are refused as DynamoDB
// refuses them.
func TestRestoreRefusals(t *testing.T) {
	ctx := context.Background()
	_, db, km := restoreClient(t)
	src := "restore-refuse-" + fmt.Sprint(time.Now().UnixNano())
	restoreSource(t, db, km, src, false)
	restore := func(at time.Time, target string) error {
		_, err := db.RestoreTableToPointInTime(ctx, &dynamodb.RestoreTableToPointInTimeInput{
			SourceTableName: aws.String(src), TargetTableName: aws.String(target), RestoreDateTime: aws.Time(at)})
		return err
	}
	before := time.Now()
	if err := restore(before, src+"-a"); apiCode(err) != "PointInTimeRecoveryUnavailableException" {
		t.Errorf("PITR off: %v", err)
	}
	time.Sleep(20 * time.Millisecond)
	enablePITR(t, db, src)
	time.Sleep(100 * time.Millisecond)
	if err := restore(before, src+"-b"); apiCode(err) != "InvalidRestoreTimeException" {
		t.Errorf("before PITR was enabled: %v", err)
	}
	if err := restore(time.Now().Add(time.Minute), src+"-c"); apiCode(err) != "InvalidRestoreTimeException" {
		t.Errorf("after the latest restorable time: %v", err)
	}
	if err := restore(time.Now().Add(-60*time.Millisecond), src); apiCode(err) != "TableAlreadyExistsException" {
		t.Errorf("existing target: %v", err)
	}
	if _, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(src + "-b")}); apiCode(err) != "ResourceNotFoundException" {
		t.Errorf("a refused restore left a table: %v", err)
	}
}

// TestRestoreFromBackup: a backup holds the items as of its creation and
// outlives its table.
func TestRestoreFromBackup(t *testing.T) {
	ctx := context.Background()
	_, db, km := restoreClient(t)
	src := "restore-backup-" + fmt.Sprint(time.Now().UnixNano())
	keyArn := restoreSource(t, db, km, src, false)
	if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(src), Item: item("a", "1")}); err != nil {
		t.Fatal(err)
	}
	bk, err := db.CreateBackup(ctx, &dynamodb.CreateBackupInput{TableName: aws.String(src), BackupName: aws.String("b1")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(src), Item: item("b", "1")}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.RestoreTableFromBackup(ctx, &dynamodb.RestoreTableFromBackupInput{
		BackupArn: bk.BackupDetails.BackupArn, TargetTableName: aws.String(src + "-fromb")}); err != nil {
		t.Fatal(err)
	}
	d := waitActive(t, db, src+"-fromb")
	if got := contents(t, db, src+"-fromb"); fmt.Sprint(got) != "[a=1]" {
		t.Errorf("restored from the backup: %v", got)
	}
	if d.SSEDescription == nil || aws.ToString(d.SSEDescription.KMSMasterKeyArn) != keyArn {
		t.Errorf("SSE %+v", d.SSEDescription)
	}
	if _, err := db.DescribeBackup(ctx, &dynamodb.DescribeBackupInput{BackupArn: bk.BackupDetails.BackupArn}); err != nil {
		t.Error(err)
	}
	if _, err := db.DeleteBackup(ctx, &dynamodb.DeleteBackupInput{BackupArn: bk.BackupDetails.BackupArn}); err != nil {
		t.Error(err)
	}
	if _, err := db.RestoreTableFromBackup(ctx, &dynamodb.RestoreTableFromBackupInput{
		BackupArn: bk.BackupDetails.BackupArn, TargetTableName: aws.String(src + "-gone")}); apiCode(err) != "BackupNotFoundException" {
		t.Errorf("restore from a deleted backup: %v", err)
	}
}
