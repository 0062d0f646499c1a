package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mirror-dissonance/mirror-infra/internal/recovery"
	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/spec"
	"github.com/mirror-dissonance/mirror-infra/stacks/stackconfig"
)

var drillLong = `The restore drill (SPEC 3.5), per table (all three unless --table names
some), the tables at once: write a marker item, wait until the latest
restorable time passes it, restore to a scratch table <table>-drill-<id>
tagged with the run, prove the marker, a sample of items, the keys, index,
billing and key, then delete the scratch table and the marker. Each table
is a check drill:<table> with its figures: the recovery point (restore
point minus the newest write found, and the restorable-time lag) and the
recovery time (request to ACTIVE and verified), held to the stack config's
` + stackconfig.Namespace + ":" + stackconfig.KeyRestoreTimeTarget + ` (default ` + fmt.Sprint(stackconfig.DefaultRestoreTimeTargetMinutes) + `) and
` + stackconfig.Namespace + ":" + stackconfig.KeyRecoveryPointTarget + ` (default ` + fmt.Sprint(stackconfig.DefaultRecoveryPointTargetMinutes) + `), in minutes.

--publish-metrics puts the figures into CloudWatch (` + recovery.MetricsNamespace + `:
RecoveryTimeSeconds, RecoveryPointSeconds, RestorableLagSeconds,
DrillSucceeded by TableName), so an alarm or AWS Config can hold them to a
target. --timeout bounds each wait (restorable time, ACTIVE); the cleanup
gets ` + drillExtra.String() + ` more. A killed drill leaves at most a scratch table and
a marker: --sweep only finds them (by name, restore source and tags) and
removes them; a table still CREATING is listed and removed by the next
sweep. A drill holds a lease it renews while it runs: --sweep keeps what a
running drill made and removes a killed drill's once its lease lapsed
(seconds later). "leftovers" lists them too.

Targets: from the stack's outputs, or with --from-env from the SPEC naming
plus MD_* overrides (as verify).

Exit: 0 every table restored, verified and within the targets (or the
sweep finished), 1 a table failed verification or missed a target, 2 bad
usage or configuration, 3 AWS failing.`

type drillOptions struct {
	common
	target  targetFlags
	tables  []string
	sweep   bool
	publish bool
}

// drillExtra is the time past --timeout for deleting the scratch tables
// and markers.
const drillExtra = 5 * time.Minute

// drillSpec: the default leaves the drill workflow's job (55 minutes, a
// one-hour role session) room to sweep and upload the report.
var drillSpec = commandSpec{use: "drill <stack>", short: "restore drill: each table restored to a scratch table, verified, recovery point and time measured", long: drillLong,
	timeout: 45 * time.Minute, bounds: "each of the drill's waits", extra: drillExtra}

func (o *drillOptions) flags(c *cobra.Command, _ environ) {
	o.target.add(c)
	c.Flags().StringSliceVar(&o.tables, "table", nil, "drill only these `TABLES` ("+strings.Join(spec.TableSuffixes, ", ")+"; repeated or comma-separated)")
	c.Flags().BoolVar(&o.sweep, "sweep", false, "only remove what a killed drill left (scratch tables, markers)")
	c.Flags().BoolVar(&o.publish, "publish-metrics", false, "put the figures into CloudWatch ("+recovery.MetricsNamespace+")")
	_ = c.RegisterFlagCompletionFunc("table", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return spec.TableSuffixes, cobra.ShellCompDirectiveNoFileComp
	})
}

func (o *drillOptions) run(ctx context.Context, a *app, c *cobra.Command, stack string) (*report.Report, error) {
	for _, t := range o.tables {
		if _, ok := spec.Schema(t); !ok {
			return nil, syntaxErrorf("--table %s: want one of %s", report.Quote(t), strings.Join(spec.TableSuffixes, ", "))
		}
	}
	if o.sweep && (len(o.tables) > 0 || o.publish) {
		return nil, syntaxErrorf("--sweep removes what any drill left: it takes no --table or --publish-metrics")
	}
	run, err := a.openOracle(ctx, c, stack, o.target, nil)
	if err != nil {
		return nil, err
	}
	cfg, tgt, awsCfg := run.cfg, run.tgt, run.aws
	if o.sweep {
		r, _, err := recovery.Sweep(ctx, awsCfg, tgt)
		return recoveryReport(r, stack, err)
	}
	r, _, err := recovery.Drill(ctx, awsCfg, tgt, recovery.DrillOptions{
		Tables:              o.tables,
		RestoreTimeTarget:   time.Duration(cfg.RestoreTimeTargetMinutes) * time.Minute,
		RecoveryPointTarget: time.Duration(cfg.RecoveryPointTargetMinutes) * time.Minute,
		Timeout:             o.timeout,
		PublishMetrics:      o.publish,
		Progress:            restoreProgress(progressTo(a.io.err)),
	})
	return recoveryReport(r, stack, err)
}
