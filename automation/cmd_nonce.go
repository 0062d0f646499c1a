package main

import (
	"context"
	"errors"
	"flag"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/mirror-dissonance/mirror-infra/oracle/nonce"
	"github.com/mirror-dissonance/mirror-infra/report"
)

const nonceDetail = `The redaction nonce of SPEC 4: SecureString parameters
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

func runNonce(ctx context.Context, io stdio, args []string) int {
	fs := newFlagSet("nonce", io)
	var o options
	addCommon(fs, &o, false, true)
	from := fs.Int("from", -1, "rotate from version N (0 bootstraps v1)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return report.ExitOK
		}
		return report.ExitUsage
	}
	if len(pos) != 2 || (pos[0] != "rotate" && pos[0] != "check-rotation") {
		return usageErrorf(io, "nonce", "want \"rotate <stack> --from N\" or \"check-rotation <stack>\", got %q", pos)
	}
	if err := checkOutputs(fs); err != nil {
		return usageErrorf(io, "nonce", "%v", err)
	}
	sub, stack := pos[0], pos[1]
	// Version numbers have at most 9 digits (spec.NonceVersionOf); a larger
	// one is a typo, refused before any SSM call.
	if *from > 999999998 {
		return usageErrorf(io, "nonce", "--from %d: no such version (versions have at most 9 digits; use the newest version's number)", *from)
	}
	if sub == "rotate" && *from < 0 {
		return usageErrorf(io, "nonce", "rotate needs --from N (0 bootstraps v1)")
	}
	if sub == "check-rotation" && *from >= 0 {
		return usageErrorf(io, "nonce", "check-rotation rotates from the newest version; --from does not apply")
	}
	run, code, ok := openOracleRun(ctx, io, "nonce", o, stack)
	if !ok {
		return code
	}
	tgt := run.tgt
	store := nonce.New(ssm.NewFromConfig(run.aws), tgt.Environment, tgt.NoncePrefix, tgt.KMSKey, run.opts.NonceGrace)
	start := time.Now()
	r := &report.Report{Command: "nonce " + sub, Stack: stack, Started: start}
	if sub == "check-rotation" {
		r.Add(nonce.RotationCheck(ctx, store))
	} else {
		r.Add(nonce.RotateCheck(ctx, store, *from))
	}
	r.Elapsed = time.Since(start).Round(time.Millisecond).String()
	return emit(io, o, r)
}
