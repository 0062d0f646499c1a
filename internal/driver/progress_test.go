package driver

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"

	"github.com/mirror-dissonance/mirror-infra/report"
)

// Engine event text (resource names from the program or the state, provider
// diagnostics) reaches the terminal with its control characters visible.
func TestCollectorEscapesEngineTextForTheTerminal(t *testing.T) {
	var progress strings.Builder
	c := newCollector(context.Background(), &progress, "up of staging", true)
	const u = "urn:pulumi:staging::mirror-dissonance::aws:s3/bucket:Bucket::evil\x1b[2J\rname"
	for _, ev := range []events.EngineEvent{
		pre(apitype.OpCreate, u, nil, map[string]any{"bucket": "b"}),
		{EngineEvent: apitype.EngineEvent{ResOpFailedEvent: &apitype.ResOpFailedEvent{Metadata: apitype.StepEventMetadata{Op: apitype.OpCreate, URN: u, Type: "aws:s3/bucket:Bucket"}}}},
		{EngineEvent: apitype.EngineEvent{DiagnosticEvent: &apitype.DiagnosticEvent{Severity: "warning", Message: "\x1b[33mslow\x1b[0m\rprogress\x07 done"}}},
	} {
		c.ch <- ev
	}
	close(c.ch)
	c.finish(nil)
	s := progress.String()
	for _, raw := range []string{"\x1b[2J", "\r", "\x07"} {
		if strings.Contains(s, raw) {
			t.Errorf("the event stream writes %q raw:\n%q", raw, s)
		}
	}
	for _, want := range []string{`evil\x1b[2J\rname`, `warning: slow\rprogress\x07 done`} {
		if !strings.Contains(s, want) {
			t.Errorf("the event stream does not show %s:\n%s", want, s)
		}
	}
}

// A *report.Progress given as Settings.Progress shows each CLI step as a
// wait, and the step's event lines pass through it.
func TestCollectorShowsTheStepAsAWait(t *testing.T) {
	var out strings.Builder
	p := report.NewProgress(&out, report.ProgressOptions{After: time.Millisecond, Tick: time.Hour, Heartbeat: time.Hour})
	c := newCollector(context.Background(), p, "up of staging", true)
	c.ch <- pre(apitype.OpCreate, "urn:pulumi:staging::mirror-dissonance::aws:sns/topic:Topic::ops", nil, map[string]any{"name": "ops"})
	time.Sleep(20 * time.Millisecond)
	close(c.ch)
	c.finish(nil)
	s := out.String()
	if !strings.Contains(s, "+ create... aws:dynamodb/table:Table ops") {
		t.Errorf("the event line did not pass through the progress:\n%s", s)
	}
	if !strings.Contains(s, "up of staging: done after ") {
		t.Errorf("the step did not end as a wait with its elapsed time:\n%s", s)
	}
}
