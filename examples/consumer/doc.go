// Package consumer is what a test module in another repository (the
// Oracle's) looks like when it relies on mirror-infra: it imports only the
// public packages (verify, verify/target, emulator, oracle/fpevents,
// verify/e2e) and runs their checks against an emulator, in parallel and
// with -count=2. Copy consumer_test.go; drop the replace directive in
// go.mod and require a released version instead.
package consumer
