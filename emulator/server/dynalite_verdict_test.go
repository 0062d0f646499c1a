package server_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/mirror-dissonance/mirror-infra/emulator"
)

// dynaliteLenient is the one case where dynalite accepts what DynamoDB
// rejects (see emulator's dynalite doc).
const dynaliteLenient = "empty index key value"

// TestSameVerdictsAsDynalite sends the strictness request stream to
// dynalite (an independent DynamoDB, npm dynalite 4.0.0) and to our
// emulator: each request is accepted by both or rejected by both with
// ValidationException. It skips only when node is missing.
func TestSameVerdictsAsDynalite(t *testing.T) {
	t.Parallel()
	ours := emulator.NewTestEnv(t, emulator.SeedOptions{SkipNonce: true})
	theirs := emulator.NewDynaliteTestEnv(t, emulator.SeedOptions{SkipNonce: true})
	t.Logf("DynamoDB of the second environment: dynalite at %s", theirs.Dynalite.URL)
	ctx := context.Background()
	for _, c := range strictCases() {
		t.Run(c.name, func(t *testing.T) {
			got := verdict(c.call(ctx, dynamodb.NewFromConfig(ours.Config), ours.Target().FPEventsTable))
			want := verdict(c.call(ctx, dynamodb.NewFromConfig(theirs.Config), theirs.Target().FPEventsTable))
			if c.name == dynaliteLenient {
				// dynalite accepts it; DynamoDB's documentation says key
				// attributes of indexes cannot be empty, and we follow it.
				if want != "accept" || got != "ValidationException" {
					t.Errorf("our emulator: %s; dynalite: %s (want ValidationException; accept)", got, want)
				}
				return
			}
			if got != want {
				t.Errorf("our emulator: %s; dynalite: %s", got, want)
			}
		})
	}
}
