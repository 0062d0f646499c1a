package driver

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/mirror-dissonance/mirror-infra/report"
)

// The driver's overhead on preview: BenchmarkPreviewDriver (Driver.Preview:
// saved plan, event stream, gate resources, fingerprint, summaries) against
// BenchmarkPreviewCLIDirect (`pulumi preview` run by hand against a minimal
// language host serving the same inline program; no plan, no events).
// Same program (ten components), same stack, same machine. Compare the
// ns/op of the two:
//
//	go test -run '^$' -bench 'Preview' -benchtime 10x ./internal/driver/

// benchHost is the smallest language host that lets the CLI run an inline
// program: the CLI connects to it with --client.
type benchHost struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
	program pulumi.RunFunc
}

func (h *benchHost) GetRequiredPlugins(context.Context, *pulumirpc.GetRequiredPluginsRequest) (*pulumirpc.GetRequiredPluginsResponse, error) {
	return &pulumirpc.GetRequiredPluginsResponse{}, nil
}

func (h *benchHost) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: "1.0.0"}, nil
}

func (h *benchHost) InstallDependencies(*pulumirpc.InstallDependenciesRequest, pulumirpc.LanguageRuntime_InstallDependenciesServer) error {
	return nil
}

func (h *benchHost) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	info := pulumi.RunInfo{
		MonitorAddr:      req.GetMonitorAddress(),
		Config:           req.GetConfig(),
		ConfigSecretKeys: req.GetConfigSecretKeys(),
		Project:          req.GetProject(),
		Stack:            req.GetStack(),
		Parallel:         req.GetParallel(),
		DryRun:           req.GetDryRun(),
		Organization:     req.GetOrganization(),
	}
	if args := req.GetArgs(); len(args) > 0 {
		info.EngineAddr = args[0]
	}
	pctx, err := pulumi.NewContext(ctx, info)
	if err != nil {
		return nil, err
	}
	defer pctx.Close()
	if err := pulumi.RunWithContext(pctx, h.program); err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	return &pulumirpc.RunResponse{}, nil
}

func benchNames() []string {
	names := make([]string, 10)
	for i := range names {
		names[i] = fmt.Sprintf("c%d", i)
	}
	return names
}

// benchDriver opens a stack for the benchmarks; the first preview warms
// the backend and the CLI's caches.
func benchDriver(b *testing.B) *Driver {
	b.Helper()
	f := newFixture(b, "bench")
	d := f.open(b, "bench", things(benchNames()))
	if _, err := d.Preview(context.Background()); err != nil {
		b.Fatal(err)
	}
	return d
}

func BenchmarkPreviewDriver(b *testing.B) {
	d := benchDriver(b)
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		p, err := d.Preview(ctx)
		if err != nil {
			b.Fatal(err)
		}
		// The components plus the stack resource itself.
		if len(p.Changes) != len(benchNames())+1 {
			b.Fatalf("planned %d changes, want %d", len(p.Changes), len(benchNames())+1)
		}
	}
}

func BenchmarkPreviewCLIDirect(b *testing.B) {
	d := benchDriver(b)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := grpc.NewServer()
	pulumirpc.RegisterLanguageRuntimeServer(srv, &benchHost{program: things(benchNames())})
	go func() { _ = srv.Serve(lis) }()
	defer srv.Stop()

	s := d.Settings()
	cli, err := FindCLI(s.CLIPath, s.ProjectDir)
	if err != nil {
		b.Fatal(err)
	}
	env := append(os.Environ(),
		"PULUMI_BACKEND_URL="+s.BackendURL,
		"PULUMI_HOME="+s.PulumiHome,
		"PULUMI_SKIP_UPDATE_CHECK=true",
		"PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true",
		"PULUMI_CONFIG_PASSPHRASE="+s.EnvVars["PULUMI_CONFIG_PASSPHRASE"],
	)
	b.ResetTimer()
	for range b.N {
		cmd := exec.Command(cli, "preview", "--non-interactive", "--stack", s.Stack,
			"--exec-kind=auto.inline", "--client="+lis.Addr().String())
		cmd.Dir = s.WorkDir
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("pulumi preview: %v\n%s", err, out)
		}
	}
	b.StopTimer()
	if _, err := os.Stat(filepath.Join(s.WorkDir, "Pulumi.yaml")); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkPreviewEmptyProgram is what the real CLI needs to preview an
// empty inline program: the yardstick of the `check` command's budget (at
// most a tenth of this, see automation's BenchmarkCheckProcess).
func BenchmarkPreviewEmptyProgram(b *testing.B) {
	f := newFixture(b, "empty")
	d := f.open(b, "empty", things(nil))
	ctx := context.Background()
	if _, err := d.Preview(ctx); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if _, err := d.Preview(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkManyStacks previews N provider-free stacks (ten components
// each) one after another and concurrently (RunStacks, parallel N), on the
// local file backend and on the emulated S3 backend with awskms secrets.
// The concurrency ratio is s3/sequential over s3/concurrent; the shared
// backend's per-stack overhead is the ns/stack of s3/sequential minus
// file+kms/sequential (same secrets provider; file/sequential uses the
// passphrase provider, whose key derivation costs more than KMS calls):
//
//	go test -run '^$' -bench ManyStacks -benchtime 5x ./internal/driver/
func BenchmarkManyStacks(b *testing.B) {
	const n = 4
	for _, kind := range []backendKind{fileBackend, fileKMSBackend, s3Backend} {
		for _, mode := range []string{"sequential", "concurrent"} {
			if kind != s3Backend && mode == "concurrent" {
				continue // not the question here; keeps the run short
			}
			b.Run(fmt.Sprintf("%s/%s/N=%d", kind, mode, n), func(b *testing.B) {
				names := make([]string, n)
				for i := range names {
					names[i] = fmt.Sprintf("s%d", i)
				}
				f := newFixtureOn(b, kind, names...)
				ds := map[string]*Driver{}
				for _, s := range names {
					ds[s] = f.open(b, s, things(benchNames()))
					// Warm-up: creates the stack and fills the CLI's caches.
					if _, err := ds[s].Preview(context.Background()); err != nil {
						b.Fatal(err)
					}
				}
				parallel := 1
				if mode == "concurrent" {
					parallel = n
				}
				b.ResetTimer()
				for range b.N {
					rs := RunStacks(context.Background(), names, parallel, func(ctx context.Context, s string) *report.Report {
						r := &report.Report{Stack: s}
						if _, err := ds[s].Preview(ctx); err != nil {
							r.Add(ErrorCheck("preview", err))
						}
						return r
					})
					for _, r := range rs {
						if !r.Passed() {
							b.Fatalf("preview of %s: %+v", r.Stack, r.Checks)
						}
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/stack")
			})
		}
	}
}
