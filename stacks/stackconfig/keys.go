package stackconfig

import (
	"fmt"
	"sort"
	"strings"
)

// Namespaces of a stack file's config keys besides ours: the AWS
// provider's (only the keys the program reads, plus the credentials a
// provider decrypts) and Pulumi's own.
const (
	awsNamespace    = "aws"
	pulumiNamespace = "pulumi"
)

// awsKeys are the aws: keys a stack file may set.
var awsKeys = map[string]bool{KeyRegion: true, "aws:accessKey": true, "aws:secretKey": true, "aws:token": true}

// stackFileKeys are the top-level keys of a Pulumi stack file.
var stackFileKeys = []string{"config", "encryptedkey", "encryptionsalt", "environment", "secretsprovider"}

// checkKey says what is wrong with config key k of a stack file; "" when
// it is known. Each answer names the key and, when one is close, what it
// was probably meant to be.
func checkKey(k string) string {
	ns, _, namespaced := strings.Cut(k, ":")
	known := KnownKeys()
	switch {
	case !namespaced:
		if q := qualified(k); contains(known, q) {
			return fmt.Sprintf("%s has no namespace: did you mean %s?", k, q)
		}
		return fmt.Sprintf("%s has no namespace (keys are %s:<key> or %s:<key>)%s", k, Namespace, awsNamespace, didYouMean(qualified(k), known))
	case ns == Namespace:
		if contains(known, k) {
			return ""
		}
		return fmt.Sprintf("unknown key %s%s", k, didYouMean(k, known))
	case ns == awsNamespace:
		if awsKeys[k] {
			return ""
		}
		return fmt.Sprintf("%s is not an AWS provider key this program reads (it reads %s; credentials come from the SDK's sources)%s", k, KeyRegion, didYouMean(k, known))
	case ns == pulumiNamespace:
		return ""
	}
	return fmt.Sprintf("unknown namespace %q in %s (known: %s, %s, %s)%s", ns, k, Namespace, awsNamespace, pulumiNamespace, didYouMean(k, known))
}

func contains(ss []string, s string) bool {
	i := sort.SearchStrings(ss, s)
	return i < len(ss) && ss[i] == s
}

// didYouMean suggests the candidate nearest to s, when it is near enough
// to be a typo; "" otherwise. Keys compare case-insensitively, and a key
// of the right name in a misspelt namespace always matches.
func didYouMean(s string, candidates []string) string {
	best, bestD := "", 0
	_, name, _ := strings.Cut(s, ":")
	for _, c := range candidates {
		d := distance(strings.ToLower(s), strings.ToLower(c))
		if _, cn, _ := strings.Cut(c, ":"); strings.EqualFold(cn, name) {
			d = min(d, 1)
		}
		if best == "" || d < bestD {
			best, bestD = c, d
		}
	}
	if best == "" || bestD > max(2, len(s)/4) {
		return ""
	}
	return fmt.Sprintf(": did you mean %s?", best)
}

// distance is the Levenshtein distance of a and b (both short).
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > 256 || len(rb) > 256 {
		return max(len(ra), len(rb))
	}
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
