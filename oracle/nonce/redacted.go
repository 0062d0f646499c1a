package nonce

import (
	"crypto/hmac"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/mirror-dissonance/mirror-infra/spec"
)

// Brand is the __brand of every RedactedText.
const Brand = "RedactedText"

// RedactedText is the Oracle's redacted text (reference
// redaction/redactor-v3.ts) field for field: MAC is the lowercase hex
// HMAC-SHA256 of the original text, keyed with the nonce's 64-character hex
// string; Value is the text after redaction; OriginalLength the original's
// length in UTF-16 code units (JavaScript's String.length); Version the
// nonce version that signed it, "v<N>". Its JSON is the Oracle's JSON.
type RedactedText struct {
	Brand          string `json:"__brand"`
	MAC            string `json:"__mac"`
	Value          string `json:"value"`
	OriginalLength int    `json:"originalLength"`
	Version        string `json:"version"`
}

// VersionName is the Oracle's name of version n: "v<N>", what its loader
// takes from the end of the parameter name /guardian/<env>/redaction_nonce_v<N>.
func VersionName(n int) string { return "v" + strconv.Itoa(n) }

// ParseVersionName is the inverse of VersionName.
func ParseVersionName(s string) (int, error) {
	rest, ok := strings.CutPrefix(s, "v")
	n, ok2 := spec.NonceVersionOf("", rest)
	if !ok || !ok2 {
		return 0, fmt.Errorf("nonce version %q is not v<N>", s)
	}
	return n, nil
}

// jsLength is String.length in JavaScript: UTF-16 code units.
func jsLength(s string) int { return len(utf16.Encode([]rune(s))) }

// Redact signs original with the newest version, as the Oracle's redact()
// does, and carries redacted (original with the redaction rules applied) as
// the value.
func (s *Set) Redact(original, redacted string) RedactedText {
	v := s.versions[0].N
	return RedactedText{
		Brand:          Brand,
		MAC:            hex.EncodeToString(mac(s.keys[v], []byte(original))),
		Value:          redacted,
		OriginalLength: jsLength(original),
		Version:        VersionName(v),
	}
}

// VerifyRedacted checks rt against the original text as the Oracle's
// verifyRedactedText does: the brand must be right and the MAC must match
// one valid version; every valid version is tried, whatever rt.Version
// says, each compared in constant time. It returns the version that
// matched.
func (s *Set) VerifyRedacted(rt RedactedText, original string) (int, error) {
	if rt.Brand != Brand || rt.MAC == "" {
		return 0, fmt.Errorf("not a redacted text (brand %q, MAC present %v): %w", rt.Brand, rt.MAC != "", ErrInvalidSignature)
	}
	got, err := hex.DecodeString(rt.MAC)
	if err != nil {
		return 0, fmt.Errorf("redacted text MAC is not hex: %w", ErrInvalidSignature)
	}
	matched := 0
	// No early exit: the time taken does not depend on which version
	// matched.
	for _, v := range s.versions {
		if hmac.Equal(mac(s.keys[v.N], []byte(original)), got) && matched == 0 {
			matched = v.N
		}
	}
	if matched == 0 {
		return 0, fmt.Errorf("redacted text (%s) matches none of the %s: %w", rt.Version, s, ErrInvalidSignature)
	}
	return matched, nil
}

// NewSet builds a valid set from values by version number, for validating
// offline (fixtures, tools that already hold the values). Each value must
// be 64 lowercase hex characters; errors never show a value.
func NewSet(values map[int]string) (*Set, error) {
	if len(values) == 0 {
		return nil, fmt.Errorf("no version given: %w", ErrNoValidNonce)
	}
	set := &Set{keys: map[int][]byte{}}
	for n, v := range values {
		if n < 1 {
			return nil, fmt.Errorf("version %d: versions start at 1: %w", n, ErrMalformed)
		}
		if !spec.ValidNonceValue(v) {
			return nil, fmt.Errorf("v%d: value is not 64 lowercase hex characters: %w", n, ErrMalformed)
		}
		set.versions = append(set.versions, Version{N: n, Name: VersionName(n)})
		set.keys[n] = []byte(v)
	}
	// Newest first, as ValidSetAt orders them.
	sort.Slice(set.versions, func(i, j int) bool { return set.versions[i].N > set.versions[j].N })
	return set, nil
}
