package emulator

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/mirror-dissonance/mirror-infra/spec"
)

// dynalite (the npm package dynalite 4.0.0, installed by `make tools` into
// tools/dynalite from the committed lock file) is a second DynamoDB that we
// did not write: it reproduces DynamoDB's validation and paging, so a test
// that passes against both does not rest on our emulator's leniency.
//
// What dynalite lacks, so checks of it run against our emulator only:
// point-in-time recovery (UpdateContinuousBackups and
// DescribeContinuousBackups are unknown operations), TTL
// (UpdateTimeToLive, DescribeTimeToLive), and the reporting of SSE
// (DescribeTable shows no SSEDescription) and deletion protection
// (DeletionProtectionEnabled is neither kept nor enforced). Tables made for
// dynalite are therefore created with their keys and index only. dynalite
// also accepts an empty string as a global secondary index key value,
// which DynamoDB rejects (our emulator follows DynamoDB).

// DynaliteDirEnv names a directory holding node_modules/dynalite, when it
// is not the module's tools/dynalite.
const DynaliteDirEnv = "MD_DYNALITE_DIR"

// Dynalite is a running dynalite process.
type Dynalite struct {
	// URL is its endpoint.
	URL string
	cmd *exec.Cmd
}

// StartDynalite starts dynalite for the test and stops it when the test
// ends. It skips the test when node is not installed (and only then: a
// missing dynalite install fails it, run `make tools`).
func StartDynalite(t testing.TB) *Dynalite {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("dynalite needs node, which is not installed: this test runs against our emulator only")
	}
	cli, err := dynaliteCLI()
	if err != nil {
		t.Fatalf("dynalite: %v (run make tools)", err)
	}
	d, err := startDynalite(node, cli)
	if err != nil {
		t.Fatalf("dynalite: %v", err)
	}
	t.Cleanup(d.stop)
	return d
}

// dynaliteCLI finds dynalite's cli.js: under $MD_DYNALITE_DIR, or
// tools/dynalite of the module (searched upwards from the working
// directory, which is a package's directory in tests).
func dynaliteCLI() (string, error) {
	rel := filepath.Join("node_modules", "dynalite", "cli.js")
	if d := os.Getenv(DynaliteDirEnv); d != "" {
		p := filepath.Join(d, rel)
		_, err := os.Stat(p)
		return p, err
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("finding the working directory: %w", err)
	}
	for {
		p := filepath.Join(dir, "tools", "dynalite", rel)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("tools/dynalite/node_modules/dynalite not found above the working directory")
		}
		dir = parent
	}
}

func startDynalite(node, cli string) (*Dynalite, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	// Tables become ACTIVE at once: tests do not wait for CREATING.
	cmd := exec.Command(node, cli, "--host", "127.0.0.1", "--port", strconv.Itoa(port),
		"--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("piping dynalite's output: %w", err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", cli, err)
	}
	d := &Dynalite{URL: "http://127.0.0.1:" + strconv.Itoa(port), cmd: cmd}
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "listening") {
				ready <- true
			}
		}
		ready <- false
	}()
	select {
	case ok := <-ready:
		if ok {
			return d, nil
		}
		d.stop()
		return nil, errors.New("dynalite exited before listening")
	case <-time.After(20 * time.Second):
		d.stop()
		return nil, errors.New("dynalite did not listen within 20s")
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (d *Dynalite) stop() {
	if d.cmd.Process != nil {
		_ = d.cmd.Process.Kill()
		_ = d.cmd.Wait()
	}
}

// Route returns cfg with DynamoDB sent to dynalite and every other service
// left where cfg sends it, as AWS_ENDPOINT_URL_DYNAMODB does for a process.
func (d *Dynalite) Route(cfg aws.Config) aws.Config {
	return RouteDynamoDB(cfg, d.URL)
}

// RouteDynamoDB returns cfg with DynamoDB clients sent to endpoint: the
// SDK's service-specific endpoint setting, given as a config source.
func RouteDynamoDB(cfg aws.Config, endpoint string) aws.Config {
	out := cfg.Copy()
	out.ConfigSources = append([]any{serviceEndpoint{sdkID: "DynamoDB", url: endpoint}}, cfg.ConfigSources...)
	return out
}

// serviceEndpoint is a config source naming one service's base endpoint.
type serviceEndpoint struct{ sdkID, url string }

// GetServiceBaseEndpoint is what the SDK asks config sources.
func (s serviceEndpoint) GetServiceBaseEndpoint(_ context.Context, sdkID string) (string, bool, error) {
	if sdkID == s.sdkID {
		return s.url, true, nil
	}
	return "", false, nil
}

// NewDynaliteTestEnv is NewTestEnv with DynamoDB on dynalite: the
// environment is seeded in our emulator as usual, and its three tables are
// created again in a dynalite of the test's own (keys and index only: see
// what dynalite lacks above); Config routes DynamoDB to dynalite and every
// other service to the emulator. It skips the test when node is missing.
func NewDynaliteTestEnv(t testing.TB, opts SeedOptions) *TestEnv {
	t.Helper()
	d := StartDynalite(t)
	env := NewTestEnv(t, opts)
	// A copy: the teardown keeps the emulator's config.
	routed := *env.Seeded
	routed.Config = d.Route(env.Seeded.Config)
	ctx, cancel := context.WithTimeout(context.Background(), seedTimeout)
	defer cancel()
	db := dynamodb.NewFromConfig(routed.Config)
	for _, ts := range spec.TableSchemas {
		if _, err := db.CreateTable(ctx, createTableInput(routed.Names.Table(ts.Suffix), ts)); err != nil {
			t.Fatalf("dynalite: creating table %s: %v", routed.Names.Table(ts.Suffix), err)
		}
	}
	return &TestEnv{Seeded: &routed, Emulator: env.Emulator, Dynalite: d}
}
