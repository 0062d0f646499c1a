package driver

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// Backend is a parsed Pulumi self-managed state backend URL: where the
// state, the update history and the stacks' locks live.
type Backend struct {
	// URL is the URL as configured (it may carry query parameters).
	URL string
	// Scheme is file, s3, gs, azblob or postgres.
	Scheme string
	// Dir is the state directory of a file:// backend.
	Dir string
	// Bucket and Prefix locate the state of a bucket backend (Prefix has
	// no leading or trailing slash; empty for the bucket's root).
	Bucket, Prefix string
	// Query are the URL's parameters (s3: endpoint, region, ...).
	Query url.Values
}

// backendSchemes are the self-managed backends the pulumi CLI opens;
// Pulumi Cloud (https://) is allowed too but has its own locking.
var backendSchemes = []string{"file", "s3", "gs", "azblob", "postgres", "https", "http"}

// s3BackendParams are the query parameters the CLI's S3 bucket driver
// (gocloud.dev s3blob over the AWS SDK v2, pulumi v3.274.1) accepts;
// anything else fails late inside the CLI with "unknown query parameter",
// so it is refused here, before any cloud call. disableSSL is the AWS SDK
// v1 name the CLI still translates.
var s3BackendParams = []string{
	"endpoint", "region", "profile", "use_path_style", "s3ForcePathStyle", "disable_https",
	"hostname_immutable", "dualstack", "fips", "rate_limiter_capacity", "anonymous", "role",
	"request_checksum_calculation", "response_checksum_validation", "awssdk",
	"ssetype", "kmskeyid", "accelerate", "disableSSL",
}

// kmsSecretsParams are the parameters of an awskms:// secrets provider
// (gocloud.dev secrets/awskms): the same AWS ones plus context_<key>.
var kmsSecretsParams = []string{
	"endpoint", "region", "profile", "hostname_immutable", "dualstack", "fips",
	"rate_limiter_capacity", "anonymous", "role", "awssdk",
}

// ParseBackend validates a backend URL and splits it. The error names the
// bad part and what is allowed.
func ParseBackend(raw string) (Backend, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return Backend{}, fmt.Errorf("backend URL %q: %w", redactURL(raw), err)
	}
	b := Backend{URL: raw, Scheme: u.Scheme, Query: u.Query()}
	if !slices.Contains(backendSchemes, u.Scheme) {
		return Backend{}, fmt.Errorf("backend URL %q: scheme %q is not a Pulumi backend; use one of %s (teams: s3://<bucket>/<prefix>)",
			redactURL(raw), u.Scheme, strings.Join(backendSchemes, "://, ")+"://")
	}
	switch u.Scheme {
	case "file":
		dir := strings.TrimPrefix(raw, "file://")
		if i := strings.IndexByte(dir, '?'); i >= 0 {
			dir = dir[:i]
		}
		if dir == "" {
			return Backend{}, fmt.Errorf("backend URL %q: no directory after file://", raw)
		}
		b.Dir = filepath.FromSlash(dir)
	case "s3", "gs", "azblob":
		if u.Host == "" {
			return Backend{}, fmt.Errorf("backend URL %q: no bucket name; want %s://<bucket>/<prefix>", redactURL(raw), u.Scheme)
		}
		b.Bucket = u.Host
		b.Prefix = strings.Trim(u.Path, "/")
	}
	if u.Scheme == "s3" {
		if bad := unknownParams(b.Query, s3BackendParams, ""); len(bad) > 0 {
			return Backend{}, fmt.Errorf("backend URL %q: unknown query parameter(s) %s; the S3 backend accepts %s",
				redactURL(raw), strings.Join(bad, ", "), strings.Join(s3BackendParams, ", "))
		}
		if e := b.Query.Get("endpoint"); e != "" && !strings.Contains(e, "://") && b.Query.Get("disableSSL") == "" {
			return Backend{}, fmt.Errorf("backend URL %q: endpoint %q has no scheme; write http://%s or https://%s", redactURL(raw), e, e, e)
		}
	}
	return b, nil
}

// IsLocal is true for a file:// backend (one machine, no sharing).
func (b Backend) IsLocal() bool { return b.Scheme == "file" }

// CheckSecretsProvider validates a --secrets-provider value: empty or
// passphrase (the backend's default), or an awskms://, gcpkms://,
// azurekeyvault:// or hashivault:// URL; awskms parameters are checked.
func CheckSecretsProvider(raw string) error {
	if raw == "" || raw == "passphrase" || raw == "default" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("secrets provider %q: %w", raw, err)
	}
	allowed := []string{"awskms", "gcpkms", "azurekeyvault", "hashivault", "base64key"}
	if !slices.Contains(allowed, u.Scheme) {
		return fmt.Errorf("secrets provider %q: want passphrase or a URL with scheme %s:// (teams: awskms://alias/<name>?region=<region>)",
			raw, strings.Join(allowed, "://, "))
	}
	if u.Scheme == "awskms" {
		if u.Host == "" && strings.Trim(u.Path, "/") == "" {
			return fmt.Errorf("secrets provider %q: no key; want awskms://<key id>, awskms://alias/<name> or awskms:///<key ARN>", raw)
		}
		if bad := unknownParams(u.Query(), kmsSecretsParams, "context_"); len(bad) > 0 {
			return fmt.Errorf("secrets provider %q: unknown query parameter(s) %s; awskms accepts %s and context_<key>",
				raw, strings.Join(bad, ", "), strings.Join(kmsSecretsParams, ", "))
		}
	}
	return nil
}

func unknownParams(q url.Values, allowed []string, allowedPrefix string) []string {
	var bad []string
	for k := range q {
		if slices.Contains(allowed, k) || (allowedPrefix != "" && strings.HasPrefix(k, allowedPrefix)) {
			continue
		}
		bad = append(bad, k)
	}
	sort.Strings(bad)
	return bad
}

// errNoLockSupport: reading and removing locks is implemented for the
// file and S3 backends, the two this project uses.
var errNoLockSupport = errors.New("lock inspection supports file:// and s3:// backends")
