// Package clock is where the oracle packages turn their optional Now
// fields into a time, so that every store defaults to the wall clock the
// same way and tests can still set any func() time.Time.
package clock

import "time"

// Now returns f(), or time.Now() when f is nil (a store built without a
// clock reads the wall clock).
func Now(f func() time.Time) time.Time {
	if f != nil {
		return f()
	}
	return time.Now()
}
