package main

import (
	"flag"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/mirror-dissonance/mirror-infra/emulator"
)

// TestParseFaults: every fault kind has a flag, and bad values are refused
// (exit 2 in main). Mutation check: drop the "lost" entry of parseFaults'
// table and the "lost share" row fails.
func TestParseFaults(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want func(emulator.Faults) bool
		err  string
	}{
		{"none", nil, func(f emulator.Faults) bool {
			return f.Validate() == nil && len(f.Rules) == 0 && f.LostResponseShare == 0
		}, ""},
		{"lost share", []string{"-lost", "0.3"}, func(f emulator.Faults) bool { return f.LostResponseShare == 0.3 }, ""},
		{"drop share", []string{"-drop", "0.1"}, func(f emulator.Faults) bool { return f.DropShare == 0.1 }, ""},
		{"throttle and 5xx", []string{"-throttle", "0.1", "-5xx", "0.2"}, func(f emulator.Faults) bool { return f.ThrottleShare == 0.1 && f.ServerErrorShare == 0.2 }, ""},
		{"latency", []string{"-latency-share", "0.5", "-latency", "1s"}, func(f emulator.Faults) bool { return f.LatencyShare == 0.5 && f.Latency == time.Second }, ""},
		{"services and seed", []string{"-drop", "0.1", "-fault-services", "dynamodb, ssm", "-fault-seed", "9"}, func(f emulator.Faults) bool {
			return len(f.Services) == 2 && f.Services[1] == "ssm" && f.Seed == 9
		}, ""},
		{"rules", []string{"-fault-rule", "lost:dynamodb.PutItem:fp-events", "-fault-rule", "throttle:ReceiveMessage"}, func(f emulator.Faults) bool {
			return len(f.Rules) == 2 && f.Rules[0] == emulator.FaultRule{Kind: emulator.FaultLostResponse, Operation: "dynamodb.PutItem", BodyContains: "fp-events"} && f.Rules[1].Kind == emulator.FaultThrottle
		}, ""},
		{"share above one", []string{"-lost", "1.5"}, nil, "outside 0..1"},
		{"shares add past one", []string{"-lost", "0.6", "-drop", "0.6"}, nil, "add up"},
		{"negative latency", []string{"-latency", "-1s"}, nil, "negative"},
		{"unknown kind", []string{"-fault-rule", "slow:PutItem"}, nil, "fault kind"},
		{"rule without operation", []string{"-fault-rule", "lost"}, nil, "kind:operation"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := flag.NewFlagSet("md-emulator", flag.ContinueOnError)
			f, err := parseFaults(fs, tc.args, io.Discard)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil || !tc.want(f) {
				t.Fatalf("parseFaults(%q) = %+v, %v", tc.args, f, err)
			}
		})
	}
}
