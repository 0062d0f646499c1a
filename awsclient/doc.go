// Package awsclient builds the AWS SDK configuration every command uses:
// the SDK's standard sources (AWS_ENDPOINT_URL, profiles, web identity,
// AWS_MAX_ATTEMPTS) plus bounds, so a broken or hostile endpoint can cost
// neither all memory nor unbounded time: a cap on every response body, a
// timeout per attempt that covers reading the body, a budget of requests
// per configuration, and a bound on the pages a listing follows. It also
// holds the one S3 client rule (path-style on a custom endpoint).
package awsclient
