package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/spf13/cobra"

	"github.com/mirror-dissonance/mirror-infra/oracle/nonce"
	"github.com/mirror-dissonance/mirror-infra/report"
)

const nonceLong = `The redaction nonce of SPEC 4: SecureString parameters
/guardian/<env>/redaction_nonce_v<N> under the environment CMK, 64 lowercase
hex characters from a cryptographic source, created only (never
overwritten). Values are never printed.

  nonce rotate <stack> --from 0   bootstrap: create v1 when no version exists;
                                  idempotent when a valid version exists
  nonce rotate <stack> --from N   create v(N+1); fails ("already rotated") when
                                  it exists, so two concurrent rotations
                                  cannot both succeed; vN stays valid for the
                                  grace period (MD_NONCE_GRACE, default 1h)
  nonce check-rotation <stack>    the verifier's "rotation" check: rotate from
                                  the newest version, then prove that text
                                  signed with the old version is accepted
                                  within the grace period and rejected after
                                  it (evaluated at instants measured from the
                                  new version's creation time, no waiting),
                                  and that the new version is accepted

Targets: as for e2e (stack outputs, or --from-env with MD_NONCE_PREFIX,
MD_KMS_KEY, MD_NONCE_GRACE, MD_AWS_REGION).

Exit: 0 done, 1 refused (already rotated, version missing, malformed nonce),
2 bad usage, 3 SSM unreachable or failing.`

// nonceTimeout bounds a rotation or its check: a few SSM calls.
const nonceTimeout = 2 * time.Minute

// nonceOptions are rotate's (sub "rotate") or check-rotation's.
type nonceOptions struct {
	common
	sub    string
	target targetFlags
	from   int
}

func newCmdNonce(a *app) *cobra.Command {
	c := &cobra.Command{
		Use:   "nonce rotate|check-rotation <stack>",
		Short: "the redaction nonce: rotate or check the rotation",
		Long:  nonceLong,
		Args:  cobra.ArbitraryArgs,
		// Flags of the subcommands given without one reach RunE's message.
		FParseErrWhitelist: cobra.FParseErrWhitelist{UnknownFlags: true},
		// "nonce" alone, or with a word that is not a subcommand, is bad
		// usage (cobra would print the help and succeed).
		RunE: func(c *cobra.Command, args []string) error {
			a.cmd = c
			got := "nothing"
			if len(args) > 0 {
				got = fmt.Sprintf("%q%s", strings.Join(args, " "), didYouMean(c.SuggestionsFor(args[0])))
			}
			return syntaxErrorf("want \"nonce rotate <stack> --from N\" or \"nonce check-rotation <stack>\", got %s", got)
		},
	}
	c.AddCommand(a.register(nonceRotateSpec, &nonceOptions{sub: "rotate"}), a.register(nonceCheckRotationSpec, &nonceOptions{sub: "check-rotation"}))
	return c
}

var (
	nonceRotateSpec = commandSpec{use: "rotate <stack> --from N", short: "rotate the redaction nonce from version N (--from 0 bootstraps v1)", long: nonceLong,
		timeout: nonceTimeout, bounds: "the rotation"}
	nonceCheckRotationSpec = commandSpec{use: "check-rotation <stack>", short: "rotate from the newest version and prove the grace period holds", long: nonceLong,
		timeout: nonceTimeout, bounds: "the rotation and its check"}
)

func (o *nonceOptions) run(ctx context.Context, a *app, c *cobra.Command, stack string) (*report.Report, error) {
	if o.sub == "rotate" && !c.Flags().Changed("from") {
		return nil, syntaxErrorf("rotate needs --from N (0 bootstraps v1)")
	}
	return a.runNonce(ctx, c, o, o.sub, stack)
}

func (o *nonceOptions) flags(c *cobra.Command, _ environ) {
	o.target.add(c)
	if o.sub == "rotate" {
		c.Flags().IntVar(&o.from, "from", 0, "rotate from version `N`, the newest (0 bootstraps v1); required")
	}
}

func (a *app) runNonce(ctx context.Context, c *cobra.Command, o *nonceOptions, sub, stack string) (*report.Report, error) {
	// Version numbers have at most 9 digits (spec.NonceVersionOf); a larger
	// one is a typo, refused before any SSM call.
	if o.from > 999999998 || o.from < 0 {
		return nil, usageErrorf("--from %d: no such version (versions have at most 9 digits; use the newest version's number)", o.from)
	}
	run, err := a.openOracle(ctx, c, stack, o.target, nil)
	if err != nil {
		return nil, err
	}
	tgt := run.tgt
	store := nonce.New(ssm.NewFromConfig(run.aws), tgt.Environment, tgt.NoncePrefix, tgt.KMSKey, run.opts.NonceGrace)
	start := time.Now()
	r := &report.Report{Command: "nonce " + sub, Stack: stack, Started: start}
	if sub == "check-rotation" {
		r.Add(nonce.RotationCheck(ctx, store))
	} else {
		r.Add(nonce.RotateCheck(ctx, store, o.from))
	}
	r.Elapsed = time.Since(start).Round(time.Millisecond).String()
	return r, nil
}
