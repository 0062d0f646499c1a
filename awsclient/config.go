package awsclient

import (
	"cmp"
	"context"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"
)

// Defaults of Options. The largest legitimate answer we read is a page of
// a listing or a dashboard body (AWS caps both at a few MiB), so 64 MiB is
// far above it and far below what would hurt.
const (
	DefaultMaxResponseBytes = 64 << 20
	// DefaultAttemptTimeout bounds one HTTP attempt, body included: the
	// longest legitimate wait is SQS's 20 s long poll.
	DefaultAttemptTimeout = 30 * time.Second
	// DefaultRequestBudget bounds the requests (attempts) of one
	// configuration, i.e. one command run: a full verify or deploy makes a
	// few hundred.
	DefaultRequestBudget = 20000
	// DefaultMaxPages bounds the pages one listing follows.
	DefaultMaxPages = 1000
)

// Options tune the bounds; a zero field takes its default.
type Options struct {
	// Region overrides the region of the SDK's sources when set.
	Region string
	// MaxResponseBytes caps each response body read.
	MaxResponseBytes int64
	// AttemptTimeout bounds one attempt from sending to the body's end.
	AttemptTimeout time.Duration
	// RequestBudget bounds the attempts made through the configuration.
	RequestBudget int64
}

func (o Options) withDefaults() Options {
	o.MaxResponseBytes = cmp.Or(o.MaxResponseBytes, DefaultMaxResponseBytes)
	o.AttemptTimeout = cmp.Or(o.AttemptTimeout, DefaultAttemptTimeout)
	o.RequestBudget = cmp.Or(o.RequestBudget, DefaultRequestBudget)
	return o
}

// Load is the one constructor commands use: config.LoadDefaultConfig with
// the region of o (when set), then Bound. An error is a configuration
// problem (a broken profile, a bad AWS_MAX_ATTEMPTS), not an AWS failure.
func Load(ctx context.Context, o Options) (aws.Config, error) {
	var fns []func(*config.LoadOptions) error
	if o.Region != "" {
		fns = append(fns, config.WithRegion(o.Region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, fns...)
	if err != nil {
		return aws.Config{}, err // the caller says what it was loading for
	}
	return Bound(cfg, o), nil
}

// Bound returns cfg with the bounds of o: its HTTP client caps every
// response body and times out each attempt (body included), and every
// client built from it shares one request budget. Use it on a config from
// elsewhere (an emulator's); Load applies it already.
func Bound(cfg aws.Config, o Options) aws.Config {
	o = o.withDefaults()
	inner := cfg.HTTPClient
	switch c := inner.(type) {
	case nil:
		inner = awshttp.NewBuildableClient().WithTimeout(o.AttemptTimeout)
	case *awshttp.BuildableClient:
		inner = c.WithTimeout(o.AttemptTimeout)
	case *http.Client:
		cp := *c
		cp.Timeout = o.AttemptTimeout
		inner = &cp
	}
	cfg.HTTPClient = &cappedClient{inner: inner, max: o.MaxResponseBytes}
	b := &budget{limit: o.RequestBudget}
	cfg.APIOptions = append(append([]func(*middleware.Stack) error(nil), cfg.APIOptions...), b.add)
	return cfg
}

// budget counts the attempts of one configuration's clients.
type budget struct {
	limit int64
	used  atomic.Int64
}

func (b *budget) add(s *middleware.Stack) error {
	// In Finalize after the retry middleware: every attempt counts.
	return s.Finalize.Add(middleware.FinalizeMiddlewareFunc("RequestBudget", func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
		if n := b.used.Add(1); n > b.limit {
			return middleware.FinalizeOutput{}, middleware.Metadata{}, &BoundError{Bound: "request budget", Limit: b.limit, Unit: "requests",
				Hint: "one run never needs that many; an endpoint that keeps answering with more pages or errors is broken"}
		}
		return next.HandleFinalize(ctx, in)
	}), middleware.After)
}

// NewS3 is the S3 client from cfg. With a custom endpoint (an emulator,
// AWS_ENDPOINT_URL) buckets are addressed path-style, since such endpoints
// have no per-bucket host names, and the SDK's warning about responses
// without checksums, which emulators do not send, is off.
func NewS3(cfg aws.Config, optFns ...func(*s3.Options)) *s3.Client {
	custom := cfg.BaseEndpoint != nil
	return s3.NewFromConfig(cfg, append([]func(*s3.Options){func(o *s3.Options) {
		o.UsePathStyle = custom
		o.DisableLogOutputChecksumValidationSkipped = custom
	}}, optFns...)...)
}
