package spec

import (
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// NonceBaseName is the parameter name of nonce versions without the
// version number: /guardian/<env>/redaction_nonce_v<N> (SPEC 4).
const NonceBaseName = "redaction_nonce_v"

// DefaultNonceGrace is how long a superseded nonce version stays valid.
const DefaultNonceGrace = time.Hour

var nonceValue = regexp.MustCompile(`^[0-9a-f]{64}$`)

// ValidNonceValue reports whether v has SPEC 4's format: 64 lowercase hex
// characters.
func ValidNonceValue(v string) bool { return nonceValue.MatchString(v) }

// NoncePathOf returns the parameter path of a nonce prefix
// ("/guardian/<env>/redaction_nonce_v" gives "/guardian/<env>/").
func NoncePathOf(prefix string) string { return strings.TrimSuffix(prefix, NonceBaseName) }

// NonceVersionOf returns N when name is prefix followed by decimal digits
// (N >= 1, no leading zero, so one version has one name). Anything else under the path is not a nonce version and does
// not count.
func NonceVersionOf(prefix, name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, prefix)
	if !ok || rest == "" || rest[0] == '0' || len(rest) > 9 {
		return 0, false
	}
	for _, c := range rest {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(rest)
	if err != nil || n < 1 {
		return 0, false
	}
	return n, true
}

// NonceVersion is one version as the grace rule sees it.
type NonceVersion struct {
	N       int
	Created time.Time
}

// ValidNonceVersions applies the grace rule of SPEC 4: at time now the
// newest version is valid, and each older version whose successor was
// created less than grace before now. It returns the valid version
// numbers, newest first.
func ValidNonceVersions(vs []NonceVersion, now time.Time, grace time.Duration) []int {
	if len(vs) == 0 {
		return nil
	}
	sorted := append([]NonceVersion(nil), vs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].N > sorted[j].N })
	out := []int{sorted[0].N}
	for i := 1; i < len(sorted); i++ {
		if now.Sub(sorted[i-1].Created) >= grace {
			break // this and every older version are past the grace period
		}
		out = append(out, sorted[i].N)
	}
	return out
}

// Rotation policy (SPEC 4): a deploy rotates only when the newest version is
// older than the rotation age, or when asked; pruning keeps the newest
// versions and never deletes a valid one.
const (
	DefaultNonceRotationDays = 90
	DefaultNonceKeepVersions = 3
	// MaxNonceGrace bounds the grace period: a longer one keeps a leaked
	// nonce valid for too long.
	MaxNonceGrace = 30 * 24 * time.Hour
)

// RotationDue reports whether a version created at newest is older than
// maxAge at now.
func RotationDue(newest, now time.Time, maxAge time.Duration) bool {
	return now.Sub(newest) >= maxAge
}

// PrunableNonceVersions returns the versions a prune may delete at now:
// those that are not valid (the grace rule) and not among the newest keep.
// A valid version is never returned, whatever keep is.
func PrunableNonceVersions(vs []NonceVersion, now time.Time, grace time.Duration, keep int) []int {
	valid := map[int]bool{}
	for _, n := range ValidNonceVersions(vs, now, grace) {
		valid[n] = true
	}
	sorted := append([]NonceVersion(nil), vs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].N > sorted[j].N })
	var out []int
	for i, v := range sorted {
		if i < keep || valid[v.N] {
			continue
		}
		out = append(out, v.N)
	}
	return out
}
