// Command md-emulator serves the in-process AWS emulator, seeded with one
// environment as SPEC section 2 describes (optionally with single
// defects), and prints the environment variables that point the CLI at it.
// It serves until interrupted:
//
//	go run ./cmd/md-emulator -env staging -queue > /tmp/emu.env &
//	env $(cat /tmp/emu.env) go run ./automation verify staging --from-env --json
//
//	go run ./cmd/md-emulator -env staging -defects pitr-off,nonce-string
//
// Faults (after seeding, so the environment is whole): shares of all
// requests, or rules by operation, of the kinds throttle, 5xx, drop (the
// connection closes before the request reaches the emulator), lost (the
// request takes effect, its answer is dropped) and latency:
//
//	go run ./cmd/md-emulator -lost 0.1 -latency-share 0.2 -latency 300ms
//	go run ./cmd/md-emulator -fault-rule lost:dynamodb.PutItem -fault-rule throttle:ReceiveMessage
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/mirror-dissonance/mirror-infra/emulator"
)

func main() {
	env := flag.String("env", "staging", "environment to seed")
	defects := flag.String("defects", "", "comma-separated defects to seed: "+defectNames())
	queue := flag.Bool("queue", false, "subscribe an SQS verification queue to the ops topic (MD_VERIFY_QUEUE_URL)")
	evaluate := flag.Duration("evaluate-alarms", -1, "evaluate alarms this long after they are created (negative: never)")
	faults, err := parseFaults(flag.CommandLine, os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "md-emulator: %v\n", err)
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	opts := emulator.SeedOptions{Env: *env, VerifyQueue: *queue}
	for _, d := range strings.Split(*defects, ",") {
		if d = strings.TrimSpace(d); d == "" {
			continue
		}
		defect, err := emulator.LookupDefect(d)
		if err != nil {
			fmt.Fprintf(os.Stderr, "md-emulator: %v\n", err)
			os.Exit(2)
		}
		opts.Defects = append(opts.Defects, defect)
	}
	e := emulator.Start()
	defer e.Close()
	e.EvaluateAlarms(*evaluate)
	seedCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	s, err := e.Seed(seedCtx, opts)
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "md-emulator: %v\n", err)
		os.Exit(1)
	}
	// Faults start after seeding: the environment is whole, its use is not.
	e.SetFaults(faults)
	for _, v := range e.Env(s) {
		fmt.Println(v)
	}
	fmt.Fprintf(os.Stderr, "md-emulator: %s seeded at %s (defects: %v; faults: %s); interrupt to stop\n", s.Env, e.URL, s.Defects, describeFaults(faults))
	<-ctx.Done()
}

func defectNames() string {
	names := make([]string, len(emulator.AllDefects))
	for i, d := range emulator.AllDefects {
		names[i] = string(d)
	}
	return strings.Join(names, ", ")
}

// faultFlags are the fault injector's flags.
type faultFlags struct {
	shares  map[emulator.FaultKind]*float64
	latency *time.Duration
	seed    *uint64
	svcs    *string
	rules   []emulator.FaultRule
}

// parseFaults defines the fault flags on fs, parses args and returns the
// validated configuration (the zero Faults when none is asked for).
func parseFaults(fs *flag.FlagSet, args []string, out io.Writer) (emulator.Faults, error) {
	fs.SetOutput(out)
	ff := faultFlags{shares: map[emulator.FaultKind]*float64{}}
	for _, k := range []struct {
		kind       emulator.FaultKind
		name, help string
	}{
		{emulator.FaultThrottle, "throttle", "share (0..1) of requests answered with a throttling error"},
		{emulator.FaultServerError, "5xx", "share (0..1) of requests answered HTTP 503"},
		{emulator.DropConnection, "drop", "share (0..1) of requests whose connection is dropped before they take effect"},
		{emulator.FaultLostResponse, "lost", "share (0..1) of requests that take effect but whose answer is dropped"},
		{emulator.FaultLatency, "latency-share", "share (0..1) of requests answered -latency late"},
	} {
		ff.shares[k.kind] = fs.Float64(k.name, 0, k.help)
	}
	ff.latency = fs.Duration("latency", emulator.DefaultLatency, "delay of the latency fault")
	ff.seed = fs.Uint64("fault-seed", 1, "seed of the fault sequence (same seed, same faults)")
	ff.svcs = fs.String("fault-services", "", "comma-separated signing names the shares apply to (dynamodb, ssm, sqs, ...); empty: all")
	fs.Func("fault-rule", "kind:operation[:body substring] fails every matching request (repeatable); kind is throttle, 5xx, drop, lost or latency", func(v string) error {
		parts := strings.SplitN(v, ":", 3)
		if len(parts) < 2 || parts[1] == "" {
			return fmt.Errorf("%q is not kind:operation[:body substring]", v)
		}
		k, err := emulator.ParseFaultKind(parts[0])
		if err != nil {
			return err
		}
		r := emulator.FaultRule{Kind: k, Operation: parts[1]}
		if len(parts) == 3 {
			r.BodyContains = parts[2]
		}
		ff.rules = append(ff.rules, r)
		return nil
	})
	if err := fs.Parse(args); err != nil {
		return emulator.Faults{}, err
	}
	f := emulator.Faults{Rules: ff.rules, Latency: *ff.latency, Seed: *ff.seed}
	for k, v := range ff.shares {
		f = f.WithShare(k, *v)
	}
	for _, s := range strings.Split(*ff.svcs, ",") {
		if s = strings.TrimSpace(s); s != "" {
			f.Services = append(f.Services, s)
		}
	}
	if err := f.Validate(); err != nil {
		return emulator.Faults{}, fmt.Errorf("faults: %w", err)
	}
	return f, nil
}

func describeFaults(f emulator.Faults) string {
	var parts []string
	for _, s := range []struct {
		name string
		v    float64
	}{{"throttle", f.ThrottleShare}, {"5xx", f.ServerErrorShare}, {"drop", f.DropShare}, {"lost", f.LostResponseShare}, {"latency", f.LatencyShare}} {
		if s.v > 0 {
			parts = append(parts, fmt.Sprintf("%s %.0f%%", s.name, 100*s.v))
		}
	}
	if f.LatencyShare > 0 {
		parts = append(parts, "latency "+f.Latency.String())
	}
	for _, r := range f.Rules {
		parts = append(parts, r.Kind.String()+" on "+r.Operation)
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}
