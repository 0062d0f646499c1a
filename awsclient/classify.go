package awsclient

import (
	"errors"
	"net"
	"strings"

	"github.com/aws/smithy-go"
)

// The error classification the verifier and the E2E cycle share: what an
// error from an AWS call says about the endpoint, the credentials or the
// resource.

// Code is the AWS error code of err ("" when err carries none).
func Code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// IsUnreachable reports an error that says nothing answered: no such
// host, or a refused or failed connection.
func IsUnreachable(err error) bool {
	var op *net.OpError
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return true
	}
	return errors.As(err, &op) && op.Op == "dial"
}

// credentialCodes are STS answers that no retry can fix.
var credentialCodes = map[string]bool{
	"InvalidClientTokenId": true, "ExpiredToken": true, "ExpiredTokenException": true,
	"UnrecognizedClientException": true, "SignatureDoesNotMatch": true, "InvalidAccessKeyId": true,
}

// IsCredentialError reports rejected credentials, or a credential provider
// that failed before any request was sent.
func IsCredentialError(err error) bool {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return credentialCodes[ae.ErrorCode()]
	}
	// The SDK reports a missing or failing credential provider before any
	// request is sent; it has no exported type.
	return strings.Contains(err.Error(), "credentials")
}

// notFoundCodes are AWS error codes that mean the resource does not exist.
var notFoundCodes = map[string]bool{
	"ResourceNotFoundException": true, "TableNotFoundException": true, "NotFoundException": true,
	"NoSuchEntity": true, "NotFound": true, "ParameterNotFound": true, "ResourceNotFound": true,
	"AWS.SimpleQueueService.NonExistentQueue": true, "QueueDoesNotExist": true,
}

// IsNotFound reports an answer saying the resource does not exist.
func IsNotFound(err error) bool { return notFoundCodes[Code(err)] }

// IsAccessDenied reports an answer refusing the caller's permissions.
func IsAccessDenied(err error) bool {
	c := Code(err)
	return strings.Contains(c, "AccessDenied") || c == "UnauthorizedOperation" || c == "AuthorizationError"
}
