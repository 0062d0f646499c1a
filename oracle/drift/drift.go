// Package drift is the Oracle's drift detection (SPEC 7.4): it hashes tracked
// files with SHA-256, compares them with a baseline (a JSON file recording
// each path, its hash and whether it exists), and calls it drift when the
// share of changed files exceeds a threshold. A run that finds drift records
// an FP event with eventType=drift so that drift shows up in the same store
// as the Oracle's other decisions.
package drift

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"time"

	"github.com/mirror-dissonance/mirror-infra/oracle/fpevents"
)

// DefaultThreshold is the magnitude above which a tree has drifted.
const DefaultThreshold = 0.15

// FormatVersion is the baseline file format version.
const FormatVersion = 1

// File is one tracked path in a baseline.
type File struct {
	// Path is slash-separated and relative to the tree's root.
	Path   string `json:"path"`
	SHA256 string `json:"sha256,omitempty"`
	Exists bool   `json:"exists"`
}

// Baseline is the recorded state of the tracked files.
type Baseline struct {
	Version   int       `json:"version"`
	CreatedAt time.Time `json:"createdAt"`
	Files     []File    `json:"files"`
}

// ErrBadPath means a tracked path is absolute or leaves the root.
var ErrBadPath = errors.New("tracked path must be relative and stay inside the root")

// Snapshot hashes paths under root into a baseline. A missing file is
// recorded as not existing; any other read error is returned.
func Snapshot(root string, paths []string, now time.Time) (Baseline, error) {
	r, err := os.OpenRoot(root)
	if err != nil {
		return Baseline{}, fmt.Errorf("opening tree %s: %w", root, err)
	}
	defer r.Close()
	b := Baseline{Version: FormatVersion, CreatedAt: now.UTC()}
	seen := map[string]bool{}
	for _, p := range paths {
		clean, err := cleanPath(p)
		if err != nil {
			return Baseline{}, err
		}
		if seen[clean] {
			continue
		}
		seen[clean] = true
		f, err := hashFile(r, clean)
		if err != nil {
			return Baseline{}, err
		}
		b.Files = append(b.Files, f)
	}
	sort.Slice(b.Files, func(i, j int) bool { return b.Files[i].Path < b.Files[j].Path })
	return b, nil
}

func cleanPath(p string) (string, error) {
	s := filepath.ToSlash(p)
	c := path.Clean(s)
	if s == "" || path.IsAbs(s) || c == ".." || (len(c) > 3 && c[:3] == "../") || c == "." {
		return "", fmt.Errorf("%q: %w", p, ErrBadPath)
	}
	return c, nil
}

// hashFile hashes one file through root, which refuses paths (and symlinks)
// that lead outside the tree.
func hashFile(r *os.Root, p string) (File, error) {
	f, err := r.Open(filepath.FromSlash(p))
	if errors.Is(err, fs.ErrNotExist) {
		return File{Path: p}, nil
	}
	if err != nil {
		return File{}, fmt.Errorf("opening %s: %w", p, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return File{}, fmt.Errorf("hashing %s: %w", p, err)
	}
	return File{Path: p, SHA256: hex.EncodeToString(h.Sum(nil)), Exists: true}, nil
}

// Result of comparing a tree with a baseline.
type Result struct {
	Tracked   int
	Changed   int
	Magnitude float64
	Threshold float64
	Drift     bool
	// ChangedPaths lists what differs: content, appeared or disappeared.
	ChangedPaths []string
}

// Compare hashes the baseline's paths under root and compares them.
// Magnitude is changed / tracked; drift is magnitude > threshold (a
// threshold <= 0 means DefaultThreshold).
func Compare(root string, b Baseline, threshold float64) (Result, error) {
	if threshold <= 0 {
		threshold = DefaultThreshold
	}
	if b.Version != FormatVersion {
		return Result{}, fmt.Errorf("baseline format version %d, want %d", b.Version, FormatVersion)
	}
	r, err := os.OpenRoot(root)
	if err != nil {
		return Result{}, fmt.Errorf("opening tree %s: %w", root, err)
	}
	defer r.Close()
	res := Result{Tracked: len(b.Files), Threshold: threshold}
	for _, want := range b.Files {
		clean, err := cleanPath(want.Path)
		if err != nil {
			return Result{}, err
		}
		got, err := hashFile(r, clean)
		if err != nil {
			return Result{}, err
		}
		if got.Exists != want.Exists || got.SHA256 != want.SHA256 {
			res.Changed++
			res.ChangedPaths = append(res.ChangedPaths, clean)
		}
	}
	if res.Tracked > 0 {
		res.Magnitude = float64(res.Changed) / float64(res.Tracked)
	}
	res.Drift = res.Magnitude > threshold
	return res, nil
}

// WriteFile writes b as indented JSON.
func (b Baseline) WriteFile(name string) error {
	data, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding baseline: %w", err)
	}
	if err := os.WriteFile(name, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing baseline %s: %w", name, err)
	}
	return nil
}

// ReadFile reads a baseline written by WriteFile.
func ReadFile(name string) (Baseline, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return Baseline{}, fmt.Errorf("reading baseline %s: %w", name, err)
	}
	var b Baseline
	if err := json.Unmarshal(data, &b); err != nil {
		return Baseline{}, fmt.Errorf("decoding baseline %s: %w", name, err)
	}
	return b, nil
}

// Recorder stores FP events (fpevents.Store satisfies it).
type Recorder interface {
	Record(ctx context.Context, e fpevents.Event) (fpevents.Event, error)
}

// Detector runs drift detection and records drift.
type Detector struct {
	Recorder  Recorder
	Threshold float64
	// RuleID and RuleVersion name the detection in the FP event.
	RuleID      string
	RuleVersion string
	// Context describes the tree (repo, branch, commit); EventType is set
	// to drift.
	Context fpevents.Context
}

// DefaultRuleID names drift events when the detector does not.
const DefaultRuleID = "drift-detection"

// Run compares root with the baseline and, when it drifted, records one FP
// event (outcome block) whose finding id is findingID. The event is nil
// when there was no drift.
func (d Detector) Run(ctx context.Context, root string, b Baseline, findingID string) (Result, *fpevents.Event, error) {
	res, err := Compare(root, b, d.Threshold)
	if err != nil {
		return Result{}, nil, err
	}
	if !res.Drift {
		return res, nil, nil
	}
	ev := fpevents.Event{
		RuleID:      d.RuleID,
		RuleVersion: d.RuleVersion,
		FindingID:   findingID,
		Outcome:     fpevents.OutcomeBlock,
		Context:     d.Context,
	}
	if ev.RuleID == "" {
		ev.RuleID = DefaultRuleID
	}
	if ev.RuleVersion == "" {
		ev.RuleVersion = "1"
	}
	ev.Context.EventType = fpevents.EventDrift
	rec, err := d.Recorder.Record(ctx, ev)
	if err != nil {
		return res, nil, fmt.Errorf("recording drift of %d/%d files: %w", res.Changed, res.Tracked, err)
	}
	return res, &rec, nil
}
