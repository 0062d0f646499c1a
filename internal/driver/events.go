package driver

import (
	"context"
	"fmt"
	"io"
	"maps"
	"sort"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"

	"github.com/mirror-dissonance/mirror-infra/internal/gate"
	"github.com/mirror-dissonance/mirror-infra/report"
)

// collector consumes one operation's engine events: it renders progress as
// events arrive and folds the step events into one planned resource per URN.
type collector struct {
	ch   chan events.EngineEvent
	stop chan struct{}
	done chan struct{}
	out  io.Writer
	// apply is true for up/destroy, where outputs events mean "done".
	apply bool

	mu        sync.Mutex
	resources map[string]*gate.Resource
	order     []string
	errors    []string
	summary   map[string]int
	// keepRefresh keeps the outputs events of refresh steps for drift
	// detection.
	keepRefresh bool
	refreshes   []apitype.StepEventMetadata
	// replaceKeys are the properties forcing each planned replacement.
	replaceKeys map[string][]string
	// waited ends the progress line of the operation.
	waited func()
}

// Waiter is what Settings.Progress may also be to show how long a CLI step
// (preview, up, refresh, destroy) has been running: *report.Progress is
// one. Start is called when the step starts, the returned func when it ends.
type Waiter interface {
	Start(ctx context.Context, what string) (done func())
}

// newCollector starts collecting one operation's events; what names the
// operation for the progress line ("up of staging").
func newCollector(ctx context.Context, out io.Writer, what string, apply bool) *collector {
	c := &collector{
		ch:        make(chan events.EngineEvent),
		stop:      make(chan struct{}),
		done:      make(chan struct{}),
		out:       out,
		apply:     apply,
		resources: map[string]*gate.Resource{},
		waited:    func() {},
	}
	if w, ok := out.(Waiter); ok {
		c.waited = w.Start(ctx, what)
	}
	go c.run()
	return c
}

func (c *collector) run() {
	defer close(c.done)
	for {
		select {
		case ev, ok := <-c.ch:
			if !ok {
				return
			}
			c.handle(ev)
		case <-c.stop:
			return
		}
	}
}

// finish waits for the event stream to end. The Automation API closes the
// channel when the CLI's stream ends, but never when the CLI failed before
// streaming, so after a failed operation it stops the collector instead
// (every event sent was already received: the channel is unbuffered).
func (c *collector) finish(opErr error) {
	if opErr != nil {
		close(c.stop)
	}
	<-c.done
	c.waited()
}

// printf writes one line of the event stream; every string argument comes
// from the program, the state or a provider, so it is escaped for the
// terminal (the format is ours).
func (c *collector) printf(format string, a ...any) {
	if c.out == nil {
		return
	}
	for i, v := range a {
		if s, ok := v.(string); ok {
			a[i] = report.Terminal(s)
		}
	}
	fmt.Fprintf(c.out, format, a...)
}

func (c *collector) handle(ev events.EngineEvent) {
	if ev.Error != nil {
		c.mu.Lock()
		c.errors = append(c.errors, "reading engine events: "+ev.Error.Error())
		c.mu.Unlock()
		return
	}
	e := ev.EngineEvent
	switch {
	case e.ResourcePreEvent != nil:
		m := e.ResourcePreEvent.Metadata
		op := mapOp(m.Op)
		c.fold(m, op)
		if op != gate.OpSame && op != "" {
			verb := string(op)
			if c.apply {
				verb += "..."
			}
			c.printf("  %s %-8s %s %s%s\n", opSymbol(op), verb, m.Type, urnName(m.URN), diffNote(m))
		}
	case e.ResOutputsEvent != nil && c.keepRefresh:
		// A refresh step's outputs event carries the state as read from
		// the provider; its pre-event only repeats the recorded one.
		c.mu.Lock()
		c.refreshes = append(c.refreshes, e.ResOutputsEvent.Metadata)
		c.mu.Unlock()
	case e.ResOutputsEvent != nil && c.apply:
		m := e.ResOutputsEvent.Metadata
		if op := mapOp(m.Op); op != gate.OpSame && op != "" {
			c.printf("  ✓ %-8s %s %s\n", pastTense(op), m.Type, urnName(m.URN))
		}
	case e.ResOpFailedEvent != nil:
		m := e.ResOpFailedEvent.Metadata
		c.printf("  ✗ failed   %s %s\n", m.Type, urnName(m.URN))
	case e.DiagnosticEvent != nil:
		d := e.DiagnosticEvent
		msg := strings.TrimSpace(stripColour(d.Message))
		if msg == "" || d.Ephemeral {
			return
		}
		switch d.Severity {
		case "error":
			c.mu.Lock()
			c.errors = append(c.errors, msg)
			c.mu.Unlock()
			c.printf("  error: %s\n", msg)
		case "warning":
			c.printf("  warning: %s\n", msg)
		}
	case e.SummaryEvent != nil:
		c.mu.Lock()
		c.summary = map[string]int{}
		for op, n := range e.SummaryEvent.ResourceChanges {
			c.summary[string(op)] = n
		}
		c.mu.Unlock()
	}
}

// fold keeps one resource per URN with the most significant operation (a
// replacement shows up as replace, create-replacement and delete-replaced).
func (c *collector) fold(m apitype.StepEventMetadata, op gate.Op) {
	if op == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.resources[m.URN]
	if !ok {
		r = &gate.Resource{URN: m.URN, Type: m.Type, Name: urnName(m.URN)}
		c.resources[m.URN] = r
		c.order = append(c.order, m.URN)
	} else if opRank(op) <= opRank(r.Op) {
		// A later step of the same replacement (create-replacement,
		// delete-replaced) adds nothing the first one did not say, except
		// the protect flag of the old resource.
		if m.Old != nil && m.Old.Protect {
			r.Protect = true
		}
		return
	}
	r.Op = op
	state := m.New
	if op == gate.OpDelete || state == nil {
		state = m.Old
	}
	if state != nil {
		r.Inputs = state.Inputs
		r.Protect = state.Protect
	}
	if m.Old != nil && m.Old.Protect {
		r.Protect = true
	}
	r.Diffs = diffPaths(m)
	if len(m.Keys) > 0 {
		if c.replaceKeys == nil {
			c.replaceKeys = map[string][]string{}
		}
		c.replaceKeys[m.URN] = m.Keys
	}
}

// ReplaceKeys are, per URN, the properties that force a planned
// replacement.
func (c *collector) ReplaceKeys() map[string][]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.replaceKeys)
}

// Resources returns the planned resources in event order.
func (c *collector) Resources() []gate.Resource {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]gate.Resource, 0, len(c.order))
	for _, u := range c.order {
		out = append(out, *c.resources[u])
	}
	return out
}

func (c *collector) Errors() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.errors...)
}

// mapOp maps engine step operations onto the gate's operations; "" means
// the step is bookkeeping the gate does not judge.
func mapOp(op apitype.OpType) gate.Op {
	switch op {
	case apitype.OpCreate, apitype.OpImport:
		return gate.OpCreate
	case apitype.OpUpdate:
		return gate.OpUpdate
	case apitype.OpReplace, apitype.OpCreateReplacement, apitype.OpDeleteReplaced,
		apitype.OpDiscardReplaced, apitype.OpImportReplacement:
		return gate.OpReplace
	case apitype.OpDelete:
		return gate.OpDelete
	case apitype.OpSame:
		return gate.OpSame
	case apitype.OpRead, apitype.OpReadReplacement, apitype.OpReadDiscard:
		return gate.OpRead
	case apitype.OpRefresh:
		// A preview or up with refresh reads each resource before it
		// plans it: bookkeeping, followed by the resource's real step.
		return ""
	default:
		return ""
	}
}

// opStyle is how an operation ranks (the strongest one of a resource wins
// when events repeat), its symbol in the progress stream and its past tense.
type opStyle struct {
	rank   int
	symbol string
	past   string
}

var opStyles = map[gate.Op]opStyle{
	gate.OpReplace: {5, "±", "replaced"},
	gate.OpDelete:  {4, "-", "deleted"},
	gate.OpUpdate:  {3, "~", "updated"},
	gate.OpCreate:  {2, "+", "created"},
	gate.OpRead:    {1, ">", "read"},
}

func opRank(op gate.Op) int { return opStyles[op].rank }

func opSymbol(op gate.Op) string {
	if st, ok := opStyles[op]; ok {
		return st.symbol
	}
	return " "
}

func pastTense(op gate.Op) string {
	if st, ok := opStyles[op]; ok {
		return st.past
	}
	return string(op)
}

func diffPaths(m apitype.StepEventMetadata) []string {
	seen := map[string]bool{}
	for p := range m.DetailedDiff {
		seen[p] = true
	}
	if len(seen) == 0 {
		for _, p := range m.Diffs {
			seen[p] = true
		}
	}
	out := make([]string, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

func diffNote(m apitype.StepEventMetadata) string {
	d := diffPaths(m)
	if len(d) == 0 {
		return ""
	}
	note := " (" + strings.Join(d, ", ")
	if len(m.Keys) > 0 {
		note += "; replaced because of " + strings.Join(m.Keys, ", ")
	}
	return note + ")"
}

// URNName is the logical name: what follows the last "::" of the URN.
func URNName(urn string) string { return urnName(urn) }

func urnName(urn string) string {
	if i := strings.LastIndex(urn, "::"); i >= 0 {
		return urn[i+2:]
	}
	return urn
}

// stripColour removes the colour escapes (SGR: ESC [ ... m) and Pulumi's
// colour directives (<{%reset%}>) the engine puts into diagnostics; any
// other escape stays, to be made visible by report.Terminal.
func stripColour(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == 0x1b && i+1 < len(s) && s[i+1] == '[' {
			j := i + 2
			for j < len(s) && (s[j] < '@' || s[j] > '~') {
				j++
			}
			if j < len(s) && s[j] == 'm' {
				i = j
				continue
			}
		}
		b.WriteByte(s[i])
	}
	out := b.String()
	for {
		i := strings.Index(out, "<{%")
		if i < 0 {
			break
		}
		j := strings.Index(out[i:], "%}>")
		if j < 0 {
			break
		}
		out = out[:i] + out[i+j+3:]
	}
	return out
}
