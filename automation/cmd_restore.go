package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mirror-dissonance/mirror-infra/internal/recovery"
	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/spec"
)

var restoreLong = `A point-in-time restore of one table (SPEC 3.5), always into a new table:
<table>-restore-<UTC time> unless --into names it, encrypted with the
environment key. DynamoDB keeps keys, indexes and billing and drops TTL,
PITR, deletion protection, tags and alarms; restore re-applies TTL,
deletion protection and tags naming the source and the restore point (and
PITR with --keep). The wait for ACTIVE shows a line per look (elapsed
time, table status) and is bounded by --timeout: a restore still CREATING
then is exit 3 (DynamoDB cannot delete it before it is ACTIVE; "drill
<stack> --sweep" removes it later).

Then a diff with the live table, by key: items only in the restored table,
only in the live one, and different (with the names of the attributes that
differ, never values), reading at most --read-budget items of each table.

--copy-back copies items into the live table: the keys named by --item, or
every item only in the restored table. Without --approve it prints the
fingerprint of that choice; with --approve exactly it, each item is
written with a condition that it is still missing, so an item changed since
the restore point is reported conflicting and never overwritten. Nothing is
ever deleted from the live table. --into naming an existing restore uses
it (a copy-back after reviewing its diff); --to is then not needed.

--to is an RFC 3339 time (2026-11-26T10:00:00Z) or latest. A time outside
the restorable window (before PITR was on, after the latest restorable
time, about five minutes behind now) is refused with the window (exit 1).

Targets: from the stack's outputs, or with --from-env from the SPEC naming
plus MD_* overrides (as verify).

Exit: 0 restored (and copied), 1 refused, not approved or a conflict-free
copy not possible, 2 bad usage or configuration, 3 AWS failing or the
restore not ACTIVE in time.`

type restoreOptions struct {
	common
	target     targetFlags
	table      string
	to         string
	into       string
	keep       bool
	readBudget int
	copyBack   bool
	items      listFlag
	approve    string
}

// restoreSpec: --timeout bounds the wait for ACTIVE; re-applying the
// settings, the diff and the copy-back get restoreExtra more.
var restoreSpec = commandSpec{use: "restore <stack> --table T", short: "PITR restore of one table into a new table, a diff with the live table, --copy-back with approval", long: restoreLong,
	timeout: recovery.DefaultTimeout, bounds: "the wait for the restored table to become ACTIVE", extra: restoreExtra}

// restoreExtra is the time past --timeout for what follows the wait.
const restoreExtra = 15 * time.Minute

func (o *restoreOptions) flags(c *cobra.Command, _ environ) {
	o.target.add(c)
	c.Flags().StringVar(&o.table, "table", "", "the `TABLE` to restore: "+strings.Join(spec.TableSuffixes, ", "))
	c.Flags().StringVar(&o.to, "to", "", "the restore point: an RFC 3339 `TIME` or latest (not needed when --into names an existing restore)")
	c.Flags().StringVar(&o.into, "into", "", "the new table's `NAME` (default <table>-restore-<UTC time>); an existing restore of the table is used as it is")
	c.Flags().BoolVar(&o.keep, "keep", false, "turn PITR on for the restored table (it is to be kept)")
	c.Flags().IntVar(&o.readBudget, "read-budget", recovery.DefaultReadBudget, "read at most `N` items of each table for the diff")
	c.Flags().BoolVar(&o.copyBack, "copy-back", false, "copy the chosen items into the live table (needs --approve)")
	c.Flags().Var(&o.items, "item", "with --copy-back: the `KEY` of an item to copy, as the diff prints it (repeated; default every item only in the restored table)")
	c.Flags().StringVar(&o.approve, "approve", "", "approve exactly the copy-back with this `FINGERPRINT` (printed by a --copy-back run without it)")
	_ = c.RegisterFlagCompletionFunc("table", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return spec.TableSuffixes, cobra.ShellCompDirectiveNoFileComp
	})
}

func (o *restoreOptions) run(ctx context.Context, a *app, c *cobra.Command, stack string) (*report.Report, error) {
	ro, err := o.options()
	if err != nil {
		return nil, err
	}
	run, err := a.openOracle(ctx, c, stack, o.target, nil)
	if err != nil {
		return nil, err
	}
	tgt, awsCfg := run.tgt, run.aws
	ro.Progress = restoreProgress(progressTo(a.io.err))
	r, _, err := recovery.Restore(ctx, awsCfg, tgt, ro)
	return recoveryReport(r, stack, err)
}

// options checks the flags (bad usage before any cloud call) and turns
// them into the library's options.
func (o *restoreOptions) options() (recovery.RestoreOptions, error) {
	ro := recovery.RestoreOptions{Table: o.table, Into: o.into, Keep: o.keep, ReadBudget: o.readBudget,
		CopyBack: o.copyBack, CopyKeys: o.items, Approve: o.approve, Timeout: o.timeout}
	if _, ok := spec.Schema(o.table); !ok {
		return ro, syntaxErrorf("--table %s: want one of %s", report.Quote(o.table), strings.Join(spec.TableSuffixes, ", "))
	}
	switch {
	case o.to == "" && o.into == "":
		return ro, syntaxErrorf("--to is required (an RFC 3339 time or latest), unless --into names an existing restore")
	case o.to == "":
		// Only an existing restore of the live table will do.
		ro.Existing = true
	case o.to == "latest":
	default:
		t, err := time.Parse(time.RFC3339Nano, o.to)
		if err != nil {
			return ro, syntaxErrorf("--to %s: want an RFC 3339 time such as 2026-11-26T10:00:00Z, or latest", report.Quote(o.to))
		}
		ro.To = t
	}
	if o.readBudget <= 0 {
		return ro, syntaxErrorf("--read-budget %d: must be positive", o.readBudget)
	}
	if !o.copyBack && (len(o.items) > 0 || o.approve != "") {
		return ro, syntaxErrorf("--item and --approve choose and approve a copy-back: add --copy-back")
	}
	if o.into != "" && !strings.Contains(o.into, "-restore-") && !strings.Contains(o.into, "-drill-") {
		return ro, syntaxErrorf("--into %s: a restore's name contains -restore- (the drill role restores only into -restore- and -drill- names)", report.Quote(o.into))
	}
	return ro, nil
}

// restoreProgress writes a line per look at a restore: its table, status
// and elapsed time.
func restoreProgress(w io.Writer) func(recovery.Progress) {
	return func(p recovery.Progress) {
		fmt.Fprintf(w, "restore %s: %s after %s\n", report.Terminal(p.Table), report.Terminal(p.Status), p.Elapsed.Round(time.Second))
	}
}

// recoveryReport is a recovery run's outcome as a command's: a refusal
// before any step (an unknown table, a target without one) is bad usage;
// otherwise the report holds the verdict and its exit code.
func recoveryReport(r *report.Report, stack string, err error) (*report.Report, error) {
	if r == nil || len(r.Checks) == 0 {
		if err != nil {
			return nil, asUsage(err)
		}
		return r, nil
	}
	r.Stack = stack
	if r.Elapsed == "" && !r.Started.IsZero() {
		r.Elapsed = time.Since(r.Started).Round(time.Millisecond).String()
	}
	return r, nil
}
