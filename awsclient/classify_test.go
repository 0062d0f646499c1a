package awsclient

import (
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/aws/smithy-go"
)

func TestClassify(t *testing.T) {
	api := func(code string) error {
		return fmt.Errorf("operation failed: %w", &smithy.GenericAPIError{Code: code, Message: "m"})
	}
	dial := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	for _, tc := range []struct {
		name                                    string
		err                                     error
		unreachable, creds, notFound, forbidden bool
		code                                    string
	}{
		{name: "nil", err: nil},
		{name: "refused", err: fmt.Errorf("x: %w", dial), unreachable: true},
		{name: "no such host", err: &net.DNSError{Err: "no such host", Name: "x"}, unreachable: true},
		{name: "read timeout is not unreachable", err: &net.OpError{Op: "read", Err: errors.New("timeout")}},
		{name: "expired token", err: api("ExpiredToken"), creds: true, code: "ExpiredToken"},
		{name: "no provider", err: errors.New("failed to retrieve credentials"), creds: true},
		{name: "missing table", err: api("ResourceNotFoundException"), notFound: true, code: "ResourceNotFoundException"},
		{name: "missing parameter", err: api("ParameterNotFound"), notFound: true, code: "ParameterNotFound"},
		{name: "denied", err: api("AccessDeniedException"), forbidden: true, code: "AccessDeniedException"},
		{name: "throttled", err: api("ThrottlingException"), code: "ThrottlingException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := IsUnreachable(tc.err); got != tc.unreachable {
				t.Errorf("IsUnreachable = %v, want %v", got, tc.unreachable)
			}
			if tc.err != nil {
				if got := IsCredentialError(tc.err); got != tc.creds {
					t.Errorf("IsCredentialError = %v, want %v", got, tc.creds)
				}
			}
			if got := IsNotFound(tc.err); got != tc.notFound {
				t.Errorf("IsNotFound = %v, want %v", got, tc.notFound)
			}
			if got := IsAccessDenied(tc.err); got != tc.forbidden {
				t.Errorf("IsAccessDenied = %v, want %v", got, tc.forbidden)
			}
			if got := Code(tc.err); got != tc.code {
				t.Errorf("Code = %q, want %q", got, tc.code)
			}
		})
	}
}
