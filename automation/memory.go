package main

import (
	"context"
	"fmt"
	"runtime/metrics"
	"time"
)

// defaultMemoryLimit is the memory bound of a command: far above what any
// legitimate run needs (the rehearsal, the largest, stays well under 1
// GiB), well below where the kernel or Go's runtime would end the process
// without a report (Go's "out of memory" exits with 2, our usage code).
const defaultMemoryLimit = 3 << 30

// heapInUse is the memory the Go heap holds (live and not yet swept).
func heapInUse() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

// watchMemory calls over once when used() passes limit, checking every
// poll until ctx ends or the returned stop is called.
func watchMemory(ctx context.Context, limit uint64, used func() uint64, poll time.Duration, over func(used uint64)) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		t := time.NewTicker(poll)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if u := used(); u > limit {
					over(u)
					return
				}
			}
		}
	}()
	return cancel
}

func formatBytes(n uint64) string {
	const gib, mib = 1 << 30, 1 << 20
	if n >= gib {
		return fmt.Sprintf("%.1f GiB", float64(n)/gib)
	}
	return fmt.Sprintf("%d MiB", n/mib)
}
