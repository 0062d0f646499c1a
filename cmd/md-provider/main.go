// Command md-provider serves the stand-in AWS provider (internal/provider)
// on a loopback port and prints the line that makes the Pulumi engine
// attach to it instead of the AWS plugin. It creates, reads, updates and
// deletes the real resources wherever the standard AWS SDK configuration
// points (AWS_ENDPOINT_URL for an emulator). It serves until interrupted:
//
//	export AWS_ENDPOINT_URL=http://127.0.0.1:4566 AWS_REGION=us-east-1
//	go run ./cmd/md-provider > /tmp/provider.env &
//	export $(cat /tmp/provider.env)   # PULUMI_DEBUG_PROVIDERS=aws:<port>
//	go run ./automation deploy staging --yes --install-plugins=false
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/mirror-dissonance/mirror-infra/internal/provider"
	"github.com/mirror-dissonance/mirror-infra/internal/rehearse"
)

func main() {
	addr := flag.String("listen", "127.0.0.1:0", "loopback address to serve on (port 0: any free port)")
	verbose := flag.Bool("verbose", false, "log every resource operation to stderr")
	flag.Parse()
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		fmt.Fprintf(os.Stderr, "md-provider: loading the AWS configuration: %v\n", err)
		os.Exit(2)
	}
	if cfg.Region == "" {
		fmt.Fprintln(os.Stderr, "md-provider: no AWS region configured (set AWS_REGION)")
		os.Exit(2)
	}
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		fmt.Fprintf(os.Stderr, "md-provider: reading the account (sts GetCallerIdentity) at the configured endpoint: %v\n", err)
		os.Exit(3)
	}
	calls := provider.NewCalls()
	calls.Attach(&cfg)
	p := provider.New(rehearse.NewProvisioner(cfg, *id.Account), calls, log)
	srv, err := provider.Serve(p, *addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "md-provider: %v\n", err)
		os.Exit(3)
	}
	defer srv.Close()
	fmt.Printf("PULUMI_DEBUG_PROVIDERS=%s\n", srv.DebugProviders())
	fmt.Fprintf(os.Stderr, "md-provider: serving the stand-in AWS provider v%s on 127.0.0.1:%d for account %s in %s; Ctrl-C stops it\n",
		provider.Version, srv.Port, *id.Account, cfg.Region)
	<-ctx.Done()
}
