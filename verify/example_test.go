package verify_test

import (
	"context"
	"fmt"
	"log"

	"github.com/sethvargo/go-envconfig"

	"github.com/mirror-dissonance/mirror-infra/emulator"
	"github.com/mirror-dissonance/mirror-infra/verify"
)

// Verifying an environment: here a seeded emulator stands in for AWS; with
// a real account, build the clients from config.LoadDefaultConfig and the
// target from the stack's outputs (target.FromOutputs) or from the SPEC
// naming (target.FromEnv).
func ExampleRun() {
	ctx := context.Background()
	e := emulator.Start()
	defer e.Close()
	seeded, err := e.Seed(ctx, emulator.SeedOptions{})
	if err != nil {
		log.Fatal(err)
	}

	// The read-only checks: the alert check would publish a test alert.
	opts := verify.Options{Checks: verify.DefaultIDs()}
	r, err := verify.Run(ctx, verify.NewClients(seeded.Config), seeded.Target(), opts)
	if err != nil {
		log.Fatal(err)
	}
	for _, c := range r.Checks {
		fmt.Println(c.ID, c.Status)
	}
	fmt.Println("exit code", r.ExitCode())
	// Output:
	// tables PASS
	// sse PASS
	// ttl PASS
	// pitr PASS
	// kms PASS
	// alarms PASS
	// sns PASS
	// oidc PASS
	// nonce PASS
	// data SKIP
	// baselines PASS
	// exit code 0
}

// Options that the MD_* environment variables set, as the command line
// reads them; a nil lookuper reads the process environment.
func ExampleOptionsFromEnv() {
	opts, err := verify.OptionsFromEnv(context.Background(), envconfig.MapLookuper(map[string]string{
		"MD_ALARM_WAIT": "2m", "MD_FIRE_ALARM": "true", "MD_NONCE_GRACE": "30m",
	}))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(opts.AlarmWait, opts.FireAlarm, opts.NonceGrace)
	// Output: 2m0s true 30m0s
}
