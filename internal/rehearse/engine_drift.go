package rehearse

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/mirror-dissonance/mirror-infra/internal/driver"
	"github.com/mirror-dissonance/mirror-infra/internal/gate"
	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/spec"
)

// alarmThresholds reads each of the stack's alarms' threshold from AWS.
func (r *engineRun) alarmThresholds(ctx context.Context) (map[string]float64, error) {
	cw := cloudwatch.NewFromConfig(r.awsCfg)
	out := map[string]float64{}
	for _, a := range r.cfg.Names().ThrottleAlarms() {
		d, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{a.Name}})
		if err != nil {
			return nil, err
		}
		if len(d.MetricAlarms) != 1 {
			return nil, fmt.Errorf("alarm %s not found", a.Name)
		}
		out[a.Name] = aws.ToFloat64(d.MetricAlarms[0].Threshold)
	}
	return out, nil
}

// drift makes three changes outside Pulumi with the AWS SDK (PITR off on
// one table, one alarm's threshold, a tag removed from another table),
// expects `drift` to report each with its property, and the deploy's next
// preview and up (no manual refresh) to revert them.
func (r *engineRun) drift(ctx context.Context) report.Check {
	s := r.sub(ScenarioDrift)
	defer r.keep(s)
	names := r.cfg.Names()
	pitrTable, tagTable := names.Table(spec.TableFPEvents), names.Table(spec.TableConsent)
	alarm := names.ThrottleAlarms()[0].Name
	ddb := dynamodb.NewFromConfig(r.awsCfg)
	cw := cloudwatch.NewFromConfig(r.awsCfg)
	if _, err := ddb.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{TableName: aws.String(pitrTable),
		PointInTimeRecoverySpecification: &ddbtypes.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(false)}}); err != nil {
		return fail("turning PITR off out of band: "+err.Error(), "")
	}
	d, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{alarm}})
	if err != nil || len(d.MetricAlarms) != 1 {
		return fail(fmt.Sprintf("reading alarm %s: %v", alarm, err), "")
	}
	a := d.MetricAlarms[0]
	if _, err := cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: a.AlarmName, AlarmDescription: a.AlarmDescription,
		Namespace: a.Namespace, MetricName: a.MetricName, Statistic: a.Statistic, Period: a.Period, EvaluationPeriods: a.EvaluationPeriods,
		ComparisonOperator: a.ComparisonOperator, Threshold: aws.Float64(99), TreatMissingData: a.TreatMissingData,
		ActionsEnabled: a.ActionsEnabled, AlarmActions: a.AlarmActions, OKActions: a.OKActions, Dimensions: a.Dimensions}); err != nil {
		return fail("changing the threshold out of band: "+err.Error(), "")
	}
	td, err := ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(tagTable)})
	if err != nil {
		return fail("reading table "+tagTable+": "+err.Error(), "")
	}
	if _, err := ddb.UntagResource(ctx, &dynamodb.UntagResourceInput{ResourceArn: td.Table.TableArn, TagKeys: []string{"Purpose"}}); err != nil {
		return fail("removing a tag out of band: "+err.Error(), "")
	}

	dr, err := r.open(ctx)
	if err != nil {
		return fail("opening the stack: "+err.Error(), "")
	}
	found, err := dr.Drift(ctx)
	if err != nil {
		s.rep.Add(driver.ErrorCheck("drift", err))
		return fail("drift: "+err.Error(), "")
	}
	got := map[string][]string{}
	for _, x := range found {
		got[x.Name] = x.Changed
		s.rep.Add(report.Check{ID: "drift", Status: report.Fail, Reason: fmt.Sprintf("%s %s changed outside Pulumi: %s", x.Type, x.Name, strings.Join(x.Changed, ", "))})
	}
	want := map[string]string{spec.TableFPEvents: "pointInTimeRecovery", spec.TableConsent: "tags", names.ThrottleAlarms()[0].Table + "-" + names.ThrottleAlarms()[0].Op + "-throttle": "threshold"}
	var missed []string
	for name, prop := range want {
		if !slices.Contains(got[name], prop) {
			missed = append(missed, name+"."+prop)
		}
	}
	var extra []string
	for _, name := range slices.Sorted(maps.Keys(got)) {
		if _, ok := want[name]; !ok {
			extra = append(extra, name+" ("+strings.Join(got[name], ", ")+")")
		}
	}
	if len(missed) > 0 || len(extra) > 0 {
		return fail(fmt.Sprintf("drift missed %s; reported besides: %s", strings.Join(missed, ", "), strings.Join(extra, ", ")), "")
	}
	// The deploy path (the driver's preview and up, both with refresh)
	// must plan the reverts, and up with that plan must apply them.
	p, applied, ok := r.previewApproveUp(ctx, dr, s)
	if !ok || p == nil {
		return fail("the converging cycle stopped: "+strings.Join(s.failed(), "; "), "")
	}
	var changed []string
	for _, c := range p.Changes {
		changed = append(changed, fmt.Sprintf("%s %s", c.Op, c.Name))
	}
	sort.Strings(changed)
	r.postDeploy(ctx, applied.Outputs, s)
	again, err := dr.Drift(ctx)
	if err != nil {
		return fail("drift after converging: "+err.Error(), "")
	}
	if len(again) > 0 {
		return fail(fmt.Sprintf("still drifted after the converging up: %v", again), "")
	}
	// The drift findings above were the scenario's expected result.
	for i := range s.rep.Checks {
		if s.rep.Checks[i].ID == "drift" {
			s.rep.Checks[i].Status = report.Pass
			s.rep.Checks[i].Reason = "found as expected: " + s.rep.Checks[i].Reason
		}
	}
	if f := s.failed(); len(f) > 0 {
		return fail("after converging: "+strings.Join(f, "; "), "")
	}
	planned := map[string][]string{}
	for _, c := range p.Changes {
		if c.Op != gate.OpUpdate {
			return fail(fmt.Sprintf("reverting the drift planned %s of %s, not an in-place update", c.Op, c.Name), "")
		}
		planned[c.Name] = c.Diffs
	}
	var unplanned []string
	for name, prop := range want {
		if !slices.ContainsFunc(planned[name], func(d string) bool {
			return d == prop || strings.HasPrefix(d, prop+".") || strings.HasPrefix(d, prop+"[")
		}) {
			unplanned = append(unplanned, name+"."+prop)
		}
	}
	if len(unplanned) > 0 || len(planned) != len(want) {
		return fail(fmt.Sprintf("the deploy's preview did not plan exactly the reverts: missing %s; planned %s", strings.Join(unplanned, ", "), strings.Join(changed, ", ")),
			"the driver's preview and up must refresh")
	}
	return report.Check{Status: report.Pass, Reason: fmt.Sprintf("drift reported PITR off on %s (pointInTimeRecovery), the threshold of %s and the removed tag of %s; the deploy's own preview (with refresh, saved plan) planned exactly their reverts in place (%s), up with that plan (with refresh) applied them, and a second drift found nothing",
		pitrTable, alarm, tagTable, strings.Join(changed, ", "))}
}

// callsCheck compares the AWS calls the stand-in made per type and
// operation with spec.ProviderResources.
func (r *engineRun) callsCheck() report.Check {
	calls := r.calls.Snapshot()
	missing := MissingFromSpec(calls)
	c := report.Check{ID: "engine:calls", Status: report.Pass, Reason: "every AWS call the stand-in made is in spec's provider operation tables"}
	if admin := adminCalls(calls); len(admin) > 0 {
		c.Reason += "; made by the rehearsal's admin run and denied to the deploy role on purpose: " + strings.Join(admin, ", ")
	}
	if len(missing) > 0 {
		// A call the tables lack is one the roles' evidence does not
		// grant: on a real account it would be AccessDenied mid-up.
		c.Status = report.Fail
		c.Reason = "calls the spec's provider tables lack: " + strings.Join(missing, "; ")
		c.Fix = "add them to spec.ProviderResources or spec.ProviderInvokes (the deploy and preview roles' evidence) if the real provider makes them too"
	}
	return c
}

// adminCalls are the recorded calls spec marks AdminOnly.
func adminCalls(calls map[string]map[string][]string) []string {
	var out []string
	for _, pr := range spec.ProviderResources {
		for _, op := range slices.Sorted(maps.Keys(calls[pr.Type])) {
			for _, a := range calls[pr.Type][op] {
				if slices.Contains(pr.AdminOnly, a) && !slices.Contains(out, a) {
					out = append(out, a)
				}
			}
		}
	}
	return out
}

// MissingFromSpec lists, per "type op", the recorded calls that
// spec.ProviderResources (or spec.ProviderInvokes) does not list for that type (any operation of
// the type counts: the spec lists Create/Update/Delete beyond Read).
func MissingFromSpec(calls map[string]map[string][]string) []string {
	table := map[string][]string{}
	for _, pr := range spec.ProviderResources {
		table[pr.Type] = slices.Concat(pr.Read, pr.Create, pr.Update, pr.Delete, pr.AdminOnly)
	}
	for _, inv := range spec.ProviderInvokes {
		table[inv.Token] = inv.Calls
	}
	var out []string
	for _, typ := range slices.Sorted(maps.Keys(calls)) {
		known, isType := table[typ]
		for _, op := range slices.Sorted(maps.Keys(calls[typ])) {
			var lack []string
			for _, a := range calls[typ][op] {
				if !isType || !slices.Contains(known, a) {
					lack = append(lack, a)
				}
			}
			if len(lack) > 0 {
				out = append(out, fmt.Sprintf("%s %s: %s", typ, op, strings.Join(lack, ", ")))
			}
		}
	}
	return out
}
