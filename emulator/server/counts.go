package server

import (
	"fmt"
	"sort"
	"sync"
)

// Counts is a snapshot of the requests the front server received.
type Counts struct {
	// Total counts every request, faulted or not (what a client sent).
	Total int
	// Faulted counts requests answered with an injected error, a dropped
	// connection or a lost response (the client got no proper answer).
	Faulted int
	// Lost counts requests that reached kumo and took effect, but whose
	// answer was dropped (FaultLostResponse); they are in Faulted too.
	Lost int
	// Delayed counts requests answered late (FaultLatency), not faulted.
	Delayed int
	// ByOperation counts requests by "service.Operation", faulted included.
	ByOperation map[string]int
}

// Operations lists ByOperation as sorted "service.Operation=n" strings, for
// test messages.
func (c Counts) Operations() []string {
	out := make([]string, 0, len(c.ByOperation))
	for k, v := range c.ByOperation {
		out = append(out, fmt.Sprintf("%s=%d", k, v))
	}
	sort.Strings(out)
	return out
}

type counter struct {
	mu      sync.Mutex
	total   int
	fault   int
	lost    int
	delayed int
	byOp    map[string]int
}

func newCounter() *counter { return &counter{byOp: map[string]int{}} }

func (c *counter) add(op Operation, faulted bool) { c.addKind(op, faulted, false, false) }

func (c *counter) addKind(op Operation, faulted, lost, delayed bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.total++
	if faulted {
		c.fault++
	}
	if lost {
		c.lost++
	}
	if delayed {
		c.delayed++
	}
	c.byOp[op.String()]++
}

// Counts returns the requests received since Start or the last ResetCounts.
func (srv *Server) Counts() Counts {
	srv.stats.mu.Lock()
	defer srv.stats.mu.Unlock()
	m := make(map[string]int, len(srv.stats.byOp))
	for k, v := range srv.stats.byOp {
		m[k] = v
	}
	return Counts{Total: srv.stats.total, Faulted: srv.stats.fault, Lost: srv.stats.lost, Delayed: srv.stats.delayed, ByOperation: m}
}

// ResetCounts zeroes the request counters.
func (srv *Server) ResetCounts() {
	srv.stats.mu.Lock()
	defer srv.stats.mu.Unlock()
	srv.stats.total, srv.stats.fault, srv.stats.lost, srv.stats.delayed = 0, 0, 0, 0
	srv.stats.byOp = map[string]int{}
}
