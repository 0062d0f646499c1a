package rehearse

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/mirror-dissonance/mirror-infra/internal/provider"
)

// readTable reads what the provider's resourceTableRead reads: the table,
// its continuous backups, TTL and tags.
func (p *Provisioner) readTable(ctx context.Context, name string, state map[string]any) (map[string]any, error) {
	d, err := p.ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	if err != nil {
		return nil, err
	}
	t := d.Table
	if t.TableStatus == ddbtypes.TableStatusDeleting {
		return nil, provider.ErrNotFound
	}
	out := map[string]any{"name": aws.ToString(t.TableName), "arn": aws.ToString(t.TableArn)}
	out["billingMode"] = string(ddbtypes.BillingModeProvisioned)
	if t.BillingModeSummary != nil {
		out["billingMode"] = string(t.BillingModeSummary.BillingMode)
	}
	for _, k := range t.KeySchema {
		if k.KeyType == ddbtypes.KeyTypeHash {
			out["hashKey"] = aws.ToString(k.AttributeName)
		} else {
			out["rangeKey"] = aws.ToString(k.AttributeName)
		}
	}
	var attrs []any
	for _, a := range t.AttributeDefinitions {
		attrs = append(attrs, map[string]any{"name": aws.ToString(a.AttributeName), "type": string(a.AttributeType)})
	}
	out["attributes"] = sameSet(state["attributes"], attrs)
	var gsis []any
	for _, g := range t.GlobalSecondaryIndexes {
		m := map[string]any{"name": aws.ToString(g.IndexName)}
		for _, k := range g.KeySchema {
			if k.KeyType == ddbtypes.KeyTypeHash {
				m["hashKey"] = aws.ToString(k.AttributeName)
			} else {
				m["rangeKey"] = aws.ToString(k.AttributeName)
			}
		}
		if g.Projection != nil {
			m["projectionType"] = string(g.Projection.ProjectionType)
		}
		gsis = append(gsis, m)
	}
	if len(gsis) > 0 || state["globalSecondaryIndexes"] != nil {
		out["globalSecondaryIndexes"] = sameSet(state["globalSecondaryIndexes"], gsis)
	}
	sse := map[string]any{"enabled": false}
	if t.SSEDescription != nil && t.SSEDescription.Status == ddbtypes.SSEStatusEnabled {
		sse = map[string]any{"enabled": true, "kmsKeyArn": aws.ToString(t.SSEDescription.KMSMasterKeyArn)}
	}
	out["serverSideEncryption"] = sse
	out["deletionProtectionEnabled"] = aws.ToBool(t.DeletionProtectionEnabled)
	out["streamEnabled"] = t.StreamSpecification != nil && aws.ToBool(t.StreamSpecification.StreamEnabled)

	cb, err := p.ddb.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String(name)})
	if err != nil {
		return nil, fmt.Errorf("reading the continuous backups of %s: %w", name, err)
	}
	pitr := false
	if d := cb.ContinuousBackupsDescription; d != nil && d.PointInTimeRecoveryDescription != nil {
		pitr = d.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus == ddbtypes.PointInTimeRecoveryStatusEnabled
	}
	out["pointInTimeRecovery"] = map[string]any{"enabled": pitr}

	ttl, err := p.ddb.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)})
	if err != nil {
		return nil, fmt.Errorf("reading the TTL of %s: %w", name, err)
	}
	if d := ttl.TimeToLiveDescription; d != nil && d.TimeToLiveStatus == ddbtypes.TimeToLiveStatusEnabled {
		out["ttl"] = map[string]any{"enabled": true, "attributeName": aws.ToString(d.AttributeName)}
	} else if old := obj(state["ttl"]); old != nil {
		out["ttl"] = map[string]any{"enabled": false, "attributeName": old["attributeName"]}
	}

	tags, err := p.ddb.ListTagsOfResource(ctx, &dynamodb.ListTagsOfResourceInput{ResourceArn: t.TableArn})
	if err != nil {
		return nil, fmt.Errorf("reading the tags of %s: %w", name, err)
	}
	out["tags"] = anyTags(tags.Tags, func(t ddbtypes.Tag) (*string, *string) { return t.Key, t.Value })
	return out, nil
}

// updateTable applies what UpdateTable, UpdateContinuousBackups,
// UpdateTimeToLive and the tag calls can change.
func (p *Provisioner) updateTable(ctx context.Context, name string, old, new map[string]any, changed []string) ([]string, error) {
	upd := &dynamodb.UpdateTableInput{TableName: aws.String(name)}
	needUpdate := false
	for _, k := range changed {
		switch k {
		case "deletionProtectionEnabled":
			upd.DeletionProtectionEnabled, needUpdate = aws.Bool(new[k] == true), true
		case "billingMode":
			upd.BillingMode, needUpdate = ddbtypes.BillingMode(str(new[k])), true
		case "serverSideEncryption":
			sse := obj(new[k])
			s := &ddbtypes.SSESpecification{Enabled: aws.Bool(sse["enabled"] == true)}
			if k := str(sse["kmsKeyArn"]); sse["enabled"] == true && k != "" {
				s.SSEType, s.KMSMasterKeyId = ddbtypes.SSETypeKms, aws.String(k)
			}
			upd.SSESpecification, needUpdate = s, true
		case "streamEnabled":
			upd.StreamSpecification, needUpdate = &ddbtypes.StreamSpecification{StreamEnabled: aws.Bool(new[k] == true)}, true
		}
	}
	if needUpdate {
		if _, err := p.ddb.UpdateTable(ctx, upd); err != nil {
			return nil, err
		}
		if err := p.waitTableActive(ctx, name); err != nil {
			return nil, err
		}
	}
	for _, k := range changed {
		switch k {
		case "pointInTimeRecovery":
			on := obj(new[k])["enabled"] == true
			if _, err := p.ddb.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{TableName: aws.String(name),
				PointInTimeRecoverySpecification: &ddbtypes.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(on)}}); err != nil {
				return nil, err
			}
			if err := p.waitPITR(ctx, name, on); err != nil {
				return nil, err
			}
		case "ttl":
			t := obj(new[k])
			attr := str(t["attributeName"])
			if attr == "" {
				attr = str(obj(old[k])["attributeName"])
			}
			if _, err := p.ddb.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String(name),
				TimeToLiveSpecification: &ddbtypes.TimeToLiveSpecification{Enabled: aws.Bool(t["enabled"] == true), AttributeName: aws.String(attr)}}); err != nil {
				return nil, err
			}
		case "tags":
			arn := str(old["arn"])
			set, remove := tagChanges(old, new)
			if len(set) > 0 {
				if _, err := p.ddb.TagResource(ctx, &dynamodb.TagResourceInput{ResourceArn: aws.String(arn), Tags: ddbTags(set)}); err != nil {
					return nil, err
				}
			}
			if len(remove) > 0 {
				if _, err := p.ddb.UntagResource(ctx, &dynamodb.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: remove}); err != nil {
					return nil, err
				}
			}
		}
	}
	return unchanged(changed, "deletionProtectionEnabled", "billingMode", "serverSideEncryption", "streamEnabled", "pointInTimeRecovery", "ttl", "tags"), nil
}

// waitTableActive waits, as the provider does after CreateTable and
// UpdateTable, for the table to be ACTIVE.
func (p *Provisioner) waitTableActive(ctx context.Context, name string) error {
	return waitFor(ctx, "table "+name+" to be ACTIVE", func(ctx context.Context) (bool, error) {
		d, err := p.ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		if err != nil {
			return false, err
		}
		return d.Table.TableStatus == ddbtypes.TableStatusActive, nil
	})
}

// waitTableGone waits for a deleted table to disappear.
func (p *Provisioner) waitTableGone(ctx context.Context, name string) error {
	return waitFor(ctx, "table "+name+" to be deleted", func(ctx context.Context) (bool, error) {
		_, err := p.ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		if isNotFound(err) {
			return true, nil
		}
		return false, err
	})
}

// waitPITR waits for point-in-time recovery to reach the wanted status.
func (p *Provisioner) waitPITR(ctx context.Context, name string, on bool) error {
	return waitFor(ctx, fmt.Sprintf("PITR of %s to be %v", name, on), func(ctx context.Context) (bool, error) {
		cb, err := p.ddb.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String(name)})
		if err != nil {
			return false, err
		}
		d := cb.ContinuousBackupsDescription
		got := d != nil && d.PointInTimeRecoveryDescription != nil &&
			d.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus == ddbtypes.PointInTimeRecoveryStatusEnabled
		return got == on, nil
	})
}

// sameSet returns recorded when read holds the same elements in another
// order (the provider keeps attributes and indexes as sets), else read.
func sameSet(recorded any, read []any) any {
	rec, _ := recorded.([]any)
	if len(rec) != len(read) {
		return read
	}
	used := make([]bool, len(read))
	for _, r := range rec {
		found := false
		for i, x := range read {
			if !used[i] && provider.Equal(r, x) {
				used[i], found = true, true
				break
			}
		}
		if !found {
			return read
		}
	}
	return rec
}
