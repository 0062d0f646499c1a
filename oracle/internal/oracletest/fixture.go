// Package oracletest holds the fixture helpers of the oracle packages' tests:
// golden items in DynamoDB wire JSON, fixture times and a settable clock.
// The environment those tests run against is emulator.NewTestEnv.
package oracletest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mirror-dissonance/mirror-infra/oracle/internal/datacheck"
)

// ReadFixture decodes the JSON fixture testdata/name (relative to the
// package under test) into a T, failing the test if it cannot.
func ReadFixture[T any](tb testing.TB, name string) T {
	tb.Helper()
	var v T
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatalf("reading fixture: %v", err)
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		tb.Fatalf("fixture %s: %v", name, err)
	}
	return v
}

// Time parses a fixture's RFC 3339 time (as the Oracle's toISOString
// writes it) in UTC, failing the test if it cannot.
func Time(tb testing.TB, s string) time.Time {
	tb.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		tb.Fatalf("fixture time %q: %v", s, err)
	}
	return v.UTC()
}

// NoFindings fails the test (not now) if a CheckItem that should accept an
// item returned findings; what names the call in the message.
func NoFindings(tb testing.TB, what string, fs []datacheck.Finding) {
	tb.Helper()
	if len(fs) != 0 {
		tb.Errorf("%s = %v, want none", what, fs)
	}
}

// Clock returns a settable time, starting at t, and the Now function of a
// store that reads it.
func Clock(t time.Time) (*time.Time, func() time.Time) {
	now := t
	return &now, func() time.Time { return now }
}
