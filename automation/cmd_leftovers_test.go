package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/mirror-dissonance/mirror-infra/emulator"
	"github.com/mirror-dissonance/mirror-infra/internal/recovery"
	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/spec"
)

// TestLeftoversListsWhatARunLeft: a seeded acceptance environment is all
// still there (exit 1, one FAIL per resource, each named); --purge-nonce
// removes the nonce versions first. A stack that is not acc-<run> is bad
// usage before any AWS call.
func TestLeftoversListsWhatARunLeft(t *testing.T) {
	e := emulator.Start()
	t.Cleanup(e.Close)
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	stack := "acc-" + hex.EncodeToString(b)
	s, err := e.Seed(context.Background(), emulator.SeedOptions{Env: stack, SkipOIDCProvider: true})
	if err != nil {
		t.Fatal(err)
	}
	verifyAWSEnv(t, e, s)
	// What a drill killed after its restore left: a scratch table restored
	// from the consent table, and its marker.
	e.SetRestoreTiming(50*time.Millisecond, 10*time.Millisecond)
	scratch := recovery.DrillName(s.Names.Table(spec.TableConsent), "killed1")
	db := dynamodb.NewFromConfig(s.Config)
	time.Sleep(20 * time.Millisecond)
	if _, err := db.RestoreTableToPointInTime(context.Background(), &dynamodb.RestoreTableToPointInTimeInput{
		SourceTableName: aws.String(s.Names.Table(spec.TableConsent)), TargetTableName: aws.String(scratch), UseLatestRestorableTime: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, content := range map[string]string{
		"Pulumi.yaml":               "name: mirror-dissonance\nruntime: go\n",
		"Pulumi." + stack + ".yaml": "config:\n  mirror-dissonance:ephemeral: \"true\"\n  mirror-dissonance:githubRepository: mirror-dissonance/mirror-infra\n  mirror-dissonance:oracleSubjects: [\"repo:mirror-dissonance/oracle:ref:refs/heads/main\"]\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	code, stdout, stderr := cliRun(t, "leftovers", stack, "--project-dir", dir, "--json", "--purge-nonce")
	if code != report.ExitFailed {
		t.Fatalf("exit %d, want 1 (everything is still there)\n%s", code, stderr)
	}
	var r report.Report
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("not a JSON report: %v", err)
	}
	kinds, seen := map[string]int{}, map[string]bool{}
	for _, c := range r.Checks {
		if strings.HasPrefix(c.ID, "leftovers:") && c.Status == report.Fail {
			if seen[c.ID] {
				t.Errorf("two leftovers rows with the id %s", c.ID)
			}
			seen[c.ID] = true
			kinds[c.Details["kind"]]++
			if !strings.Contains(c.Reason, stack) && !strings.Contains(c.Reason, "mirror-dissonance") {
				t.Errorf("reason %q does not name the resource", c.Reason)
			}
		}
	}
	if kinds["table"] != 3 || kinds["alarm"] != 6 || kinds["s3-bucket"] != 1 || kinds["ssm-parameter"] != 0 || kinds["drill-table"] != 1 {
		t.Errorf("leftovers by kind %v; want 3 tables, 6 alarms, the bucket, no nonce (purged) and the drill's scratch table", kinds)
	}
	if c, ok := r.Find("leftovers:drill-table:" + scratch); !ok || !strings.Contains(c.Reason, "run killed1") || !strings.Contains(c.Fix, "drill "+stack+" --sweep") {
		t.Errorf("the drill's scratch table: %+v, want it named with its run and the sweep", c)
	}
	if c, ok := r.Find("leftovers.nonce"); !ok || c.Status != report.Pass || !strings.Contains(c.Reason, "deleted 1") {
		t.Errorf("nonce purge check %+v", c)
	}

	for _, bad := range []string{"staging", "production", "acc_1"} {
		if code, _, stderr := cliRun(t, "leftovers", bad, "--project-dir", dir); code != report.ExitUsage || !strings.Contains(stderr, "acc-<run>") {
			t.Errorf("leftovers %s: exit %d, stderr %q; want 2 naming acc-<run>", bad, code, stderr)
		}
	}
}
