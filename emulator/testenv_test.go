package emulator_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/mirror-dissonance/mirror-infra/emulator"
	"github.com/mirror-dissonance/mirror-infra/spec"
)

// TestNewTestEnvNamedTwice: a fixed name seeded by one test, then by the
// next (what `go test -count=2` of such a test does), works because the
// first test's cleanup tears its environment down; before the harness, the
// second Seed failed on resources left in kumo's process-wide state.
func TestNewTestEnvNamedTwice(t *testing.T) {
	for i := range 2 {
		t.Run("run", func(t *testing.T) {
			env := emulator.NewTestEnv(t, emulator.SeedOptions{Env: "staging", VerifyQueue: true})
			if env.Env != "staging" || env.Target().FPEventsTable != "mirror-dissonance-staging-fp-events" {
				t.Fatalf("run %d: seeded %s, target %+v", i, env.Env, env.Target())
			}
		})
	}
}

// TestNewTestEnvParallelIsolated: parallel tests each get their own
// environment; what one writes, the others do not see.
func TestNewTestEnvParallelIsolated(t *testing.T) {
	for _, name := range []string{"a", "b", "c", "d"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := emulator.NewTestEnv(t, emulator.SeedOptions{})
			ctx := context.Background()
			db := dynamodb.NewFromConfig(env.Config)
			tables, err := db.ListTables(ctx, &dynamodb.ListTablesInput{})
			if err != nil {
				t.Fatal(err)
			}
			mine := 0
			for _, tn := range tables.TableNames {
				for _, want := range env.Names.Tables() {
					if tn == want {
						mine++
					}
				}
			}
			if mine != len(spec.TableSchemas) {
				t.Errorf("found %d of my %d tables among %v", mine, len(spec.TableSchemas), tables.TableNames)
			}
			if _, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(env.Target().ConsentTable)}); err != nil {
				t.Errorf("my consent table: %v", err)
			}
		})
	}
}

// TestTeardownRemovesEverything: after Teardown the name can be seeded
// again in the same emulator, defects and all.
func TestTeardownRemovesEverything(t *testing.T) {
	e := emulator.Start()
	defer e.Close()
	ctx := context.Background()
	for _, opts := range []emulator.SeedOptions{
		{Env: "production", VerifyQueue: true},
		{Env: "production", Defects: []emulator.Defect{emulator.DefectTableMissing}},
		{Env: "production"},
	} {
		s, err := e.Seed(ctx, opts)
		if err != nil {
			t.Fatalf("seeding %+v: %v", opts, err)
		}
		if err := emulator.Teardown(ctx, s); err != nil {
			t.Fatalf("teardown after %+v: %v", opts, err)
		}
	}
}
