package postdeploy

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/mirror-dissonance/mirror-infra/oracle/nonce"
	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/spec"
)

// PruneID is the id of the nonce pruning step.
const PruneID = "nonce-prune"

// RotationPolicy says when a deploy rotates the nonce and what it prunes
// (SPEC 4).
type RotationPolicy struct {
	// Force rotates whatever the newest version's age (deploy --rotate,
	// and the rehearsal, which proves the grace behaviour every time).
	Force bool
	// MaxAge is the newest version's age at which a deploy rotates;
	// 0 means spec.DefaultNonceRotationDays.
	MaxAge time.Duration
	// Keep is how many newest versions a prune keeps; 0 means
	// spec.DefaultNonceKeepVersions. A valid version is never pruned.
	Keep int
}

func (p RotationPolicy) maxAge() time.Duration {
	if p.MaxAge > 0 {
		return p.MaxAge
	}
	return spec.DefaultNonceRotationDays * 24 * time.Hour
}

func (p RotationPolicy) keep() int {
	if p.Keep > 0 {
		return p.Keep
	}
	return spec.DefaultNonceKeepVersions
}

// rotateIfDue runs the rotation check (a new version, then the grace
// behaviour) only when the policy asks for it; otherwise it says when the
// next rotation is due.
func rotateIfDue(ctx context.Context, store *nonce.Store, p RotationPolicy, now time.Time) report.Check {
	if p.Force {
		return nonce.RotationCheck(ctx, store)
	}
	vs, err := store.Versions(ctx)
	if err != nil {
		return report.Check{ID: nonce.CheckID, Status: report.Fail, Reason: fmt.Sprintf("reading the nonce versions: %v", err),
			Infra: errors.Is(err, nonce.ErrUnavailable)}
	}
	if len(vs) == 0 {
		return nonce.RotationCheck(ctx, store) // reports the missing nonce
	}
	newest := vs[len(vs)-1]
	if spec.RotationDue(newest.Created, now, p.maxAge()) {
		return nonce.RotationCheck(ctx, store)
	}
	age := now.Sub(newest.Created).Round(time.Hour)
	return report.Check{ID: nonce.CheckID, Status: report.Skip,
		Reason:  fmt.Sprintf("not due: the newest version %s is %s old; a deploy rotates at %s (nonceRotationDays) or when asked (--rotate)", newest.Name, age, p.maxAge()),
		Details: map[string]string{"newest": newest.Name, "age": age.String(), "rotatesAt": p.maxAge().String()}}
}

// ParameterDeleter is the SSM call a prune makes.
type ParameterDeleter interface {
	DeleteParameters(ctx context.Context, in *ssm.DeleteParametersInput, optFns ...func(*ssm.Options)) (*ssm.DeleteParametersOutput, error)
}

// prune deletes the versions past their grace period beyond the newest
// Keep; a version that is still valid is never deleted.
func prune(ctx context.Context, store *nonce.Store, del ParameterDeleter, p RotationPolicy, grace time.Duration, now time.Time) report.Check {
	c := report.Check{ID: PruneID}
	vs, err := store.Versions(ctx)
	if err != nil {
		c.Status, c.Reason, c.Infra = report.Fail, fmt.Sprintf("reading the nonce versions: %v", err), errors.Is(err, nonce.ErrUnavailable)
		return c
	}
	in := make([]spec.NonceVersion, len(vs))
	name := map[int]string{}
	for i, v := range vs {
		in[i] = spec.NonceVersion{N: v.N, Created: v.Created}
		name[v.N] = v.Name
	}
	doomed := spec.PrunableNonceVersions(in, now, grace, p.keep())
	if len(doomed) == 0 {
		c.Status, c.Reason = report.Pass, fmt.Sprintf("nothing to prune: %d version(s), keeping the newest %d and every valid one", len(vs), p.keep())
		return c
	}
	var names, labels []string
	for _, n := range doomed {
		names = append(names, name[n])
		labels = append(labels, "v"+strconv.Itoa(n))
	}
	for i := 0; i < len(names); i += 10 { // DeleteParameters takes at most 10
		batch := names[i:min(i+10, len(names))]
		if _, err := del.DeleteParameters(ctx, &ssm.DeleteParametersInput{Names: batch}); err != nil {
			c.Status, c.Infra = report.Fail, true
			c.Reason = fmt.Sprintf("deleting %s: %v", strings.Join(batch, ", "), err)
			c.Fix = "the deploy role needs ssm:DeleteParameters on the nonce path; nothing valid was at risk"
			return c
		}
	}
	c.Status = report.Pass
	c.Reason = fmt.Sprintf("pruned %s: past the %s grace period and beyond the newest %d", strings.Join(labels, ", "), grace, p.keep())
	return c
}
