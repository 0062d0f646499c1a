package awsclient

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// STSAPI is the call Probe makes; it also finds the account for ARNs a
// target does not give.
type STSAPI interface {
	GetCallerIdentity(context.Context, *sts.GetCallerIdentityInput, ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

// ProbeTimeout bounds Probe's one call: an endpoint that does not answer
// it in this time is treated as unreachable.
const ProbeTimeout = 10 * time.Second

// UnreachableFix is the fix of an unreachable endpoint: what the caller
// sets, on the command line or in the aws.Config.
const UnreachableFix = "check the endpoint (AWS_ENDPOINT_URL, or the aws.Config's BaseEndpoint), the network and the credentials (AWS_PROFILE, the role assumed), then run again"

// Probe is the reachability test made before anything else: one
// sts:GetCallerIdentity with a single attempt, which needs no permission.
// It returns the account when the call succeeds. Only an error that says
// nothing answered (connection refused, no such host, no answer within
// ProbeTimeout or before ctx's deadline) or that the credentials are
// unusable is returned; any other failure returns "" and nil, leaving the
// calls that follow to retry.
func Probe(ctx context.Context, c STSAPI) (string, error) {
	pctx, cancel := context.WithTimeout(ctx, ProbeTimeout)
	defer cancel()
	out, err := c.GetCallerIdentity(pctx, &sts.GetCallerIdentityInput{}, func(o *sts.Options) { o.RetryMaxAttempts = 1 })
	if err == nil {
		if out == nil {
			return "", nil
		}
		return aws.ToString(out.Account), nil
	}
	switch {
	case IsUnreachable(err):
		return "", err
	case ctx.Err() != nil:
		return "", fmt.Errorf("no answer to sts:GetCallerIdentity before the run's context ended: %w", err)
	case pctx.Err() != nil:
		return "", fmt.Errorf("no answer to sts:GetCallerIdentity within %s: %w", ProbeTimeout, err)
	case IsCredentialError(err):
		return "", fmt.Errorf("the credentials were rejected or could not be loaded: %w", err)
	}
	return "", nil
}
