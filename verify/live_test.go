package verify_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/mirror-dissonance/mirror-infra/verify"
	"github.com/mirror-dissonance/mirror-infra/verify/e2e"
	"github.com/mirror-dissonance/mirror-infra/verify/target"
)

// TestLiveEnvironment verifies a real environment and runs the E2E cycle
// against it. Opt-in: it needs AWS credentials, so it only runs when
// MD_LIVE_ENV names the environment (the one live-test switch).
func TestLiveEnvironment(t *testing.T) {
	env := os.Getenv("MD_LIVE_ENV")
	if env == "" {
		t.Skip("live AWS test: set MD_LIVE_ENV=<environment> (e.g. staging) and AWS credentials to verify a deployed environment")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatalf("loading AWS configuration: %v", err)
	}
	tgt, err := target.FromEnv(ctx, env, nil)
	if err != nil {
		t.Fatal(err)
	}
	verify.RequireNoFailure(t, ctx, verify.NewClients(cfg), tgt, verify.Options{})
	e2e.AssertAllPass(t, ctx, e2e.NewClients(cfg), tgt, e2e.Options{})
}
