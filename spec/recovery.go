package spec

import "strings"

// The restore drill's role (SPEC 3.5): it restores the live tables only
// into scratch names (<table>-drill-* and <table>-restore-*), writes and
// removes only its marker item in a live table, deletes only scratch
// tables, and publishes only to its metrics namespace. DrillJob lists the
// authorisations internal/recovery's Drill and Sweep need; the tests hold
// DrillPolicy to it both ways, as for the other roles.

// Drill facts shared with internal/recovery.
const (
	// DrillMarkerKey is the key value of the drill's marker item.
	DrillMarkerKey = "md-drill-marker"
	// DrillLeaseKeys matches the key of a drill's lease item in the
	// block-counter table (verify/e2e.LeaseKey of the run "drill-<id>";
	// internal/recovery's tests hold the two together).
	DrillLeaseKeys = "e2e-lease:e2e-drill-*"
	// RecoveryMetricsNamespace is where the drill publishes its figures.
	RecoveryMetricsNamespace = "MirrorDissonance/Recovery"
	// Condition keys of the drill statement.
	CondLeadingKeys = "dynamodb:LeadingKeys"
	CondNamespace   = "cloudwatch:namespace"
)

// Scratch table name patterns of a live table.
func drillTables(s Scope) []string {
	var out []string
	for _, t := range s.Names.Tables() {
		out = append(out, s.Account.TableArn(t+"-drill-*"), s.Account.TableArn(t+"-restore-*"))
	}
	return out
}

func liveTables(s Scope) []string {
	var out []string
	for _, t := range s.Names.Tables() {
		out = append(out, s.Account.TableArn(t))
	}
	return out
}

// restoreTargetActions are what RestoreTableToPointInTime is authorised for
// on the new table (the DynamoDB developer guide, "Restoring a table to a
// point in time: IAM policies").
var restoreTargetActions = []string{"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
	"dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:BatchWriteItem"}

// DrillPolicy is the drill role's policy.
func DrillPolicy(s Scope) PolicyDocument {
	marker := map[string]map[string]any{"ForAllValues:StringEquals": {CondLeadingKeys: DrillMarkerKey}}
	return Policy(
		Allow("ReadLiveTables", []string{"dynamodb:DescribeTable", "dynamodb:DescribeContinuousBackups", "dynamodb:GetItem"}, liveTables(s)...),
		Allow("RestoreFromLiveTables", []string{"dynamodb:RestoreTableToPointInTime"}, liveTables(s)...),
		// The marker only: item writes on a live table whose key is the marker's.
		allowIf("MarkerItem", []string{"dynamodb:PutItem", "dynamodb:DeleteItem"}, marker, liveTables(s)...),
		// The drill's lease (taken, renewed, released), and only it, in the block-counter table.
		allowIf("LeaseItem", []string{"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"},
			map[string]map[string]any{"ForAllValues:StringLike": {CondLeadingKeys: DrillLeaseKeys}}, s.Account.TableArn(s.Names.Table(TableBlockCounter))),
		// ListTables has no resource-level scoping in IAM (the sweep lists).
		Allow("ListTables", []string{"dynamodb:ListTables"}, "*"),
		Allow("ScratchTables", append([]string{"dynamodb:DescribeTable", "dynamodb:DeleteTable", "dynamodb:TagResource",
			"dynamodb:ListTagsOfResource", "dynamodb:UpdateTimeToLive"}, restoreTargetActions...), drillTables(s)...),
		// The scratch table is encrypted with the environment key (SSE override).
		allowIf("KeyViaDynamoDB", []string{"kms:CreateGrant", "kms:DescribeKey", "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*"},
			s.viaServices("dynamodb"), s.keys()),
		// PutMetricData has no resource-level scoping; the namespace condition holds it to ours.
		allowIf("PublishFigures", []string{"cloudwatch:PutMetricData"}, map[string]map[string]any{"StringEquals": {CondNamespace: RecoveryMetricsNamespace}}, "*"),
		Statement{Sid: "NeverChangeLiveTables", Effect: "Deny",
			Action:   Strings{"dynamodb:DeleteTable", "dynamodb:UpdateTable", "dynamodb:UpdateContinuousBackups", "dynamodb:UpdateTimeToLive", "dynamodb:UntagResource"},
			Resource: Strings(liveTables(s))},
	)
}

// DrillJob is what Drill and Sweep call, as IAM authorises it.
func DrillJob(s Scope) []Operation {
	const src = "internal/recovery (Drill, Sweep, Leftovers) against a seeded emulator"
	var out []Operation
	add := func(action string, resources []string, ctx map[string]string) {
		for _, r := range resources {
			out = append(out, Operation{Action: action, Resource: r, Context: ctx, Source: src})
		}
	}
	live, scratch := liveTables(s), drillTables(s)
	markerCtx := map[string]string{CondLeadingKeys: DrillMarkerKey}
	for _, a := range []string{"dynamodb:DescribeTable", "dynamodb:DescribeContinuousBackups", "dynamodb:GetItem", "dynamodb:RestoreTableToPointInTime"} {
		add(a, live, nil)
	}
	add("dynamodb:PutItem", live, markerCtx)
	add("dynamodb:DeleteItem", live, markerCtx)
	leaseCtx := map[string]string{CondLeadingKeys: strings.TrimSuffix(DrillLeaseKeys, "*") + "0a1b2c3d:1970-01-01T00:00:00.000Z"}
	for _, a := range []string{"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"} {
		add(a, []string{s.Account.TableArn(s.Names.Table(TableBlockCounter))}, leaseCtx)
	}
	add("dynamodb:ListTables", []string{"*"}, nil)
	var named []string
	for _, p := range scratch {
		named = append(named, p[:len(p)-1]+"0a1b2c3d")
	}
	for _, a := range append([]string{"dynamodb:DescribeTable", "dynamodb:DeleteTable", "dynamodb:TagResource",
		"dynamodb:ListTagsOfResource", "dynamodb:UpdateTimeToLive"}, restoreTargetActions...) {
		add(a, named, nil)
	}
	viaDDB := s.keyContext(CondViaService, s.Account.ServiceEndpoint("dynamodb"))
	for _, a := range []string{"kms:CreateGrant", "kms:DescribeKey", "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKeyWithoutPlaintext"} {
		add(a, []string{s.replacementKey()}, viaDDB)
	}
	add("cloudwatch:PutMetricData", []string{"*"}, map[string]string{CondNamespace: RecoveryMetricsNamespace})
	return out
}
