package nonce_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/mirror-dissonance/mirror-infra/emulator"
	"github.com/mirror-dissonance/mirror-infra/oracle/nonce"
)

// TestRotationRecognisesItsOwnWin: concurrent rotations through the SDK's
// standard retryer while PutParameter answers are lost. Exactly one
// process reports success, it is the one whose value v2 holds, and every
// other is told "already rotated". Mutation check: in create, treat
// ParameterAlreadyExists as ErrAlreadyRotated before asking owner, and
// the lost-answer rows end with no winner.
func TestRotationRecognisesItsOwnWin(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		rules []emulator.FaultRule
	}{
		{"no faults", nil},
		{"first answer lost", []emulator.FaultRule{{Operation: "PutParameter", Kind: emulator.FaultLostResponse, Times: 1}}},
		{"every answer lost", []emulator.FaultRule{{Operation: "PutParameter", Kind: emulator.FaultLostResponse}}},
		{"first request dropped", []emulator.FaultRule{{Operation: "PutParameter", Kind: emulator.DropConnection, Times: 1}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, s := newStore(t)
			bootstrap(t, s)
			cfg, err := e.Emulator.Config(ctx)
			if err != nil {
				t.Fatal(err)
			}
			client := ssm.NewFromConfig(cfg) // retries on, as a real caller has them
			e.Emulator.SetFaults(emulator.Faults{Rules: tc.rules})
			const n = 8
			var wg sync.WaitGroup
			errs := make([]error, n)
			got := make([]nonce.Version, n)
			for i := range n {
				st := *s
				st.Client = client
				// Each process draws a value of its own, so the winner
				// is known by what v2 holds.
				st.Rand = bytes.NewReader(bytes.Repeat([]byte{byte(i + 1)}, 32))
				wg.Go(func() { got[i], errs[i] = st.Rotate(ctx, 1) })
			}
			wg.Wait()
			e.Heal()
			winner := -1
			for i, err := range errs {
				switch {
				case err == nil:
					if winner >= 0 {
						t.Errorf("processes %d and %d both report success", winner, i)
					}
					winner = i
					if got[i].N != 2 {
						t.Errorf("winner reports v%d, want v2", got[i].N)
					}
				case errors.Is(err, nonce.ErrAlreadyRotated):
				default:
					t.Errorf("process %d: unexpected error: %v", i, err)
				}
			}
			if winner < 0 {
				t.Fatal("v2 was created but no process reports success")
			}
			stored := values(t, e)
			want := hex.EncodeToString(bytes.Repeat([]byte{byte(winner + 1)}, 32))
			found := false
			for _, v := range stored {
				found = found || v == want
			}
			if len(stored) != 2 || !found {
				// Never print the values themselves.
				t.Fatalf("%d versions stored; v2 holds the winner's value: %t", len(stored), found)
			}
		})
	}
}
