package verify

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/spec"
)

// IDNonce is the id of the nonce check.
const IDNonce = "nonce"

func init() {
	register(check{Entry: Entry{ID: IDNonce, Writes: false,
		Summary: "a valid nonce version exists: SecureString, the environment CMK, 64 hex",
		Catches: []string{"nonce-missing", "nonce-malformed", "nonce-string", "nonce-wrong-key"}},
		rank: 100, run: (*session).checkNonce})
}

// nonceVersion is one nonce parameter as the nonce check sees it.
type nonceVersion struct {
	n     int
	name  string
	meta  ssmtypes.ParameterMetadata
	valid bool
}

func (s *session) checkNonce(ctx context.Context) report.Check {
	f := newFindings(IDNonce)
	prefix := s.tgt.NoncePrefix
	var versions []nonceVersion
	in := &ssm.DescribeParametersInput{
		ParameterFilters: []ssmtypes.ParameterStringFilter{{Key: aws.String("Name"), Option: aws.String("BeginsWith"), Values: []string{prefix}}},
		MaxResults:       aws.Int32(50),
	}
	for {
		out, err := s.c.SSM.DescribeParameters(ctx, in)
		if err != nil {
			f.err("listing parameters under "+s.tgt.NonceParameterPath(), err)
			return f.result("")
		}
		for _, p := range out.Parameters {
			n, ok := spec.NonceVersionOf(prefix, aws.ToString(p.Name))
			if !ok {
				continue // only redaction_nonce_v<digits> counts
			}
			versions = append(versions, nonceVersion{n: n, name: aws.ToString(p.Name), meta: p})
		}
		if aws.ToString(out.NextToken) == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	rotateFix := "write a new nonce version (oracle/nonce: Store.Bootstrap or Store.Rotate; in mirror-infra: go run ./automation nonce rotate <stack> --from <newest version, 0 if none>)"
	if len(versions) == 0 {
		f.fail("check target.Env.NoncePrefix (MD_NONCE_PREFIX); if it is right, "+rotateFix, "no nonce version under %s (want %s<N> parameters)", s.tgt.NonceParameterPath(), prefix)
		return f.result("")
	}
	sort.Slice(versions, func(i, j int) bool { return versions[i].n > versions[j].n })
	// The grace rule of SPEC 4 decides which versions are still valid.
	byCreation := make([]spec.NonceVersion, len(versions))
	for i, v := range versions {
		byCreation[i] = spec.NonceVersion{N: v.n, Created: aws.ToTime(v.meta.LastModifiedDate)}
	}
	validNs := spec.ValidNonceVersions(byCreation, s.opts.Now(), s.opts.NonceGrace)
	var validNames, valid, expired []string
	for i, v := range versions {
		versions[i].valid = slices.Contains(validNs, v.n)
		if versions[i].valid {
			validNames, valid = append(validNames, v.name), append(valid, "v"+strconv.Itoa(v.n))
		} else {
			expired = append(expired, "v"+strconv.Itoa(v.n))
		}
	}
	cmk, cmkErr := s.cmk()
	// A superseded version that is not a valid nonce was never valid: it
	// is dropped from the valid set and reported, not failed (rotating
	// over a malformed newest version is the way out, SPEC 4).
	neverValid := map[string]string{}
	superseded := func(name, why string) {
		neverValid[name] = why
		f.warn("prune it once no longer needed (deploy prunes old versions); nothing accepts it",
			"%s %s, so it was never valid (superseded by %s)", name, why, versions[0].name)
	}
	for _, v := range versions {
		if !v.valid {
			continue
		}
		if v.meta.Type != ssmtypes.ParameterTypeSecureString && v.n != versions[0].n {
			superseded(v.name, fmt.Sprintf("is a %s, not a SecureString", v.meta.Type))
			continue
		}
		if v.meta.Type != ssmtypes.ParameterTypeSecureString {
			// The newest one is not a nonce either: nothing may list it as
			// valid (the Oracle fails closed on it).
			neverValid[v.name] = "not a SecureString"
			f.fail("recreate it as a SecureString under the environment CMK ("+rotateFix+")", "%s is a %s, not a SecureString", v.name, v.meta.Type)
			continue
		}
		keyRef := aws.ToString(v.meta.KeyId)
		if cmkErr != nil {
			f.warn("see the kms check", "%s uses key %s; not compared: the environment CMK could not be described", v.name, keyRef)
			continue
		}
		ok, err := s.keyMatches(keyRef, cmk)
		if err != nil {
			f.err("resolving the key of "+v.name, err)
			continue
		}
		if !ok {
			f.fail("rewrite it under the environment CMK ("+rotateFix+")", "%s is encrypted with %s, not the environment CMK %s", v.name, orDefault(keyRef, "an unknown key"), cmk.Arn)
		}
	}
	// Values are fetched only to test their format; they go no further
	// than this loop.
	var checked []string
	for _, n := range validNames {
		if _, gone := neverValid[n]; !gone {
			checked = append(checked, n)
		}
	}
	for start := 0; start < len(checked); start += 10 {
		batch := checked[start:min(start+10, len(checked))]
		out, err := s.c.SSM.GetParameters(ctx, &ssm.GetParametersInput{Names: batch, WithDecryption: aws.Bool(true)})
		if err != nil {
			f.err("reading the nonce values (with decryption)", err)
			break
		}
		for _, p := range out.Parameters {
			if !spec.ValidNonceValue(aws.ToString(p.Value)) && aws.ToString(p.Name) != versions[0].name {
				superseded(aws.ToString(p.Name), "is not 64 lowercase hex characters")
			} else if !spec.ValidNonceValue(aws.ToString(p.Value)) {
				neverValid[aws.ToString(p.Name)] = "not 64 lowercase hex characters"
				f.fail(rotateFix, "%s is not 64 lowercase hex characters", aws.ToString(p.Name))
			}
		}
		for _, name := range out.InvalidParameters {
			f.fail(rotateFix, "%s disappeared while being checked", name)
		}
	}
	f.details["newest"] = versions[0].name
	valid = valid[:0]
	for _, v := range versions {
		if _, gone := neverValid[v.name]; v.valid && !gone {
			valid = append(valid, "v"+strconv.Itoa(v.n))
		}
	}
	f.details["valid"] = strings.Join(valid, ", ")
	if len(valid) == 0 {
		f.details["valid"] = "none (the Oracle fails closed)"
	}
	if len(expired) > 0 {
		f.details["expired"] = strings.Join(expired, ", ") + fmt.Sprintf(" (past the %s grace period; rejected)", s.opts.NonceGrace)
	}
	return f.result(fmt.Sprintf("nonce v%d is a valid SecureString under the environment CMK", versions[0].n))
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
