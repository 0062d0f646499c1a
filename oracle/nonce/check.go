package nonce

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/mirror-dissonance/mirror-infra/report"
)

// CheckID is the verifier catalogue id of RotationCheck (SPEC 6).
const CheckID = "rotation"

// RotationCheck rotates the nonce once and proves the grace behaviour of
// SPEC 4 without waiting for the grace period: it evaluates the valid set at
// moments measured from the new version's creation time as SSM records it
// (so the local clock does not matter). Text signed with the old version
// must validate within the grace period and be rejected after it; text
// signed with the new version must validate throughout. It mutates the
// environment: the new version stays.
func RotationCheck(ctx context.Context, s *Store) report.Check {
	start := time.Now()
	c := report.Check{ID: CheckID, Details: map[string]string{"grace": s.grace().String()}}
	fail := func(reason, fix string, err error) report.Check {
		c.Status, c.Reason, c.Fix = report.Fail, reason, fix
		if err != nil {
			c.Reason += ": " + err.Error()
			c.Infra = errors.Is(err, ErrUnavailable)
		}
		c.Duration = time.Since(start)
		return c
	}
	before, err := s.ValidSet(ctx)
	if err != nil {
		return fail("reading the valid nonce set", "bootstrap with `nonce rotate <stack> --from 0`", err)
	}
	old := before.Newest().N
	probe := make([]byte, 16)
	_, _ = rand.Read(probe)
	oldSig := before.Sign(probe)

	created, err := s.Rotate(ctx, old)
	if err != nil {
		return fail(fmt.Sprintf("rotating from v%d", old), "if another rotation ran at the same time, run the check again", err)
	}
	c.Details["from"] = "v" + strconv.Itoa(old)
	c.Details["to"] = "v" + strconv.Itoa(created.N)
	// The successor's creation time as SSM recorded it.
	versions, err := s.Versions(ctx)
	if err != nil {
		return fail("listing versions after the rotation", "", err)
	}
	var successor time.Time
	for _, v := range versions {
		if v.N == created.N {
			successor = v.Created
		}
	}
	if successor.IsZero() {
		return fail(fmt.Sprintf("v%d was created but is not listed", created.N), "check the parameter path and IAM read access", nil)
	}
	within := successor.Add(s.grace() / 2)
	after := successor.Add(s.grace() + time.Second)

	setWithin, err := s.ValidSetAt(ctx, within)
	if err != nil {
		return fail("valid set within the grace period", "", err)
	}
	if setWithin.Newest().N != created.N {
		return fail(fmt.Sprintf("newest valid version is v%d, want v%d", setWithin.Newest().N, created.N), "", nil)
	}
	if err := setWithin.Verify(probe, oldSig); err != nil {
		return fail(fmt.Sprintf("text signed with v%d rejected within the grace period", old), "the old version must stay valid for the grace period; was it overwritten?", err)
	}
	newSig := setWithin.Sign(probe)
	setAfter, err := s.ValidSetAt(ctx, after)
	if err != nil {
		return fail("valid set after the grace period", "", err)
	}
	if err := setAfter.Verify(probe, oldSig); err == nil {
		return fail(fmt.Sprintf("text signed with v%d still accepted after the grace period", old), "superseded versions must expire after the grace period", nil)
	}
	if err := setAfter.Verify(probe, newSig); err != nil {
		return fail(fmt.Sprintf("text signed with v%d rejected", created.N), "", err)
	}
	c.Status = report.Pass
	c.Reason = fmt.Sprintf("rotated v%d to v%d; v%d accepted within the %s grace period and rejected after it; v%d accepted",
		old, created.N, old, s.grace(), created.N)
	c.Duration = time.Since(start)
	return c
}

// BootstrapCheckID is the id of BootstrapCheck's result.
const BootstrapCheckID = "nonce"

// BootstrapCheck bootstraps the nonce if no version exists (the driver
// calls it after `up`) and reports what it did: PASS when v1 was created, a
// well-formed version already exists, or a malformed newest version was
// superseded by a new one; FAIL otherwise (Infra when SSM is
// unreachable). It never reads more than it needs and never shows a value.
func BootstrapCheck(ctx context.Context, s *Store) report.Check {
	start := time.Now()
	c := report.Check{ID: BootstrapCheckID, Details: map[string]string{"prefix": s.Prefix}}
	v, created, err := s.Bootstrap(ctx)
	c.Duration = time.Since(start)
	switch {
	case err == nil && created && v.N > 1:
		c.Status, c.Reason = report.Pass, fmt.Sprintf("bootstrapped: created v%d as a SecureString under %s; v%d was not a valid nonce, was never valid and is not kept: v%d is the only valid version",
			v.N, s.KeyID, v.N-1, v.N)
	case err == nil && created:
		c.Status, c.Reason = report.Pass, fmt.Sprintf("bootstrapped: created v%d as a SecureString under %s", v.N, s.KeyID)
	case err == nil:
		c.Status, c.Reason = report.Pass, fmt.Sprintf("already bootstrapped: v%d exists and is well formed; nothing changed", v.N)
	default:
		c.Status, c.Reason = report.Fail, "bootstrapping the nonce: "+err.Error()
		c.Infra = errors.Is(err, ErrUnavailable)
		if errors.Is(err, ErrMalformed) {
			c.Fix = "the newest version is not a 64-hex SecureString; rotate from it (nonce rotate <stack> --from N) to replace it"
		} else {
			c.Fix = "check the AWS endpoint, credentials and SSM permissions on /guardian/<env>/"
		}
	}
	return c
}

// RotateCheck is `nonce rotate --from N` as a report.Check with id
// BootstrapCheckID: from 0 bootstraps (BootstrapCheck), any other from
// rotates to from+1 and says what stays valid, truly: a superseded version
// that is a valid nonce stays valid for the store's grace period; one that
// is not (a malformed value, a plain String) was never valid, so the new
// version is at once the only valid one.
func RotateCheck(ctx context.Context, s *Store, from int) report.Check {
	if from == 0 {
		return BootstrapCheck(ctx, s)
	}
	start := time.Now()
	c := report.Check{ID: BootstrapCheckID, Details: map[string]string{"prefix": s.Prefix}}
	superseded := ""
	if vs, err := s.Versions(ctx); err == nil {
		for _, v := range vs {
			if v.N == from {
				superseded = v.Malformed
			}
		}
	}
	v, err := s.Rotate(ctx, from)
	c.Duration = time.Since(start)
	switch {
	case err == nil && superseded != "":
		c.Status = report.Pass
		c.Reason = fmt.Sprintf("rotated: created v%d; v%d (%s) was never valid and is not kept: v%d is the only valid version", v.N, from, superseded, v.N)
		return c
	case err == nil:
		c.Status = report.Pass
		c.Reason = fmt.Sprintf("rotated: created v%d; v%d stays valid for the %s grace period", v.N, from, s.grace())
		return c
	}
	c.Status, c.Reason = report.Fail, err.Error()
	switch {
	case errors.Is(err, ErrAlreadyRotated):
		c.Fix = fmt.Sprintf("a version newer than v%d exists (another rotation won, or v%d is not the newest); rotate from the newest if a new one is still needed", from, from)
	case errors.Is(err, ErrVersionNotFound):
		c.Fix = "rotate from the newest existing version (or --from 0 to bootstrap)"
	case errors.Is(err, ErrUnavailable):
		c.Infra = true
		c.Fix = "check the AWS endpoint, credentials and SSM permissions on /guardian/<env>/"
	}
	return c
}
