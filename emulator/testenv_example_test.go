package emulator_test

import (
	"testing"

	"github.com/mirror-dissonance/mirror-infra/emulator"
	"github.com/mirror-dissonance/mirror-infra/oracle/fpevents"
)

// One call in a test gives it its own seeded environment, removed when the
// test ends; parallel tests each get their own.
func ExampleNewTestEnv() {
	var t *testing.T // the test function's argument
	t.Parallel()
	env := emulator.NewTestEnv(t, emulator.SeedOptions{VerifyQueue: true})
	store := fpevents.NewFromConfig(env.Config, env.Target().FPEventsTable)
	_ = store // record and read events as the Oracle does
	_ = env.Emulator.Counts()
}
