package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// driftDirPrefix names a run's drift tree: md-e2e-drift-<run id>-<random>.
const driftDirPrefix = "md-e2e-drift-"

// driftDirRun is the run id in a drift tree's name ("" for the older
// md-e2e-drift-<random> names, which carry none).
func driftDirRun(name string) string {
	rest, ok := strings.CutPrefix(name, driftDirPrefix)
	if !ok {
		return ""
	}
	i := strings.LastIndexByte(rest, '-')
	if i <= 0 {
		return ""
	}
	return rest[:i]
}

// sweepTempDirs removes the drift trees in dir (os.TempDir when empty) of
// dead runs: lapsed lease, or no lease and not modified since cut.
func sweepTempDirs(ctx context.Context, ls *leases, dir string, cut time.Time) (removed, kept int, err error) {
	if dir == "" {
		dir = os.TempDir()
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0, 0, fmt.Errorf("sweeping drift trees in %s: %w", dir, err)
	}
	var errs []error
	for _, ent := range ents {
		if !ent.IsDir() || !strings.HasPrefix(ent.Name(), driftDirPrefix) {
			continue
		}
		l := noLease
		if run := driftDirRun(ent.Name()); run != "" {
			if l, err = ls.of(ctx, run); err != nil {
				errs = append(errs, err)
				continue
			}
		}
		if l == live {
			kept++
			continue
		}
		if l == noLease {
			info, err := ent.Info()
			if err != nil || info.ModTime().After(cut) {
				kept++
				continue
			}
		}
		if err := os.RemoveAll(filepath.Join(dir, ent.Name())); err != nil {
			errs = append(errs, fmt.Errorf("sweeping drift tree %s: %w", ent.Name(), err))
			continue
		}
		removed++
	}
	return removed, kept, errors.Join(errs...)
}
