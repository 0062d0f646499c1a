package clock

import (
	"testing"
	"time"
)

func TestNow(t *testing.T) {
	fixed := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if got := Now(func() time.Time { return fixed }); !got.Equal(fixed) {
		t.Errorf("Now(fixed) = %v, want %v", got, fixed)
	}
	before := time.Now()
	if got := Now(nil); got.Before(before) || got.After(time.Now()) {
		t.Errorf("Now(nil) = %v, not the wall clock", got)
	}
}
