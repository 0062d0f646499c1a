package report

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuf is a buffer the progress goroutine and the test share.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var fast = ProgressOptions{After: 30 * time.Millisecond, Tick: 20 * time.Millisecond, Heartbeat: 50 * time.Millisecond}

func TestProgressOffATerminalIsOneLinePerWait(t *testing.T) {
	var out syncBuf
	p := NewProgress(&out, fast)
	ctx := context.Background()
	p.Start(ctx, "a short step")() // shorter than After: silent
	done := p.Start(ctx, "up of staging")
	time.Sleep(70 * time.Millisecond)
	done()
	done() // twice is harmless
	s := out.String()
	if strings.Contains(s, "short step") {
		t.Errorf("a wait shorter than After shows:\n%s", s)
	}
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, "up of staging: done after ") {
		t.Errorf("the last line is %q, want the wait and its elapsed time:\n%s", last, s)
	}
	for _, l := range lines[:len(lines)-1] {
		if !strings.HasPrefix(l, "still waiting for up of staging (") {
			t.Errorf("unexpected line %q", l)
		}
	}
	if strings.ContainsAny(s, "\r\x1b") {
		t.Errorf("terminal control codes off a terminal: %q", s)
	}
}

func TestProgressOnATerminalRedrawsOneLine(t *testing.T) {
	var out syncBuf
	o := fast
	o.TTY, o.Width = true, 40
	p := NewProgress(&out, o)
	done := p.Start(context.Background(), "the alarm md-staging-consumer-errors to fire\x1b[2J")
	time.Sleep(80 * time.Millisecond)
	_, _ = p.Write([]byte("  + create aws:sns/topic:Topic ops\n"))
	time.Sleep(40 * time.Millisecond)
	done()
	s := out.String()
	if n := strings.Count(s, "\r\x1b[2K⏳ waiting for the alarm"); n < 2 {
		t.Errorf("the status line was drawn in place %d times, want at least 2:\n%q", n, s)
	}
	if strings.Contains(s, "\x1b[2J") {
		t.Errorf("the awaited name's escape reached the terminal: %q", s)
	}
	// The event line is never appended to a status line.
	if !strings.Contains(s, "\r\x1b[2K  + create aws:sns/topic:Topic ops\n") {
		t.Errorf("the event line was not written on a cleared line:\n%q", s)
	}
	for _, seg := range strings.Split(s, "\r\x1b[2K") {
		if strings.HasPrefix(seg, "⏳") && len([]rune(strings.TrimSuffix(seg, "\n"))) > 39 {
			t.Errorf("a status line is wider than the terminal: %q", seg)
		}
	}
	if !strings.HasSuffix(s, `the alarm md-staging-consumer-errors to fire\x1b[2J: done after `+s[strings.LastIndex(s, "after ")+6:]) {
		t.Errorf("no final line with the elapsed time:\n%q", s)
	}
}

func TestProgressQuietAndNil(t *testing.T) {
	var out syncBuf
	o := fast
	o.Quiet = true
	p := NewProgress(&out, o)
	done := p.Start(context.Background(), "preview of staging")
	time.Sleep(60 * time.Millisecond)
	done()
	if out.String() != "" {
		t.Errorf("quiet progress wrote %q", out.String())
	}
	var none *Progress
	none.Start(context.Background(), "x")()
	if _, err := none.Write([]byte("x\n")); err != nil {
		t.Error(err)
	}
}

func TestProgressCancelledWait(t *testing.T) {
	var out syncBuf
	p := NewProgress(&out, fast)
	ctx, cancel := context.WithCancel(context.Background())
	done := p.Start(ctx, "restore of fp-events")
	time.Sleep(40 * time.Millisecond)
	cancel()
	done()
	if !strings.Contains(out.String(), "restore of fp-events: stopped after ") {
		t.Errorf("a cancelled wait does not say it stopped: %q", out.String())
	}
}
