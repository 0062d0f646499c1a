package verify

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/spec"
)

// IDPITR is the id of the pitr check.
const IDPITR = "pitr"

func init() {
	register(check{Entry: Entry{ID: IDPITR, Writes: false,
		Summary: "point-in-time recovery is enabled on the three tables (with the restore window)",
		Catches: []string{"pitr-off"}},
		rank: 40, run: (*session).checkPITR})
}

func (s *session) checkPITR(ctx context.Context) report.Check {
	f := newFindings(IDPITR)
	describe := func(name string) (*dynamodb.DescribeContinuousBackupsOutput, error) {
		out, err := s.c.DynamoDB.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String(name)})
		if err == nil && (out == nil || out.ContinuousBackupsDescription == nil) {
			return nil, incomplete("dynamodb:DescribeContinuousBackups of "+name, "a ContinuousBackupsDescription")
		}
		return out, err
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
