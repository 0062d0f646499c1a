// Command md-emulator serves the in-process AWS emulator, seeded with one
// environment as SPEC section 2 describes (optionally with single
// defects), and prints the environment variables that point the CLI at it.
// It serves until interrupted:
//
//	go run ./cmd/md-emulator -env staging -queue > /tmp/emu.env &
//	env $(cat /tmp/emu.env) go run ./automation verify staging --from-env --json
//
//	go run ./cmd/md-emulator -env staging -defects pitr-off,nonce-string
package main

import (
	"context"
	"flag"
	"fmt"
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
	flag.Parse()

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
	for _, v := range e.Env(s) {
		fmt.Println(v)
	}
	fmt.Fprintf(os.Stderr, "md-emulator: %s seeded at %s (defects: %v); interrupt to stop\n", s.Env, e.URL, s.Defects)
	<-ctx.Done()
}

func defectNames() string {
	names := make([]string, len(emulator.AllDefects))
	for i, d := range emulator.AllDefects {
		names[i] = string(d)
	}
	return strings.Join(names, ", ")
}
