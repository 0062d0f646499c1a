package emulator

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/smithy-go"
)

func TestDashboards(t *testing.T) {
	_, cfg := startT(t)
	ctx := context.Background()
	cw := cloudwatch.NewFromConfig(cfg)
	body := `{"widgets":[{"type":"text","properties":{"markdown":"x"}}]}`
	if _, err := cw.PutDashboard(ctx, &cloudwatch.PutDashboardInput{DashboardName: aws.String("d"), DashboardBody: aws.String(body)}); err != nil {
		t.Fatal(err)
	}
	got, err := cw.GetDashboard(ctx, &cloudwatch.GetDashboardInput{DashboardName: aws.String("d")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.DashboardBody) != body || aws.ToString(got.DashboardArn) != "arn:aws:cloudwatch::"+AccountID+":dashboard/d" {
		t.Errorf("got %q %q", aws.ToString(got.DashboardBody), aws.ToString(got.DashboardArn))
	}
	if _, err := cw.DeleteDashboards(ctx, &cloudwatch.DeleteDashboardsInput{DashboardNames: []string{"d"}}); err != nil {
		t.Fatal(err)
	}
	_, err = cw.GetDashboard(ctx, &cloudwatch.GetDashboardInput{DashboardName: aws.String("d")})
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "ResourceNotFound" {
		t.Fatalf("after delete: %v, want ResourceNotFound", err)
	}
}
