package drift_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mirror-dissonance/mirror-infra/emulator"
	"github.com/mirror-dissonance/mirror-infra/oracle/drift"
	"github.com/mirror-dissonance/mirror-infra/oracle/fpevents"
)

var t0 = time.Date(2026, 2, 2, 2, 2, 2, 0, time.UTC)

// tree writes n files f0..f(n-1) under a temporary root.
func tree(t *testing.T, n int) (string, []string) {
	t.Helper()
	root := t.TempDir()
	var paths []string
	for i := range n {
		p := fmt.Sprintf("dir/f%d.txt", i)
		if err := os.MkdirAll(filepath.Join(root, "dir"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, p), []byte(fmt.Sprintf("content %d\n", i)), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	return root, paths
}

func TestCompare(t *testing.T) {
	tests := []struct {
		name    string
		tamper  func(t *testing.T, root string)
		changed int
		drift   bool
	}{
		{"unchanged", func(*testing.T, string) {}, 0, false},
		{"one of ten edited (0.10)", func(t *testing.T, root string) { write(t, root, "dir/f0.txt", "x") }, 1, false},
		{"two of ten edited (0.20)", func(t *testing.T, root string) {
			write(t, root, "dir/f0.txt", "x")
			write(t, root, "dir/f1.txt", "y")
		}, 2, true},
		{"one deleted, one missing file appears", func(t *testing.T, root string) {
			if err := os.Remove(filepath.Join(root, "dir/f2.txt")); err != nil {
				t.Fatal(err)
			}
			write(t, root, "absent.txt", "now here")
		}, 2, true},
		{"rewritten with the same bytes", func(t *testing.T, root string) { write(t, root, "dir/f3.txt", "content 3\n") }, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root, paths := tree(t, 9)
			b, err := drift.Snapshot(root, append(paths, "absent.txt", "./dir/f0.txt"), t0)
			if err != nil {
				t.Fatal(err)
			}
			if len(b.Files) != 10 {
				t.Fatalf("baseline tracks %d files, want 10 (duplicates folded)", len(b.Files))
			}
			tc.tamper(t, root)
			res, err := drift.Compare(root, b, 0)
			if err != nil {
				t.Fatal(err)
			}
			if res.Tracked != 10 || res.Changed != tc.changed || res.Drift != tc.drift || res.Threshold != drift.DefaultThreshold {
				t.Fatalf("result %+v, want %d changed of 10, drift %v", res, tc.changed, tc.drift)
			}
			if want := float64(tc.changed) / 10; res.Magnitude != want {
				t.Fatalf("magnitude %v, want %v", res.Magnitude, want)
			}
		})
	}
}

func write(t *testing.T, root, p, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(root, p), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestBaselineFile(t *testing.T) {
	root, paths := tree(t, 2)
	b, err := drift.Snapshot(root, append(paths, "gone.txt"), t0)
	if err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(t.TempDir(), "baseline.json")
	if err := b.WriteFile(name); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var generic struct {
		Files []map[string]any `json:"files"`
	}
	if err := json.Unmarshal(raw, &generic); err != nil {
		t.Fatal(err)
	}
	if len(generic.Files) != 3 {
		t.Fatalf("%d files in the JSON", len(generic.Files))
	}
	for _, f := range generic.Files {
		if _, ok := f["path"]; !ok {
			t.Errorf("entry without path: %v", f)
		}
		if _, ok := f["exists"]; !ok {
			t.Errorf("entry without exists: %v", f)
		}
		if f["exists"] == true && len(fmt.Sprint(f["sha256"])) != 64 {
			t.Errorf("existing entry without a SHA-256: %v", f)
		}
	}
	back, err := drift.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	res, err := drift.Compare(root, back, 0)
	if err != nil || res.Changed != 0 {
		t.Fatalf("read-back baseline: %+v %v", res, err)
	}
	bad := back
	bad.Version = 99
	if _, err := drift.Compare(root, bad, 0); err == nil {
		t.Fatal("unknown format version accepted")
	}
}

func TestPathsStayInsideRoot(t *testing.T) {
	root, _ := tree(t, 1)
	for _, p := range []string{"../etc/passwd", "/etc/passwd", "", ".", "dir/../../x"} {
		if _, err := drift.Snapshot(root, []string{p}, t0); !errors.Is(err, drift.ErrBadPath) {
			t.Errorf("Snapshot(%q): %v, want ErrBadPath", p, err)
		}
	}
	outside := filepath.Join(t.TempDir(), "secret")
	write(t, filepath.Dir(outside), "secret", "s")
	if err := os.Symlink(outside, filepath.Join(root, "link")); err != nil {
		t.Skip("symlinks unsupported:", err)
	}
	if _, err := drift.Snapshot(root, []string{"link"}, t0); err == nil || !strings.Contains(err.Error(), "link") {
		t.Fatalf("symlink out of the root: %v, want an error", err)
	}
}

func TestDetectorRecordsDriftEvent(t *testing.T) {
	ctx := context.Background()
	e := emulator.NewTestEnv(t, emulator.SeedOptions{SkipNonce: true})
	store := fpevents.New(e.DynamoDB(), e.Target().FPEventsTable)
	root, paths := tree(t, 4)
	b, err := drift.Snapshot(root, paths, t0)
	if err != nil {
		t.Fatal(err)
	}
	d := drift.Detector{Recorder: store, Context: fpevents.Context{Repo: "acme/infra", Branch: "main", Commit: "c0ffee"}}
	res, ev, err := d.Run(ctx, root, b, "drift-run-1")
	if err != nil || res.Drift || ev != nil {
		t.Fatalf("unchanged tree: %+v %v %v", res, ev, err)
	}
	write(t, root, paths[0], "tampered")
	res, ev, err = d.Run(ctx, root, b, "drift-run-1")
	if err != nil || !res.Drift || ev == nil {
		t.Fatalf("tampered tree: %+v %v %v", res, ev, err)
	}
	got, err := store.ByFinding(ctx, "drift-run-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Context.EventType != fpevents.EventDrift || got[0].RuleID != drift.DefaultRuleID || got[0].Context.Repo != "acme/infra" {
		t.Fatalf("recorded %+v, want one drift event", got)
	}
	e.Fail(t, emulator.FaultRule{Operation: "PutItem"})
	if _, _, err := d.Run(ctx, root, b, "drift-run-2"); err == nil {
		t.Fatal("drift with the store unreachable reported no error")
	}
}
