package target

import (
	"errors"
	"fmt"
	"strings"

	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/spec"
)

// Validate refuses a target whose names belong to another environment or
// to nothing at all, before any cloud call: a staging run must never reach
// production's tables, nonce path or key, and a nonce prefix of "/" would
// write at the parameter store's root. Overrides may rename resources (an
// emulator, a migration), but only within the environment's own names.
func (e Env) Validate() error {
	n := spec.For(e.Environment)
	var errs []error
	bad := func(field, value, allowed string) {
		errs = append(errs, fmt.Errorf("%s%s = %q: %s", EnvPrefix, field, report.Quote(value), allowed))
	}
	for _, t := range []struct{ field, value string }{
		{"FP_EVENTS_TABLE", e.FPEventsTable}, {"CONSENT_TABLE", e.ConsentTable}, {"BLOCK_COUNTER_TABLE", e.BlockCounterTable},
	} {
		if other := otherEnvironment(t.value, e.Environment); other != "" {
			bad(t.field, t.value, fmt.Sprintf("names a table of environment %q, not %q", other, e.Environment))
		}
	}
	if p := e.NoncePrefix; p != "" {
		folders := strings.FieldsFunc(spec.NoncePathOf(p), func(r rune) bool { return r == '/' })
		switch {
		case !strings.HasPrefix(p, "/") || len(folders) < 2:
			bad("NONCE_PREFIX", p, fmt.Sprintf("a path below a folder of its own, like %s (never the parameter store's root)", n.NoncePrefix()))
		case !strings.HasSuffix(p, spec.NonceBaseName):
			bad("NONCE_PREFIX", p, fmt.Sprintf("must end in %q, like %s", spec.NonceBaseName, n.NoncePrefix()))
		case otherEnvironment(p, e.Environment) != "":
			bad("NONCE_PREFIX", p, fmt.Sprintf("names the nonce of environment %q, not %q", otherEnvironment(p, e.Environment), e.Environment))
		}
	}
	if k := e.KMSKey; strings.Contains(k, "alias/aws/") {
		bad("KMS_KEY", k, "an AWS-managed key is never the environment key; use "+n.KeyAlias()+" or the key's ARN")
	} else if other := otherEnvironment(k, e.Environment); other != "" {
		bad("KMS_KEY", k, fmt.Sprintf("names the key of environment %q, not %q", other, e.Environment))
	}
	return errors.Join(errs...)
}

// otherEnvironment returns the known environment other than env whose
// name prefix ("mirror-dissonance-<env>-", "/guardian/<env>/",
// "alias/mirror-dissonance-<env>") s carries; "" when none.
func otherEnvironment(s, env string) string {
	for _, known := range spec.KnownEnvironments {
		if known == env {
			continue
		}
		kn := spec.For(known)
		if strings.Contains(s, kn.Prefix()) || strings.Contains(s, kn.NonceParameterPath()) || strings.HasSuffix(s, kn.KeyAlias()) {
			return known
		}
	}
	return ""
}
