package verify

import (
	"context"
	"strings"
	"testing"

	"github.com/mirror-dissonance/mirror-infra/emulator"
	"github.com/mirror-dissonance/mirror-infra/oracle/nonce"
	"github.com/mirror-dissonance/mirror-infra/report"
)

// TestNonceCheckAfterAWayOut: once a malformed newest version is
// superseded (nonce rotate --from N), the nonce check passes at once: the
// malformed version was never valid, so it is not listed as valid.
func TestNonceCheckAfterAWayOut(t *testing.T) {
	for _, d := range []emulator.Defect{emulator.DefectNonceString, emulator.DefectNonceMalformed} {
		t.Run(string(d), func(t *testing.T) {
			env := emulator.NewTestEnv(t, emulator.SeedOptions{Defects: []emulator.Defect{d}})
			ctx := context.Background()
			tgt := env.Target()
			store := nonce.New(env.SSM(), env.Env, tgt.NoncePrefix, tgt.KMSKey, 0)
			if c := nonce.RotateCheck(ctx, store, 1); c.Status != report.Pass {
				t.Fatalf("rotate --from 1: %s %s", c.Status, c.Reason)
			}
			c := RunCheck(ctx, NewClients(env.Config), tgt, IDNonce, Options{})
			if c.Status == report.Fail || strings.Contains(c.Details["valid"], "v1") {
				t.Errorf("nonce check: %s %s (valid %q); want no FAIL and v1 not valid", c.Status, c.Reason, c.Details["valid"])
			}
		})
	}
}

// TestMalformedNewestIsNotListedValid (issue 24 finding 2): before the way
// out, the check fails and never lists the malformed newest version as
// valid (it once said "valid: v1" beside the FAIL).
func TestMalformedNewestIsNotListedValid(t *testing.T) {
	for _, d := range []emulator.Defect{emulator.DefectNonceString, emulator.DefectNonceMalformed} {
		t.Run(string(d), func(t *testing.T) {
			env := emulator.NewTestEnv(t, emulator.SeedOptions{Defects: []emulator.Defect{d}})
			c := RunCheck(context.Background(), NewClients(env.Config), env.Target(), IDNonce, Options{})
			if c.Status != report.Fail || strings.Contains(c.Details["valid"], "v1") {
				t.Errorf("nonce check: %s %s (valid %q); want FAIL and v1 not valid", c.Status, c.Reason, c.Details["valid"])
			}
		})
	}
}
