package report

import (
	"fmt"
	"regexp"
	"strings"
)

// Secrets that reach a report inside a value (a queue URL with a password,
// a presigned URL) are masked in every format, so a report is safe to post
// as a PR comment or upload as an artifact.
var (
	urlUserinfo = regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]+):[^@\s/]+@`)
	secretQuery = regexp.MustCompile(`(?i)([?&](?:password|passwd|pwd|token|secret|x-amz-signature|x-amz-security-token|x-amz-credential|signature)=)[^&\s"']+`)
)

// Masked replaces what it hides.
const Masked = "REDACTED"

// Redact masks passwords in URLs and secret query parameters.
func Redact(s string) string {
	if !strings.Contains(s, "://") && !strings.Contains(s, "=") {
		return s
	}
	s = urlUserinfo.ReplaceAllString(s, "${1}:"+Masked+"@")
	return secretQuery.ReplaceAllString(s, "${1}"+Masked)
}

// redacted is a copy of the report with every text masked.
func (r *Report) redacted() *Report {
	out := *r
	out.Checks = make([]Check, len(r.Checks))
	for i, c := range r.Checks {
		c.Reason, c.Fix = Redact(c.Reason), Redact(c.Fix)
		if c.Details != nil {
			d := make(map[string]string, len(c.Details))
			for k, v := range c.Details {
				d[Redact(k)] = Redact(v)
			}
			c.Details = d
		}
		out.Checks[i] = c
	}
	return &out
}

// MaxQuoted is how much of a bad value an error message repeats: enough to
// recognise it, never a whole pasted file.
const MaxQuoted = 200

// Quote shortens a value for an error message to MaxQuoted characters and
// says how long it was.
func Quote(v string) string {
	r := []rune(v)
	if len(r) <= MaxQuoted {
		return v
	}
	return string(r[:MaxQuoted]) + fmt.Sprintf("... (%d characters)", len(r))
}
