package rehearse

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/mirror-dissonance/mirror-infra/stacks/stackconfig"
)

// BenchmarkEngineRehearsal is the whole engine rehearsal (every
// scenario); compare with BenchmarkMockRehearsal:
//
//	go test ./internal/rehearse -run '^$' -bench 'Rehearsal$' -benchtime 1x
func BenchmarkEngineRehearsal(b *testing.B) {
	cli := engineCLI(b)
	for b.Loop() {
		rep, err := Engine(context.Background(), EngineOptions{Stack: "staging", ProjectDir: filepath.Join("..", ".."), CLIPath: cli})
		if err != nil {
			b.Fatal(err)
		}
		if code := rep.ExitCode(); code != 0 {
			b.Fatalf("engine rehearsal exit %d: %s", code, rep.Summary())
		}
	}
}

// BenchmarkMockRehearsal is the mock rehearsal (rehearse.Run) of the
// same stack.
func BenchmarkMockRehearsal(b *testing.B) {
	cfg, err := stackconfig.Load(filepath.Join("..", ".."), "staging")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Run(context.Background(), cfg, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
