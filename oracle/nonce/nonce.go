// Package nonce manages the redaction nonce of SPEC 4: versioned SecureString
// parameters /guardian/<env>/redaction_nonce_v<N> in SSM, created only, never
// overwritten, so that a rotation keeps the previous version valid for a
// grace period. It signs with the newest version and validates against the
// valid set in constant time, and fails closed when no valid nonce can be
// read. Nonce values never leave this package: not in logs, errors or
// String/Format output.
package nonce

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/mirror-dissonance/mirror-infra/awsclient"
	"github.com/mirror-dissonance/mirror-infra/oracle/internal/clock"
	"github.com/mirror-dissonance/mirror-infra/spec"
)

// SSMAPI is the part of the SSM client the store uses.
type SSMAPI interface {
	GetParametersByPath(ctx context.Context, in *ssm.GetParametersByPathInput, optFns ...func(*ssm.Options)) (*ssm.GetParametersByPathOutput, error)
	PutParameter(ctx context.Context, in *ssm.PutParameterInput, optFns ...func(*ssm.Options)) (*ssm.PutParameterOutput, error)
}

// DefaultGrace is how long a superseded version stays valid (SPEC 4).
const DefaultGrace = spec.DefaultNonceGrace

var (
	// ErrAlreadyRotated means the version a rotation would create exists:
	// another rotation from the same version won.
	ErrAlreadyRotated = errors.New("already rotated")
	// ErrNoValidNonce means no version is valid: the caller must fail closed.
	ErrNoValidNonce = errors.New("no valid redaction nonce")
	// ErrUnavailable means SSM could not be read or written.
	ErrUnavailable = errors.New("nonce store unavailable")
	// ErrMalformed means a version that would be valid holds something other
	// than a SecureString of 64 lowercase hex characters.
	ErrMalformed = errors.New("malformed nonce parameter")
	// ErrVersionNotFound means a rotation named a version that does not exist.
	ErrVersionNotFound = errors.New("nonce version not found")
	// ErrInvalidSignature means a signature matches no valid version.
	ErrInvalidSignature = errors.New("signature does not match any valid nonce version")
)

// Store reads and writes the nonce versions of one environment.
type Store struct {
	Client SSMAPI
	// Prefix is "/guardian/<env>/redaction_nonce_v".
	Prefix string
	// KeyID is the environment CMK (ARN, id or alias) new versions are
	// encrypted under.
	KeyID string
	// Grace is how long a superseded version stays valid (DefaultGrace if 0).
	Grace time.Duration
	// Now is the clock (time.Now if nil).
	Now func() time.Time
	// Rand is the source of new values (crypto/rand if nil).
	Rand io.Reader
	// Tags are put on new versions; New sets spec.NonceTags.
	Tags map[string]string
}

// New returns the store of environment env's versions under prefix,
// encrypted under keyID: every version it creates carries the
// environment's tags (spec.NonceTags). It is the one constructor;
// NewFromConfig builds the client and calls it.
func New(client SSMAPI, env, prefix, keyID string, grace time.Duration) *Store {
	return &Store{Client: client, Prefix: prefix, KeyID: keyID, Grace: grace, Tags: spec.NonceTags(env)}
}

func (s *Store) grace() time.Duration {
	if s.Grace > 0 {
		return s.Grace
	}
	return DefaultGrace
}

// Version describes one nonce version; it never holds the value.
type Version struct {
	N    int
	Name string
	// Created is the parameter's LastModifiedDate; versions are never
	// overwritten, so it is the creation time.
	Created time.Time
	// Malformed says why the parameter is unusable ("" when it is fine).
	Malformed string
}

// entry is a version with its value; it stays inside the package.
type entry struct {
	Version
	// key is the HMAC key: the value's 64 hex characters as bytes.
	key []byte
}

// path is the SSM path holding the versions, without a trailing slash.
func (s *Store) path() string {
	i := strings.LastIndexByte(s.Prefix, '/')
	if i <= 0 {
		return s.Prefix
	}
	return s.Prefix[:i]
}

// name is the parameter name of version n.
func (s *Store) name(n int) string { return s.Prefix + strconv.Itoa(n) }

// list reads every nonce version under the path, oldest first. Parameters
// whose names are not prefix+<digits> are ignored.
func (s *Store) list(ctx context.Context) ([]entry, error) {
	var out []entry
	in := &ssm.GetParametersByPathInput{Path: aws.String(s.path()), WithDecryption: aws.Bool(true), MaxResults: aws.Int32(10)}
	// A store that always answers with a next token must not keep us
	// asking for ever (292,694 requests in 150 s, issue 21).
	pages := awsclient.Pages{What: "ssm:GetParametersByPath " + s.path()}
	for {
		if err := pages.Next(); err != nil {
			return nil, fmt.Errorf("listing nonce versions under %s: %w: %w", s.path(), ErrUnavailable, err)
		}
		page, err := s.Client.GetParametersByPath(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("listing nonce versions under %s: %w: %w", s.path(), ErrUnavailable, err)
		}
		for _, p := range page.Parameters {
			n, ok := spec.NonceVersionOf(s.Prefix, aws.ToString(p.Name))
			if !ok {
				continue
			}
			e := entry{Version: Version{N: n, Name: aws.ToString(p.Name), Created: aws.ToTime(p.LastModifiedDate)}}
			v := aws.ToString(p.Value)
			switch {
			case p.Type != ssmtypes.ParameterTypeSecureString:
				e.Malformed = fmt.Sprintf("type %s, want SecureString", p.Type)
			case !spec.ValidNonceValue(v):
				e.Malformed = "value is not 64 lowercase hex characters"
			default:
				// The Oracle keys its HMAC with the hex string itself
				// (createHmac('sha256', nonce)), not the 32 bytes it
				// encodes; so do we, or signatures would not cross.
				e.key = []byte(v)
			}
			out = append(out, e)
		}
		if aws.ToString(page.NextToken) == "" {
			break
		}
		in.NextToken = page.NextToken
	}
	sort.Slice(out, func(i, j int) bool { return out[i].N < out[j].N })
	return out, nil
}

// Versions lists the nonce versions, oldest first, without their values.
func (s *Store) Versions(ctx context.Context) ([]Version, error) {
	es, err := s.list(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Version, len(es))
	for i, e := range es {
		out[i] = e.Version
	}
	return out, nil
}

// ValidSet is the valid set at the store's current time.
func (s *Store) ValidSet(ctx context.Context) (*Set, error) {
	return s.ValidSetAt(ctx, clock.Now(s.Now))
}

// ValidSetAt computes the valid set at time at: the newest version, plus
// every older version whose successor was created less than the grace
// period before at. A malformed newest version fails the whole computation
// (fail closed: there is nothing to sign with); a malformed older one was
// never valid and is left out, so rotating over it is a way out at once.
func (s *Store) ValidSetAt(ctx context.Context, at time.Time) (*Set, error) {
	es, err := s.list(ctx)
	if err != nil {
		return nil, err
	}
	if len(es) == 0 {
		return nil, fmt.Errorf("no version under %s: %w", s.Prefix, ErrNoValidNonce)
	}
	vs := make([]spec.NonceVersion, len(es))
	byN := make(map[int]entry, len(es))
	for i, e := range es {
		vs[i] = spec.NonceVersion{N: e.N, Created: e.Created}
		byN[e.N] = e
	}
	set := &Set{keys: map[int][]byte{}}
	for _, n := range spec.ValidNonceVersions(vs, at, s.grace()) {
		e := byN[n]
		if e.Malformed != "" && n == es[len(es)-1].N {
			return nil, fmt.Errorf("%s: %s: %w", e.Name, e.Malformed, ErrMalformed)
		}
		if e.Malformed != "" {
			continue
		}
		set.versions = append(set.versions, e.Version)
		set.keys[e.N] = e.key
	}
	return set, nil
}

// Rotate creates version from+1 with a new random value, create-only: when
// it (or any newer version) already exists the error wraps ErrAlreadyRotated
// and nothing changes. Version from must exist and be the newest. A
// version that holds the value this call generated is this call's win,
// even when the answer to its write was lost: Rotate then succeeds.
func (s *Store) Rotate(ctx context.Context, from int) (Version, error) {
	if from < 1 {
		return Version{}, fmt.Errorf("rotating from v%d: versions start at 1 (bootstrap with from 0)", from)
	}
	es, err := s.list(ctx)
	if err != nil {
		return Version{}, err
	}
	found := false
	for _, e := range es {
		if e.N == from {
			found = true
		}
		// Only the newest version may be rotated: rotating an older one
		// would create a version older than the newest and confuse the
		// grace period (and after a deleted version, fill the gap).
		if e.N > from {
			return Version{}, fmt.Errorf("rotating %s from v%d: v%d exists: %w", s.Prefix, from, e.N, ErrAlreadyRotated)
		}
	}
	if !found {
		return Version{}, fmt.Errorf("rotating %s from v%d: %w", s.Prefix, from, ErrVersionNotFound)
	}
	return s.create(ctx, from+1)
}

// Bootstrap makes sure a valid version exists: when there is none it
// creates v1; when the newest version is well formed it changes nothing
// (created is false); when the newest is malformed (never valid) it
// creates the next version, the way out that keeps the Oracle running.
func (s *Store) Bootstrap(ctx context.Context) (v Version, created bool, err error) {
	es, err := s.list(ctx)
	if err != nil {
		return Version{}, false, err
	}
	next := 1
	if len(es) > 0 {
		newest := es[len(es)-1]
		if newest.Malformed == "" {
			return newest.Version, false, nil
		}
		next = newest.N + 1
	}
	v, err = s.create(ctx, next)
	if errors.Is(err, ErrAlreadyRotated) {
		// A concurrent bootstrap won; accept its version if it is well
		// formed.
		es, lerr := s.list(ctx)
		if lerr != nil {
			return Version{}, false, lerr
		}
		for _, e := range es {
			if e.N == next && e.Malformed == "" {
				return e.Version, false, nil
			}
		}
		return Version{}, false, fmt.Errorf("%s: created concurrently but unusable: %w", s.name(next), ErrMalformed)
	}
	return v, err == nil, err
}

// create puts version n create-only under the CMK.
func (s *Store) create(ctx context.Context, n int) (Version, error) {
	r := s.Rand
	if r == nil {
		r = rand.Reader
	}
	raw := make([]byte, 32)
	if _, err := io.ReadFull(r, raw); err != nil {
		return Version{}, fmt.Errorf("generating nonce v%d: %w", n, err)
	}
	in := &ssm.PutParameterInput{
		Name:        aws.String(s.name(n)),
		Value:       aws.String(hex.EncodeToString(raw)),
		Type:        ssmtypes.ParameterTypeSecureString,
		Overwrite:   aws.Bool(false),
		Description: aws.String(fmt.Sprintf("Mirror Dissonance redaction nonce v%d (create-only; rotate to v%d)", n, n+1)),
	}
	if s.KeyID != "" {
		in.KeyId = aws.String(s.KeyID)
	}
	keys := make([]string, 0, len(s.Tags))
	for k := range s.Tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		in.Tags = append(in.Tags, ssmtypes.Tag{Key: aws.String(k), Value: aws.String(s.Tags[k])})
	}
	_, err := s.Client.PutParameter(ctx, in)
	if err == nil {
		return Version{N: n, Name: s.name(n), Created: clock.Now(s.Now)}, nil
	}
	// PutParameter with Overwrite false is create-only, so the SDK may
	// retry it safely; but a retry after a lost answer meets our own
	// version, and a transport error may hide a write that took effect.
	// Either way the version's value says who won: ours only if it holds
	// the value this call generated.
	var exists *ssmtypes.ParameterAlreadyExists
	v, state, lerr := s.owner(ctx, n, aws.ToString(in.Value))
	switch {
	case lerr == nil && state == ownedByUs:
		return v, nil
	case errors.As(err, &exists), lerr == nil && state == ownedByOther:
		return Version{}, fmt.Errorf("creating %s: %w", s.name(n), ErrAlreadyRotated)
	default:
		// The SDK's error never carries the request's value.
		return Version{}, fmt.Errorf("creating %s: %w: %w", s.name(n), ErrUnavailable, err)
	}
}

// ownership is what owner found under a version's name.
type ownership int

const (
	absent ownership = iota
	ownedByUs
	ownedByOther
)

// owner reads version n and tells whether it holds value (compared in
// constant time; the value never leaves this function).
func (s *Store) owner(ctx context.Context, n int, value string) (Version, ownership, error) {
	es, err := s.list(ctx)
	if err != nil {
		return Version{}, absent, err
	}
	for _, e := range es {
		if e.N != n {
			continue
		}
		if e.key != nil && hmac.Equal(e.key, []byte(value)) {
			return e.Version, ownedByUs, nil
		}
		return Version{}, ownedByOther, nil
	}
	return Version{}, absent, nil
}

// Set is the valid set at one moment. Its String and Format never show
// values.
type Set struct {
	versions []Version // newest first
	keys     map[int][]byte
}

// Versions returns the valid versions, newest first.
func (s *Set) Versions() []Version { return append([]Version(nil), s.versions...) }

// Newest is the version signatures are made with.
func (s *Set) Newest() Version { return s.versions[0] }

// String lists the version numbers only.
func (s *Set) String() string {
	ns := make([]string, len(s.versions))
	for i, v := range s.versions {
		ns[i] = "v" + strconv.Itoa(v.N)
	}
	return "nonce set [" + strings.Join(ns, " ") + "]"
}

// Format keeps %v, %+v and %#v from reaching the values.
func (s *Set) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, s.String()) }

// Signature is an HMAC-SHA256 with the version that made it.
type Signature struct {
	Version int
	MAC     []byte
}

// String is "v<N>:<hex mac>".
func (g Signature) String() string {
	return "v" + strconv.Itoa(g.Version) + ":" + hex.EncodeToString(g.MAC)
}

// ParseSignature parses the String form.
func ParseSignature(s string) (Signature, error) {
	v, mac, ok := strings.Cut(s, ":")
	if !ok || !strings.HasPrefix(v, "v") {
		return Signature{}, fmt.Errorf("signature %q is not v<N>:<hex>", s)
	}
	n, err := strconv.Atoi(v[1:])
	if err != nil || n < 1 {
		return Signature{}, fmt.Errorf("signature version %q is not a positive number", v)
	}
	m, err := hex.DecodeString(mac)
	if err != nil || len(m) != sha256.Size {
		return Signature{}, fmt.Errorf("signature MAC is not %d hex bytes", sha256.Size)
	}
	return Signature{Version: n, MAC: m}, nil
}

// Sign signs msg with the newest version.
func (s *Set) Sign(msg []byte) Signature {
	v := s.versions[0].N
	return Signature{Version: v, MAC: mac(s.keys[v], msg)}
}

// Verify accepts a signature made by any version of the set; the MAC is
// compared in constant time.
func (s *Set) Verify(msg []byte, sig Signature) error {
	key, ok := s.keys[sig.Version]
	if !ok {
		return fmt.Errorf("v%d is not in the %s: %w", sig.Version, s, ErrInvalidSignature)
	}
	if !hmac.Equal(mac(key, msg), sig.MAC) {
		return fmt.Errorf("MAC mismatch for v%d: %w", sig.Version, ErrInvalidSignature)
	}
	return nil
}

func mac(key, msg []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write(msg)
	return h.Sum(nil)
}
