package e2e_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/mirror-dissonance/mirror-infra/emulator"
	"github.com/mirror-dissonance/mirror-infra/oracle/nonce"
	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/verify"
	"github.com/mirror-dissonance/mirror-infra/verify/e2e"
)

// matrixEnv opts in to the full fault matrix (5 kinds x 10/30/50% over
// verify, e2e and rotation; a few minutes). Without it a fast subset
// runs: latency, dropped connections and lost responses at 30% over e2e
// and rotation.
const matrixEnv = "MD_FAULT_MATRIX"

// cell is one row of the matrix: honest verdicts are PASS on the healthy
// environment, FAIL on the broken one, or an infrastructure error (exit 3:
// "could not tell") on either; a false PASS or a false FAIL is a bug.
type cell struct {
	kind     emulator.FaultKind
	share    float64
	workload string
	runs     int
	pass     int
	fail     int // honest FAIL of the broken environment
	infra    int
	falsePas int
	falseFai int
	leftRun  int // items left after the runs
	leftSwp  int // items left after the sweep
	requests int
	faulted  int
	elapsed  time.Duration
}

// TestFaultMatrix runs the workloads under each fault kind and share with
// the SDK's standard retryer on (as a real caller has it) and counts false
// verdicts and leftovers; any is a failure. Full table:
//
//	MD_FAULT_MATRIX=1 go test -count=1 -run TestFaultMatrix -v ./verify/e2e/
func TestFaultMatrix(t *testing.T) {
	full := os.Getenv(matrixEnv) != ""
	// The fast subset: the kinds where a request can take effect unseen,
	// and latency; throttling and 5xx make the SDK back off for seconds.
	kinds := []emulator.FaultKind{emulator.FaultLatency, emulator.DropConnection, emulator.FaultLostResponse}
	shares := []float64{0.3}
	workloads := []string{"e2e", "rotation"}
	if full {
		kinds = []emulator.FaultKind{emulator.FaultThrottle, emulator.FaultServerError, emulator.FaultLatency, emulator.DropConnection, emulator.FaultLostResponse}
		shares = []float64{0.1, 0.3, 0.5}
		workloads = []string{"verify", "e2e", "rotation"}
	} else {
		t.Logf("fast subset (latency, drop, lost at 30%% over e2e and rotation); set %s=1 for the full matrix", matrixEnv)
	}
	var mu sync.Mutex
	var cells []cell
	t.Cleanup(func() {
		sort.Slice(cells, func(i, j int) bool {
			a, b := cells[i], cells[j]
			if a.workload != b.workload {
				return a.workload < b.workload
			}
			if a.kind != b.kind {
				return a.kind < b.kind
			}
			return a.share < b.share
		})
		var b strings.Builder
		fmt.Fprintf(&b, "\n| workload | fault | share | runs | PASS | FAIL (broken env) | infra error | false PASS | false FAIL | left after run | left after sweep | requests (faulted) | time |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
		for _, c := range cells {
			fmt.Fprintf(&b, "| %s | %s | %.0f%% | %d | %d | %d | %d | %d | %d | %d | %d | %d (%d) | %s |\n",
				c.workload, c.kind, 100*c.share, c.runs, c.pass, c.fail, c.infra, c.falsePas, c.falseFai, c.leftRun, c.leftSwp, c.requests, c.faulted, c.elapsed.Round(100*time.Millisecond))
		}
		t.Log(b.String())
	})
	for _, w := range workloads {
		for _, k := range kinds {
			for _, sh := range shares {
				t.Run(fmt.Sprintf("%s/%s/%.0f%%", w, k, 100*sh), func(t *testing.T) {
					t.Parallel()
					c := cell{kind: k, share: sh, workload: w}
					start := time.Now()
					faults := emulator.Faults{Seed: uint64(1000*sh) + uint64(k)*7 + uint64(len(w)), Latency: 20 * time.Millisecond}.WithShare(k, sh)
					switch w {
					case "verify":
						matrixVerify(t, &c, faults)
					case "e2e":
						matrixE2E(t, &c, faults, full)
					case "rotation":
						matrixRotation(t, &c, faults)
					}
					c.elapsed = time.Since(start)
					mu.Lock()
					cells = append(cells, c)
					mu.Unlock()
					if c.falsePas > 0 || c.falseFai > 0 || c.leftSwp > 0 {
						t.Errorf("%+v: false verdicts or leftovers", c)
					}
				})
			}
		}
	}
}

// verdict counts one summary: want is the honest verdict.
func (c *cell) verdict(t *testing.T, got report.Check, want report.Status) {
	c.runs++
	switch {
	case got.Status == report.Fail && got.Infra:
		c.infra++
	case got.Status == want && want == report.Pass:
		c.pass++
	case got.Status == want:
		c.fail++
	case got.Status == report.Pass:
		c.falsePas++
		t.Errorf("false PASS: %s", got.Reason)
	default:
		c.falseFai++
		t.Errorf("false %s: %s: %s", got.Status, got.ID, got.Reason)
	}
}

func (c *cell) count(e *emulator.Emulator) {
	n := e.Counts()
	c.requests += n.Total
	c.faulted += n.Faulted
}

// matrixVerify runs the read-only catalogue on a healthy environment (every
// check must PASS or WARN, or be an infrastructure error) and on one with
// PITR off (the pitr check must not PASS).
func matrixVerify(t *testing.T, c *cell, faults emulator.Faults) {
	ctx := context.Background()
	e := emulator.Start()
	t.Cleanup(e.Close)
	good, err := e.Seed(ctx, emulator.SeedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	bad, err := e.Seed(ctx, emulator.SeedOptions{Defects: []emulator.Defect{emulator.DefectPITROff}})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := e.Config(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cl := verify.NewClients(cfg) // the verifier's own retry settings
	e.ResetCounts()
	e.SetFaults(faults)
	defer e.SetFaults(emulator.Faults{})
	for _, s := range []*emulator.Seeded{good, bad} {
		r, err := verify.Run(ctx, cl, s.Target(), verify.Options{Timeout: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		for _, ch := range r.Checks {
			want := report.Pass
			if s == bad && ch.ID == verify.IDPITR {
				want = report.Fail
			}
			if ch.Status == report.Warn || ch.Status == report.Skip {
				if want == report.Fail {
					c.falsePas++
					t.Errorf("broken %s reads %s: %s", ch.ID, ch.Status, ch.Reason)
				}
				c.runs++
				continue
			}
			c.verdict(t, ch, want)
		}
	}
	c.count(e)
}

// matrixE2E runs cycles on a healthy environment (PASS or an
// infrastructure error) and one on an environment without a nonce (must
// not PASS), then sweeps (under the same faults) and counts what is left
// beside the seeded Oracle data.
func matrixE2E(t *testing.T, c *cell, faults emulator.Faults, full bool) {
	ctx := context.Background()
	env := setup(t, true)
	before := snapshot(t, env)
	cfg, err := env.Emulator.Config(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cl := e2e.NewClients(cfg) // the SDK's standard retryer, defaults
	runs := 2
	if full {
		runs = 3
	}
	env.Emulator.SetFaults(faults)
	for range runs {
		c.verdict(t, e2e.Check(ctx, cl, env.Target(), e2e.Options{TempDir: t.TempDir(), Timeout: time.Minute}), report.Pass)
	}
	broken := env.Target()
	broken.NoncePrefix = "/guardian/no-such-env/redaction_nonce_v"
	c.verdict(t, e2e.Check(ctx, cl, broken, e2e.Options{TempDir: t.TempDir(), Timeout: time.Minute}), report.Fail)
	env.Heal()
	c.leftRun = len(diff(before, snapshot(t, env)))
	// Sweep under the same faults; it is idempotent, so a sweep that
	// could not finish is simply run again, as the next e2e would.
	env.Emulator.SetFaults(faults)
	later := func() time.Time { return time.Now().Add(e2e.DefaultSweepAge + time.Minute) }
	for range 3 {
		if _, err := e2e.Sweep(ctx, cl, env.Target(), e2e.SweepOptions{Now: later}); err == nil {
			break
		}
	}
	env.Heal()
	if left := diff(before, snapshot(t, env)); len(left) > 0 {
		c.leftSwp = len(left)
		t.Errorf("left after the sweep: %v", left)
	}
	if gone := diff(snapshot(t, env), before); len(gone) > 0 {
		t.Errorf("Oracle data removed: %v", gone)
	}
	c.count(env.Emulator)
}

// matrixRotation runs 5 concurrent rotations from the newest version: a
// version created means exactly one process reports success and v(N+1)
// holds its value; the others are told "already rotated" or get an
// infrastructure error (unavailable); no version created means no
// success.
func matrixRotation(t *testing.T, c *cell, faults emulator.Faults) {
	ctx := context.Background()
	env := emulator.NewTestEnv(t, emulator.SeedOptions{SkipNonce: true})
	store := nonce.New(env.SSM(), env.Env, env.Target().NoncePrefix, env.Target().KMSKey, time.Hour)
	if _, _, err := store.Bootstrap(ctx); err != nil {
		t.Fatal(err)
	}
	cfg, err := env.Emulator.Config(ctx)
	if err != nil {
		t.Fatal(err)
	}
	client := ssm.NewFromConfig(cfg)
	for round := 1; round <= 3; round++ {
		env.Emulator.SetFaults(faults)
		const n = 5
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			st := *store
			st.Client = client
			st.Rand = bytes.NewReader(bytes.Repeat([]byte{byte(16*round + i)}, 32))
			wg.Go(func() { _, errs[i] = st.Rotate(ctx, round) })
		}
		wg.Wait()
		env.Heal()
		vs, err := store.Versions(ctx)
		if err != nil {
			t.Fatal(err)
		}
		created := len(vs) == round+1
		winners := []int{}
		for i, err := range errs {
			c.runs++
			switch {
			case err == nil:
				winners = append(winners, i)
			case errors.Is(err, nonce.ErrAlreadyRotated):
			case errors.Is(err, nonce.ErrUnavailable):
				c.infra++
			default:
				c.falseFai++
				t.Errorf("round %d: process %d: %v", round, i, err)
			}
		}
		switch {
		case len(winners) > 1 || (len(winners) == 1 && !created):
			c.falsePas++
			t.Errorf("round %d: winners %v, version created %t", round, winners, created)
		case len(winners) == 0 && created:
			c.falseFai++
			t.Errorf("round %d: v%d created but no process reports success", round, round+1)
		case len(winners) == 1:
			c.pass++
			if !holds(t, env, round+1, bytes.Repeat([]byte{byte(16*round + winners[0])}, 32)) {
				c.falsePas++
				t.Errorf("round %d: v%d does not hold the winner's value", round, round+1)
			}
		}
		if !created {
			// Nothing to rotate from next round.
			break
		}
	}
	c.count(env.Emulator)
}

// holds compares version n's value with the hex of raw without printing
// either.
func holds(t *testing.T, env *emulator.TestEnv, n int, raw []byte) bool {
	t.Helper()
	want := fmt.Sprintf("%x", raw)
	for _, v := range values(t, env) {
		if v.n == n {
			return v.value == want
		}
	}
	return false
}

type nonceValue struct {
	n     int
	value string
}

func values(t *testing.T, env *emulator.TestEnv) []nonceValue {
	t.Helper()
	var vs []nonceValue
	for _, p := range env.NonceParameters(t) {
		name := aws.ToString(p.Name)
		var n int
		if _, err := fmt.Sscanf(name[len(env.Target().NoncePrefix):], "%d", &n); err == nil {
			vs = append(vs, nonceValue{n: n, value: aws.ToString(p.Value)})
		}
	}
	return vs
}
