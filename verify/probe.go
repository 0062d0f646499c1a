package verify

import (
	"context"
	"fmt"
	"strings"

	"github.com/mirror-dissonance/mirror-infra/awsclient"
	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/spec"
)

// Details keys of the results Run gives when one infrastructure failure
// stops every check: the first check carries the cause and lists the
// stopped ids under DetailStopped; each other one names it under
// DetailStoppedBy instead of repeating the cause.
const (
	DetailStopped   = "stopped"
	DetailStoppedBy = "stoppedBy"
)

// probe is Probe for a run: it keeps the account it learns.
func (s *session) probe(ctx context.Context) error {
	acct, err := Probe(ctx, s.c.STS)
	if err != nil {
		return err
	}
	if acct != "" {
		s.account = func() (string, error) { return acct, nil }
	}
	return nil
}

// Probe is the reachability test Run (and the E2E cycle) make before
// anything else: one sts:GetCallerIdentity with a single attempt, which
// needs no permission. It returns the account when the call succeeds. Only
// an error that says nothing answered (connection refused, no such host,
// no answer within 10 s or before ctx's deadline) or that the credentials
// are unusable is returned; any other failure returns "" and nil, leaving
// the calls that follow to retry.
func Probe(ctx context.Context, c STSAPI) (string, error) { return awsclient.Probe(ctx, c) }

// UnreachableFix is the fix of an unreachable endpoint: what the caller
// sets, on the command line or in the aws.Config.
const UnreachableFix = awsclient.UnreachableFix

// Unreachable reports err, a failed Probe, once: on the first of ids, with
// every id it stopped listed under DetailStopped; each other id points at
// the first under DetailStoppedBy. All are FAIL with Infra set (exit 3).
func Unreachable(ids []string, err error) []report.Check {
	out := make([]report.Check, 0, len(ids))
	for i, id := range ids {
		if i == 0 {
			out = append(out, report.Check{ID: id, Status: report.Fail, Infra: true,
				Reason:  "AWS unreachable: " + err.Error(),
				Fix:     UnreachableFix,
				Details: map[string]string{DetailStopped: strings.Join(ids, ", ")}})
			continue
		}
		out = append(out, report.Check{ID: id, Status: report.Fail, Infra: true,
			Reason:  "not run: AWS unreachable (reported on " + ids[0] + ")",
			Details: map[string]string{DetailStoppedBy: ids[0]}})
	}
	return out
}

// ResolveRegion is the region a run uses: the target's when it sets one,
// otherwise the clients' (the aws.Config's), otherwise us-east-1. A target
// region that differs from the clients' is an error: the clients would
// look for the target's resources in the wrong region.
func ResolveRegion(targetRegion, clientRegion string) (string, error) {
	switch {
	case targetRegion != "" && clientRegion != "" && targetRegion != clientRegion:
		return "", fmt.Errorf("the target's region %s contradicts the AWS config's region %s: leave target.Env.Region empty (MD_AWS_REGION unset) to use the config's, or build the config with config.WithRegion(%q)",
			targetRegion, clientRegion, targetRegion)
	case targetRegion != "":
		return targetRegion, nil
	case clientRegion != "":
		return clientRegion, nil
	}
	return spec.DefaultRegion, nil
}
