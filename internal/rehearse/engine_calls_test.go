package rehearse

import (
	"slices"
	"testing"
)

func TestMissingFromSpec(t *testing.T) {
	tests := []struct {
		name  string
		calls map[string]map[string][]string
		want  []string
	}{
		{"listed calls", map[string]map[string][]string{
			"aws:dynamodb/table:Table": {"Read": {"dynamodb:DescribeTable"}, "Create": {"dynamodb:CreateTable"}}}, nil},
		{"a call the table lacks", map[string]map[string][]string{
			"aws:dynamodb/table:Table": {"Update": {"dynamodb:UpdateTable", "dynamodb:DeleteItem"}}},
			[]string{"aws:dynamodb/table:Table Update: dynamodb:DeleteItem"}},
		{"a type the tables lack", map[string]map[string][]string{
			"aws:ec2/getVpc:getVpc": {"Invoke": {"ec2:DescribeVpcs"}}},
			[]string{"aws:ec2/getVpc:getVpc Invoke: ec2:DescribeVpcs"}},
		// Found by the engine rehearsal, missing from the tables before.
		{"the invokes and the admin run's boundary", map[string]map[string][]string{
			"aws:index/getCallerIdentity:getCallerIdentity":             {"Invoke": {"sts:GetCallerIdentity"}},
			"aws:iam/getOpenIdConnectProvider:getOpenIdConnectProvider": {"Invoke": {"iam:ListOpenIDConnectProviders", "iam:GetOpenIDConnectProvider"}},
			"aws:iam/policy:Policy":                                     {"Create": {"iam:CreatePolicy"}, "Delete": {"iam:DeletePolicy"}}}, nil},
		{"an invoke's call it does not make", map[string]map[string][]string{
			"aws:index/getCallerIdentity:getCallerIdentity": {"Invoke": {"iam:ListRoles"}}},
			[]string{"aws:index/getCallerIdentity:getCallerIdentity Invoke: iam:ListRoles"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MissingFromSpec(tt.calls); !slices.Equal(got, tt.want) {
				t.Errorf("MissingFromSpec = %q, want %q", got, tt.want)
			}
		})
	}
}
