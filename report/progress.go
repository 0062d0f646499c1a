package report

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"
	"golang.org/x/term"
)

// Progress shows what a command is waiting for and for how long, on the
// human stream (stderr: never the JSON on stdout). On a terminal one line
// is redrawn in place while a wait lasts and a line with the elapsed time
// stays when it ends; elsewhere (a CI log) each wait that lasted longer
// than After leaves one line when it ends, plus a "still waiting" line
// every Heartbeat for long ones. A nil *Progress shows nothing, so callers
// need no checks:
//
//	defer prog.Start(ctx, "the alarm "+name+" to fire")()
type Progress struct {
	w    io.Writer
	o    ProgressOptions
	term *termenv.Output

	mu    sync.Mutex
	waits []*wait // running, oldest first; the newest is drawn
	drawn bool    // a status line is on the screen (terminal only)
}

// ProgressOptions say how Progress shows waits.
type ProgressOptions struct {
	// TTY redraws one status line in place; only for a terminal.
	TTY bool
	// Width truncates the status line so redrawing never wraps; 0 does
	// not truncate.
	Width int
	// Quiet shows nothing.
	Quiet bool
	// After is how long a wait lasts before it shows (default 2s): shorter
	// waits stay silent.
	After time.Duration
	// Tick is how often the terminal line is redrawn (default 1s).
	Tick time.Duration
	// Heartbeat is how often a long wait says it is still waiting when not
	// on a terminal (default 1m).
	Heartbeat time.Duration
}

type wait struct {
	what    string
	started time.Time
	shown   bool
	stop    chan struct{}
	stopped chan struct{}
}

// NewProgress shows waits on w.
func NewProgress(w io.Writer, o ProgressOptions) *Progress {
	if o.After <= 0 {
		o.After = 2 * time.Second
	}
	if o.Tick <= 0 {
		o.Tick = time.Second
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = time.Minute
	}
	return &Progress{w: w, o: o, term: termenv.NewOutput(w)}
}

// ProgressFor shows waits on f (pass os.Stderr), redrawn in place when f is
// a terminal; quiet (a --quiet flag) shows nothing.
func ProgressFor(f *os.File, quiet bool) *Progress {
	o := ProgressOptions{Quiet: quiet}
	if f != nil && term.IsTerminal(int(f.Fd())) {
		o.TTY = true
		if w, _, err := term.GetSize(int(f.Fd())); err == nil {
			o.Width = w
		}
	}
	return NewProgress(f, o)
}

// Start shows that what is being awaited (a phrase such as "up of
// staging") until the returned done is called; done is safe to call more
// than once. ctx ending stops the redrawing, not the wait.
func (p *Progress) Start(ctx context.Context, what string) (done func()) {
	if p == nil || p.o.Quiet || p.w == nil {
		return func() {}
	}
	wt := &wait{what: Terminal(what), started: time.Now(), stop: make(chan struct{}), stopped: make(chan struct{})}
	p.mu.Lock()
	p.waits = append(p.waits, wt)
	p.mu.Unlock()
	go p.watch(ctx, wt)
	var once sync.Once
	return func() { once.Do(func() { p.end(ctx, wt) }) }
}

// watch redraws (terminal) or beats (elsewhere) until the wait ends.
func (p *Progress) watch(ctx context.Context, wt *wait) {
	defer close(wt.stopped)
	first := time.NewTimer(p.o.After)
	defer first.Stop()
	select {
	case <-first.C:
	case <-wt.stop:
		return
	case <-ctx.Done():
		return
	}
	every := p.o.Heartbeat
	if p.o.TTY {
		every = p.o.Tick
	}
	p.mu.Lock()
	wt.shown = true
	if p.o.TTY {
		p.redraw()
	}
	p.mu.Unlock()
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			p.mu.Lock()
			if p.o.TTY {
				p.redraw()
			} else {
				fmt.Fprintf(p.w, "still waiting for %s (%s)\n", wt.what, since(wt.started))
			}
			p.mu.Unlock()
		case <-wt.stop:
			return
		case <-ctx.Done():
			return
		}
	}
}

func (p *Progress) end(ctx context.Context, wt *wait) {
	close(wt.stop)
	<-wt.stopped
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, x := range p.waits {
		if x == wt {
			p.waits = append(p.waits[:i], p.waits[i+1:]...)
			break
		}
	}
	p.clear()
	if wt.shown || time.Since(wt.started) >= p.o.After {
		verb := "done after"
		if ctx.Err() != nil {
			verb = "stopped after"
		}
		fmt.Fprintf(p.w, "%s: %s %s\n", wt.what, verb, since(wt.started))
	}
	p.redraw()
}

// Write passes other output (the engine's event lines) through, lifting
// the status line out of its way and drawing it again below.
func (p *Progress) Write(b []byte) (int, error) {
	if p == nil || p.w == nil {
		return len(b), nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
	n, err := p.w.Write(b)
	if bytes.HasSuffix(b, []byte("\n")) {
		p.redraw()
	}
	return n, err
}

// redraw draws the newest shown wait's line in place (terminal only).
func (p *Progress) redraw() {
	if !p.o.TTY {
		return
	}
	for i := len(p.waits) - 1; i >= 0; i-- {
		wt := p.waits[i]
		if !wt.shown {
			continue
		}
		line := fmt.Sprintf("⏳ waiting for %s: %s", wt.what, since(wt.started))
		if p.o.Width > 1 {
			line = ansi.Truncate(line, p.o.Width-1, "…")
		}
		p.clear()
		io.WriteString(p.w, line) //nolint:errcheck // a progress line is best effort
		p.drawn = true
		return
	}
}

func (p *Progress) clear() {
	if p.drawn {
		io.WriteString(p.w, "\r") //nolint:errcheck // best effort
		p.term.ClearLine()
		p.drawn = false
	}
}

func since(t time.Time) string {
	d := time.Since(t)
	if d < 10*time.Second {
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}
