package driver

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestAKilledCLIsLockIsReleased: a CLI that does not stop within the grace
// period after its interrupt (on GitHub Actions a few seconds, before the
// runner kills the job) is killed, and the driver removes exactly the lock
// that process held on this host; another holder's lock stays.
func TestAKilledCLIsLockIsReleased(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := Settings{ProjectDir: dir, Stack: "dev", ProjectName: "p", BackendURL: "file://" + dir,
		Program: things(nil), PulumiHome: filepath.Join(dir, "home")}
	lockDir := filepath.Join(dir, lockDirs("p", "dev")[0])
	if err := os.MkdirAll(lockDir, 0o755); err != nil {
		t.Fatal(err)
	}
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	other, _ := json.Marshal(lockContent{Pid: 1, Username: "someone", Hostname: "another-runner", Timestamp: time.Now()})
	if err := os.WriteFile(filepath.Join(lockDir, "other.json"), other, 0o644); err != nil {
		t.Fatal(err)
	}
	// A stand-in CLI that takes the stack's lock under its own pid, then
	// ignores the interrupt, as one stuck in a provider call would.
	script := filepath.Join(dir, "stuck.sh")
	// The trap comes first: the test cancels once the lock exists, and an
	// interrupt before the trap would end the script by itself.
	body := fmt.Sprintf("#!/bin/sh\ntrap '' INT\nprintf '{\"pid\":%%d,\"username\":\"ci\",\"hostname\":\"%s\",\"timestamp\":\"2026-11-27T00:00:00Z\"}' $$ > %s\nsleep 30\n",
		host, filepath.Join(lockDir, "own.json"))
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	killed := make(chan int, 1)
	c := command{path: script, grace: 200 * time.Millisecond, afterKill: func(pid int) {
		releaseLocksOf(s)(pid)
		killed <- pid
	}}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		// Cancel once the stuck CLI holds its lock.
		for start := time.Now(); time.Since(start) < 10*time.Second; time.Sleep(20 * time.Millisecond) {
			if _, err := os.Stat(filepath.Join(lockDir, "own.json")); err == nil {
				break
			}
		}
		cancel()
	}()
	start := time.Now()
	_, _, _, runErr := c.Run(ctx, dir, nil, nil, nil, nil)
	if runErr == nil {
		t.Fatal("the cancelled CLI reported success")
	}
	select {
	case <-killed:
	default:
		t.Fatal("the stuck CLI was not killed after the grace period")
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the cancel took %s; the grace was 200ms", d)
	}
	if _, err := os.Stat(filepath.Join(lockDir, "own.json")); !os.IsNotExist(err) {
		t.Errorf("the killed CLI's own lock is still there (stat: %v)", err)
	}
	if _, err := os.Stat(filepath.Join(lockDir, "other.json")); err != nil {
		t.Errorf("another holder's lock was removed: %v", err)
	}
}

func TestCancelGraceOnGitHubActions(t *testing.T) {
	t.Setenv("GITHUB_ACTIONS", "true")
	s := Settings{ProjectDir: t.TempDir(), Stack: "dev", Program: things(nil)}
	if err := s.defaults(); err != nil {
		t.Fatal(err)
	}
	if s.CancelGrace != CICancelGrace || CICancelGrace >= 10*time.Second {
		t.Errorf("grace on GitHub Actions %s; it must end before the runner kills the job (about 10s)", s.CancelGrace)
	}
}
