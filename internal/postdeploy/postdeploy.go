// Package postdeploy is what runs against an environment right after `up`
// (and in the offline rehearsal): bootstrap the redaction nonce when none
// exists, run the verifier catalogue, prove the rotation grace behaviour and
// run the E2E cycle. One function, so the driver and the rehearsal cannot
// drift apart.
package postdeploy

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/mirror-dissonance/mirror-infra/oracle/nonce"
	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/verify"
	"github.com/mirror-dissonance/mirror-infra/verify/e2e"
	"github.com/mirror-dissonance/mirror-infra/verify/target"
)

// BootstrapID is the id of the nonce bootstrap step.
const BootstrapID = "nonce-bootstrap"

// Options tune the post-deploy stage.
type Options struct {
	// Verify tunes the verifier; its NonceGrace also rules the rotation
	// check and, unless E2E sets its own, the E2E cycle.
	Verify verify.Options
	E2E    e2e.Options
	// SkipRotation leaves the nonce versions alone (the rotation check
	// creates a new version; the prune deletes old ones).
	SkipRotation bool
	// Rotation says when to rotate and what to prune.
	Rotation RotationPolicy
	// Now is the clock of the rotation policy (time.Now if nil).
	Now func() time.Time
	// SkipE2E skips the E2E cycle.
	SkipE2E bool
	// E2ETimeout bounds the E2E cycle (0: e2e.Options.Timeout, whose
	// default is 2 minutes); its cleanup runs even when the bound is hit,
	// for at most 10 s past it.
	E2ETimeout time.Duration
}

// Run runs every post-deploy step against tgt and returns all checks in
// order. A failing step never stops the next one.
func Run(ctx context.Context, cfg aws.Config, tgt target.Env, opts Options) []report.Check {
	tgt.Defaults()
	store := nonce.New(ssm.NewFromConfig(cfg), tgt.Environment, tgt.NoncePrefix, tgt.KMSKey, opts.Verify.NonceGrace)
	if opts.E2E.NonceGrace == 0 {
		opts.E2E.NonceGrace = opts.Verify.NonceGrace
	}
	checks := []report.Check{Bootstrap(ctx, store)}

	// The library's default leaves out the checks that write; the
	// post-deploy stage runs the alert check too, and rotation and the E2E
	// cycle as steps of their own below (with every step's result).
	if len(opts.Verify.Checks) == 0 {
		opts.Verify.Checks = verifyIDs()
	}
	rep, err := verify.Run(ctx, verify.NewClients(cfg), tgt, opts.Verify)
	if err != nil {
		checks = append(checks, report.Check{ID: "verify", Status: report.Fail, Reason: err.Error(),
			Fix: "the stack outputs do not describe a usable target; redeploy with this version of the program"})
	} else {
		checks = append(checks, rep.Checks...)
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	if opts.SkipRotation {
		checks = append(checks,
			report.Check{ID: nonce.CheckID, Status: report.Skip, Reason: "skipped by request (--skip-rotation)"},
			report.Check{ID: PruneID, Status: report.Skip, Reason: "skipped by request (--skip-rotation)"})
	} else {
		checks = append(checks,
			rotateIfDue(ctx, store, opts.Rotation, now()),
			prune(ctx, store, ssm.NewFromConfig(cfg), opts.Rotation, cmp.Or(max(opts.Verify.NonceGrace, 0), nonce.DefaultGrace), now()))
	}
	if opts.SkipE2E {
		checks = append(checks, report.Check{ID: e2e.CheckID, Status: report.Skip, Reason: "skipped by request (--skip-e2e)"})
	} else {
		if opts.E2ETimeout > 0 {
			opts.E2E.Timeout = opts.E2ETimeout
		}
		checks = append(checks, e2e.Run(ctx, e2e.NewClients(cfg), tgt, opts.E2E).Checks...)
	}
	return checks
}

// Bootstrap creates nonce v1 when no version exists (idempotent).
func Bootstrap(ctx context.Context, s *nonce.Store) report.Check {
	start := time.Now()
	v, created, err := s.Bootstrap(ctx)
	c := report.Check{ID: BootstrapID, Duration: time.Since(start)}
	switch {
	case err != nil:
		c.Status, c.Reason = report.Fail, fmt.Sprintf("bootstrapping the redaction nonce under %s: %v", s.Prefix, err)
		c.Fix = "check SSM and KMS permissions, then run `go run ./automation nonce rotate <stack> --from 0`"
		c.Infra = errors.Is(err, nonce.ErrUnavailable)
	case created:
		c.Status, c.Reason = report.Pass, fmt.Sprintf("created %s (SecureString under the environment key)", v.Name)
	default:
		c.Status, c.Reason = report.Pass, fmt.Sprintf("a valid version exists (%s); nothing created", v.Name)
	}
	return c
}

// verifyIDs are the catalogue's checks but rotation and e2e, in report
// order.
func verifyIDs() []string {
	return slices.DeleteFunc(verify.IDs(), func(id string) bool { return id == verify.IDRotation || id == verify.IDE2E })
}
