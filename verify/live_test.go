package verify_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/verify"
	"github.com/mirror-dissonance/mirror-infra/verify/e2e"
	"github.com/mirror-dissonance/mirror-infra/verify/target"
)

// TestLiveEnvironment verifies a real environment and runs the E2E cycle
// against it. Opt-in: it needs AWS credentials, so it only runs with
// MD_LIVE=1 (MD_LIVE_ENV picks the environment, default staging).
func TestLiveEnvironment(t *testing.T) {
	if os.Getenv("MD_LIVE") != "1" {
		t.Skip("live AWS test: set MD_LIVE=1 (and MD_LIVE_ENV, AWS credentials) to verify a deployed environment")
	}
	env := os.Getenv("MD_LIVE_ENV")
	if env == "" {
		env = "staging"
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
	for _, c := range e2e.Run(ctx, e2e.NewClients(cfg), tgt, e2e.Options{}) {
		if c.Status == report.Fail {
			t.Errorf("%s: %s", c.ID, c.Reason)
		}
	}
}
