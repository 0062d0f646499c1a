package awsclient

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

type stsFunc func() (*sts.GetCallerIdentityOutput, error)

func (f stsFunc) GetCallerIdentity(context.Context, *sts.GetCallerIdentityInput, ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error) {
	return f()
}

func TestProbe(t *testing.T) {
	for _, tc := range []struct {
		name, account, errWant string
		fn                     stsFunc
	}{
		{name: "answers", account: "111122223333",
			fn: func() (*sts.GetCallerIdentityOutput, error) {
				return &sts.GetCallerIdentityOutput{Account: aws.String("111122223333")}, nil
			}},
		{name: "empty answer", fn: func() (*sts.GetCallerIdentityOutput, error) { return nil, nil }},
		{name: "refused", errWant: "refused",
			fn: func() (*sts.GetCallerIdentityOutput, error) {
				return nil, &net.OpError{Op: "dial", Err: errors.New("connection refused")}
			}},
		{name: "credentials", errWant: "credentials were rejected",
			fn: func() (*sts.GetCallerIdentityOutput, error) {
				return nil, &smithy.GenericAPIError{Code: "InvalidClientTokenId"}
			}},
		{name: "throttled is left to the calls that follow",
			fn: func() (*sts.GetCallerIdentityOutput, error) {
				return nil, &smithy.GenericAPIError{Code: "Throttling"}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			acct, err := Probe(context.Background(), tc.fn)
			if acct != tc.account {
				t.Errorf("account %q, want %q", acct, tc.account)
			}
			if (err != nil) != (tc.errWant != "") || (err != nil && !strings.Contains(err.Error(), tc.errWant)) {
				t.Errorf("error %v, want one containing %q", err, tc.errWant)
			}
		})
	}
}
