package drift_test

import (
	"fmt"
	"testing"

	"github.com/mirror-dissonance/mirror-infra/oracle/drift"
)

// TestDriftIsAboveTheThresholdNotAtIt: a magnitude equal to the threshold
// is not drift; one file more is (SPEC: drift is magnitude > threshold).
func TestDriftIsAboveTheThresholdNotAtIt(t *testing.T) {
	cases := []struct {
		files, changed int
		threshold      float64 // 0: DefaultThreshold
		drift          bool
	}{
		{20, 3, 0, false}, // 0.15 = DefaultThreshold
		{20, 4, 0, true},
		{20, 2, 0, false},
		{10, 2, 0.2, false},
		{10, 3, 0.2, true},
		{4, 4, 1, false}, // everything changed is not above a threshold of 1
		{4, 1, 0.2, true},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%d of %d at %v", tc.changed, tc.files, tc.threshold), func(t *testing.T) {
			root, paths := tree(t, tc.files)
			b, err := drift.Snapshot(root, paths, t0)
			if err != nil {
				t.Fatal(err)
			}
			for i := range tc.changed {
				write(t, root, paths[i], "changed")
			}
			res, err := drift.Compare(root, b, tc.threshold)
			if err != nil {
				t.Fatal(err)
			}
			if res.Changed != tc.changed || res.Drift != tc.drift {
				t.Errorf("magnitude %v against %v: drift %t (%d changed), want %t", res.Magnitude, res.Threshold, res.Drift, res.Changed, tc.drift)
			}
		})
	}
}
