package main

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/mirror-dissonance/mirror-infra/emulator"
	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/spec"
)

// TestDrillStagingAgainstSeededEmulator is issue 25's "drill staging
// --json against md-emulator passes with figures for each table", in
// process, with the emulator's default restore timing (md-emulator's);
// then a sweep finds nothing left.
func TestDrillStagingAgainstSeededEmulator(t *testing.T) {
	env := emulator.NewTestEnv(t, emulator.SeedOptions{Env: "staging", SkipOIDCProvider: true})
	verifyAWSEnv(t, env.Emulator, env.Seeded)
	dir := verifyProject(t, "staging")

	start := time.Now()
	code, stdout, stderr := cliRun(t, "drill", "staging", "--from-env", "--json", "--project-dir", dir)
	elapsed := time.Since(start)
	if code != report.ExitOK {
		t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	var r report.Report
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("stdout is not a JSON report: %v\n%s", err, stdout)
	}
	if r.Command != "drill" || r.Stack != "staging" {
		t.Errorf("report of %q %q, want drill staging", r.Command, r.Stack)
	}
	for _, table := range spec.TableSuffixes {
		c, ok := r.Find("drill:" + table)
		if !ok || c.Status != report.Pass {
			t.Errorf("drill:%s = %+v, want PASS", table, c)
			continue
		}
		for _, k := range []string{"recoveryTimeSeconds", "recoveryPointSeconds", "restorableLagSeconds", "toActiveSeconds"} {
			v, err := strconv.ParseFloat(c.Details[k], 64)
			if err != nil || v < 0 {
				t.Errorf("drill:%s %s = %q, want a figure", table, k, c.Details[k])
			}
		}
		// The stack config's defaults (60 and 15 minutes).
		if c.Details["restoreTimeTargetSeconds"] != "3600.000" || c.Details["recoveryPointTargetSeconds"] != "900.000" {
			t.Errorf("drill:%s targets %s/%s, want the config defaults 3600/900 s", table,
				c.Details["restoreTimeTargetSeconds"], c.Details["recoveryPointTargetSeconds"])
		}
		t.Logf("%s: recovery time %ss, recovery point %ss, lag %ss", table, c.Details["recoveryTimeSeconds"], c.Details["recoveryPointSeconds"], c.Details["restorableLagSeconds"])
	}
	// A line per look at each restore, on stderr.
	if !strings.Contains(stderr, "restore "+env.Names.Table(spec.TableConsent)+"-drill-") || !strings.Contains(stderr, "ACTIVE") {
		t.Errorf("no progress lines on stderr:\n%s", stderr)
	}
	t.Logf("drill staging (3 tables, emulator defaults: restore %s, lag %s): %s", emulator.DefaultRestoreDuration, emulator.DefaultRestorableLag, elapsed.Round(time.Millisecond))

	code, stdout, stderr = cliRun(t, "drill", "staging", "--from-env", "--sweep", "--json", "--project-dir", dir)
	if code != report.ExitOK {
		t.Fatalf("sweep: exit %d\n%s", code, stderr)
	}
	var sw report.Report
	if err := json.Unmarshal([]byte(stdout), &sw); err != nil {
		t.Fatal(err)
	}
	if c, ok := sw.Find("sweep"); !ok || c.Status != report.Pass || !strings.Contains(c.Reason, "nothing left") {
		t.Errorf("sweep after a finished drill: %+v, want nothing left", c)
	}
}

// TestRestoreCommand: a restore to the latest time makes the new table
// and reports the diff (an item written since is only in the live table),
// a copy-back without approval prints the fingerprint and changes nothing,
// and bad forms are exit 2 before any call.
func TestRestoreCommand(t *testing.T) {
	env := emulator.NewTestEnv(t, emulator.SeedOptions{Env: "production", SkipOIDCProvider: true})
	env.Emulator.SetRestoreTiming(200*time.Millisecond, 50*time.Millisecond)
	verifyAWSEnv(t, env.Emulator, env.Seeded)
	dir := verifyProject(t, "production")
	for _, bad := range [][]string{
		{"--table", "events", "--to", "latest"},
		{"--table", "consent", "--to", "yesterday"},
		{"--table", "consent"},
		{"--table", "consent", "--to", "latest", "--approve", "sha256:x"},
		{"--table", "consent", "--into", "mirror-dissonance-production-consent"},
	} {
		args := append([]string{"restore", "production", "--from-env", "--project-dir", dir}, bad...)
		if code, _, stderr := cliRun(t, args...); code != report.ExitUsage {
			t.Errorf("%v: exit %d, want 2\n%s", bad, code, stderr)
		}
	}

	live := env.Names.Table(spec.TableConsent)
	time.Sleep(100 * time.Millisecond) // past the restorable lag of the seeded items
	code, stdout, stderr := cliRun(t, "restore", "production", "--from-env", "--project-dir", dir, "--json", "--table", spec.TableConsent, "--to", "latest")
	if code != report.ExitOK {
		t.Fatalf("restore: exit %d\n%s\n%s", code, stdout, stderr)
	}
	var r report.Report
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatal(err)
	}
	rc, _ := r.Find("restore")
	restored := rc.Details["table"]
	if rc.Status != report.Pass || !strings.HasPrefix(restored, live+"-restore-") {
		t.Fatalf("restore check %+v, want PASS into %s-restore-*", rc, live)
	}
	db := dynamodb.NewFromConfig(env.Config)
	ctx := context.Background()
	if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(live), Item: map[string]types.AttributeValue{
		spec.AttrOrgID: &types.AttributeValueMemberS{Value: "written-after-the-restore"}}}); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = cliRun(t, "restore", "production", "--from-env", "--project-dir", dir, "--json", "--table", spec.TableConsent, "--into", restored, "--copy-back")
	if code != report.ExitFailed {
		t.Fatalf("copy-back without approval: exit %d, want 1\n%s", code, stderr)
	}
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatal(err)
	}
	if d, _ := r.Find("diff"); !strings.Contains(d.Details["onlyLive"], "written-after-the-restore") {
		t.Errorf("diff %+v does not list the item written since as only in the live table", d)
	}
	if c, _ := r.Find("copy-back"); c.Status != report.Fail || !strings.Contains(c.Fix, "--approve sha256:") || r.Fingerprint == "" {
		t.Errorf("copy-back check %+v (fingerprint %q), want FAIL naming the fingerprint to approve", c, r.Fingerprint)
	}
}
