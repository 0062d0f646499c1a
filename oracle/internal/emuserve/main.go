// Command emuserve starts the in-process AWS emulator seeded with one
// environment (tables, key, nonce v1, ...), prints the environment variables
// that point the CLI at it, and serves until interrupted. It is for trying
// the e2e and nonce commands by hand:
//
//	go run ./oracle/internal/emuserve staging > /tmp/emu.env &
//	env $(cat /tmp/emu.env) go run ./automation e2e staging --from-env --json
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/mirror-dissonance/mirror-infra/emulator"
)

func main() {
	env := "staging"
	if len(os.Args) > 1 {
		env = os.Args[1]
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	e := emulator.Start()
	defer e.Close()
	s, err := e.Seed(ctx, emulator.SeedOptions{Env: env})
	if err != nil {
		fmt.Fprintf(os.Stderr, "emuserve: seeding %s: %v\n", env, err)
		os.Exit(1)
	}
	for _, v := range e.Env(s) {
		fmt.Println(v)
	}
	fmt.Println("MD_KMS_KEY=" + s.KeyArn)
	fmt.Fprintf(os.Stderr, "emuserve: %s seeded at %s; interrupt to stop\n", env, e.URL)
	<-ctx.Done()
}
