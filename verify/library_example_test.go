package verify_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"testing"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/mirror-dissonance/mirror-infra/emulator"
	"github.com/mirror-dissonance/mirror-infra/verify"
	"github.com/mirror-dissonance/mirror-infra/verify/target"
)

// A test in another repository: its own seeded environment, the read-only
// checks (WARN tolerated), and one check on its own. t may be any
// TestingT, e.g. terratest's.
func ExampleRequireNoFailure() {
	var t *testing.T // the test function's argument
	env := emulator.NewTestEnv(t, emulator.SeedOptions{})
	ctx := context.Background()
	c := verify.NewClients(env.Config)
	verify.RequireNoFailure(t, ctx, c, env.Target(), verify.Options{})
	verify.AssertCheck(t, ctx, c, env.Target(), verify.IDKMS)
}

// Pointing at a live environment: the region and credentials come from
// the aws.Config (here a role assumed for the run); the names from the
// naming of the environment, each overridable by an MD_* variable.
func ExampleNewClients() {
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion("eu-west-1"))
	if err != nil {
		log.Fatal(err)
	}
	cfg.Credentials = stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg),
		"arn:aws:iam::123456789012:role/mirror-dissonance-staging-oracle")
	tgt, err := target.FromEnv(ctx, "staging", nil) // Region empty: eu-west-1
	if err != nil {
		log.Fatal(err)
	}
	r, err := verify.Run(ctx, verify.NewClients(cfg), tgt, verify.Options{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("exit code", r.ExitCode())
}

// The *E functions return the failures instead of failing the test: one
// *CheckError per check that did not pass, one *InfraError for an
// unreachable endpoint, naming the checks it stopped.
func ExampleRequireAllPassE() {
	var t *testing.T // the test function's argument
	env := emulator.NewTestEnv(t, emulator.SeedOptions{Defects: []emulator.Defect{emulator.DefectTTLOff}})
	_, err := verify.RequireAllPassE(t, context.Background(), verify.NewClients(env.Config), env.Target(), verify.Options{})
	var ce *verify.CheckError
	if errors.As(err, &ce) {
		fmt.Println(ce.Check.ID, ce.Check.Status)
	}
}

// The target's region, when set, must agree with the config's.
func ExampleResolveRegion() {
	fmt.Println(verify.ResolveRegion("", "eu-west-1"))
	_, err := verify.ResolveRegion("us-east-1", "eu-west-1")
	fmt.Println(err != nil)
	// Output:
	// eu-west-1 <nil>
	// true
}
