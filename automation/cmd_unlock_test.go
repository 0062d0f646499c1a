package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/mirror-dissonance/mirror-infra/emulator"
	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/spec"
)

// lockBody is a lock object as the pulumi CLI writes it.
func lockBody(t *testing.T, host string, pid int, since time.Time) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"pid": pid, "username": "ana", "hostname": host, "timestamp": since})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// deadPID is the pid of a process that has exited.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skipf("cannot run true: %v", err)
	}
	return cmd.Process.Pid
}

// livePulumi starts a process named pulumi (a copy of sleep) that runs
// until the test ends: what a running update looks like from outside.
func livePulumi(t *testing.T) int {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("process inspection is Linux-only")
	}
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep binary")
	}
	b, err := os.ReadFile(sleep)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "pulumi")
	if err := os.WriteFile(p, b, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(p, "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd.Process.Pid
}

func TestUnlockFileBackend(t *testing.T) {
	host, _ := os.Hostname()
	since := time.Now().Add(-42 * time.Minute)
	tests := []struct {
		name      string
		host      string
		pid       func(*testing.T) int
		noLock    bool
		yes       bool
		wantExit  int
		wantGone  bool
		wantWords []string
	}{
		{name: "no lock", noLock: true, wantExit: 0, wantWords: []string{"has no lock"}},
		{name: "stale lock shown, not removed without --yes", host: host, pid: deadPID, wantExit: 0,
			wantWords: []string{"held by ana@" + host, "(42m", "no pulumi process of staging runs on this machine", "pass --yes"}},
		{name: "stale lock removed with --yes", host: host, pid: deadPID, yes: true, wantExit: 0, wantGone: true,
			wantWords: []string{"removed 1 stale lock(s) of staging"}},
		{name: "live holder on this machine is refused", host: host, pid: livePulumi, yes: true, wantExit: 1,
			wantWords: []string{"an update of staging is running on this machine", "kill -INT"}},
		{name: "lock from another host warns, removed with --yes", host: "ci-runner-9", pid: func(*testing.T) int { return 4242 }, yes: true, wantExit: 0, wantGone: true,
			wantWords: []string{"taken on ci-runner-9", "this machine cannot see"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := deployProject(t)
			t.Setenv("PULUMI_BACKEND_URL", "")
			lockDir := filepath.Join(dir, ".pulumi-state", ".pulumi", "locks", "organization", spec.Project, "staging")
			lockFile := filepath.Join(lockDir, "0f1e.json")
			if !tc.noLock {
				if err := os.MkdirAll(lockDir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(lockFile, lockBody(t, tc.host, tc.pid(t), since), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			args := []string{"unlock", "staging", "--project-dir", dir}
			if tc.yes {
				args = append(args, "--yes")
			}
			var out, errb bytes.Buffer
			code := run(context.Background(), args, stdio{in: strings.NewReader(""), out: &out, err: &errb})
			if code != tc.wantExit {
				t.Fatalf("exit = %d, want %d\n%s%s", code, tc.wantExit, out.String(), errb.String())
			}
			for _, w := range tc.wantWords {
				if !strings.Contains(out.String(), w) {
					t.Errorf("report does not say %q:\n%s", w, out.String())
				}
			}
			_, err := os.Stat(lockFile)
			if gone := os.IsNotExist(err); !tc.noLock && gone != tc.wantGone {
				t.Errorf("lock removed = %v, want %v", gone, tc.wantGone)
			}
		})
	}
}

// TestUnlockS3Backend reads and removes a lock in an emulated S3 bucket
// under a prefix, as a team's shared backend holds it.
func TestUnlockS3Backend(t *testing.T) {
	e := emulator.Start()
	defer e.Close()
	ctx := context.Background()
	sb, err := e.NewStateBackend(ctx, fmt.Sprintf("unlock-%d", time.Now().UnixNano()), "teams/infra")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("PULUMI_BACKEND_URL", sb.URL)
	for k, v := range sb.Env {
		t.Setenv(k, v)
	}
	cfg, err := e.Config(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c := emulator.NewS3Client(cfg)
	key := sb.Prefix + "/.pulumi/locks/organization/" + spec.Project + "/production/abc.json"
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(sb.Bucket), Key: aws.String(key),
		Body: bytes.NewReader(lockBody(t, "ci-runner-2", 77, time.Now().Add(-3*time.Hour)))}); err != nil {
		t.Fatal(err)
	}
	dir := deployProject(t)
	for _, yes := range []bool{false, true} {
		args := []string{"unlock", "production", "--project-dir", dir, "--json"}
		if yes {
			args = append(args, "--yes")
		}
		var out, errb bytes.Buffer
		if code := run(ctx, args, stdio{in: strings.NewReader(""), out: &out, err: &errb}); code != report.ExitOK {
			t.Fatalf("unlock --yes=%v: exit %d\n%s%s", yes, code, out.String(), errb.String())
		}
		if !strings.Contains(out.String(), "held by ana@ci-runner-2 (pid 77)") || !strings.Contains(out.String(), "3h0m0s ago") {
			t.Errorf("unlock --yes=%v does not show the holder and age:\n%s", yes, out.String())
		}
		_, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(sb.Bucket), Key: aws.String(key)})
		if gone := err != nil; gone != yes {
			t.Errorf("after unlock --yes=%v the lock is gone = %v", yes, gone)
		}
	}
}

func TestUnlockRejectsABadBackendURL(t *testing.T) {
	dir := deployProject(t)
	t.Setenv("PULUMI_BACKEND_URL", "s3://state?pathstyle=true")
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"unlock", "staging", "--project-dir", dir}, stdio{in: strings.NewReader(""), out: &out, err: &errb})
	if code != report.ExitUsage || !strings.Contains(errb.String(), "unknown query parameter(s) pathstyle") {
		t.Fatalf("exit %d, stderr %q; want 2 naming the parameter", code, errb.String())
	}
}
