package fpevents_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/mirror-dissonance/mirror-infra/emulator"
	"github.com/mirror-dissonance/mirror-infra/oracle/fpevents"
)

// TestRecordRecognisesItsOwnWrite: the SDK retries a put whose answer was
// lost, and the retry meets the item the first attempt wrote. That is the
// call's own success, not a duplicate; a different item under the key
// still is one. Mutation check: return ErrDuplicate without comparing
// (the old Record) and the "lost answer" row fails.
func TestRecordRecognisesItsOwnWrite(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		rules   []emulator.FaultRule
		retries bool
		// first writes a different item under the same key first.
		first   bool
		wantErr error
		wantAny bool // some error other than ErrDuplicate
	}{
		{name: "lost answer, SDK retry", rules: []emulator.FaultRule{{Operation: "PutItem", Kind: emulator.FaultLostResponse, Times: 1}}, retries: true},
		{name: "two lost answers", rules: []emulator.FaultRule{{Operation: "PutItem", Kind: emulator.FaultLostResponse, Times: 2}}, retries: true},
		{name: "someone else's item", first: true, retries: true, wantErr: fpevents.ErrDuplicate},
		{name: "lost answer, comparison unreadable", rules: []emulator.FaultRule{
			{Operation: "PutItem", Kind: emulator.FaultLostResponse, Times: 1}, {Operation: "Query", Kind: emulator.FaultServerError},
		}, retries: true, wantAny: true},
		{name: "lost answer, no retry", rules: []emulator.FaultRule{{Operation: "PutItem", Kind: emulator.FaultLostResponse, Times: 1}}, wantAny: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, s := newStore(t)
			if tc.retries {
				cfg, err := e.Emulator.Config(ctx)
				if err != nil {
					t.Fatal(err)
				}
				s.Client = dynamodb.NewFromConfig(cfg)
			}
			ev := event("R1", "1", "f1", base)
			ev.EventID = "fixed"
			if tc.first {
				other := ev
				other.Outcome = fpevents.OutcomePass
				if _, err := s.Record(ctx, other); err != nil {
					t.Fatal(err)
				}
			}
			e.Emulator.SetFaults(emulator.Faults{Rules: tc.rules})
			got, err := s.Record(ctx, ev)
			e.Heal()
			switch {
			case tc.wantErr != nil:
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Record: %v, want %v", err, tc.wantErr)
				}
			case tc.wantAny:
				if err == nil || errors.Is(err, fpevents.ErrDuplicate) {
					t.Fatalf("Record: %v, want an error that is not ErrDuplicate", err)
				}
			default:
				if err != nil || got.EventID != "fixed" {
					t.Fatalf("Record: %+v, %v; want success", got, err)
				}
			}
			evs, err := s.ByRule(ctx, "R1", fpevents.Query{})
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != 1 {
				t.Fatalf("%d events stored, want 1", len(evs))
			}
		})
	}
}

// TestRecordMarker: a store with a Marker and a Retention writes both, so
// an E2E sweep can find the event and the table's TTL removes it early.
func TestRecordMarker(t *testing.T) {
	ctx := context.Background()
	e, s := newStore(t)
	s.Marker, s.Retention = "run1", 24*time.Hour
	ev, err := s.Record(ctx, event("R1", "1", "f1", base))
	if err != nil {
		t.Fatal(err)
	}
	if want := base.Add(time.Hour).Unix() + 24*3600; ev.ExpiresAt != want {
		t.Errorf("ExpiresAt %d, want %d", ev.ExpiresAt, want)
	}
	snap, err := oracletestSnapshot(ctx, e)
	if err != nil {
		t.Fatal(err)
	}
	if len(snap) != 1 || !contains(snap[0], `"e2eRunId":"run1"`) {
		t.Fatalf("stored %v, want one item with the marker", snap)
	}
}

func oracletestSnapshot(ctx context.Context, e *emulator.TestEnv) ([]string, error) {
	m, err := e.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	return m[e.Target().FPEventsTable], nil
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
