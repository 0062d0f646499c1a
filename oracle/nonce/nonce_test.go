package nonce_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/mirror-dissonance/mirror-infra/emulator"
	"github.com/mirror-dissonance/mirror-infra/oracle/nonce"
	"github.com/mirror-dissonance/mirror-infra/report"
)

func newStore(t *testing.T) (*emulator.TestEnv, *nonce.Store) {
	t.Helper()
	e := emulator.NewTestEnv(t, emulator.SeedOptions{SkipNonce: true})
	return e, nonce.New(e.SSM(), e.Env, e.Target().NoncePrefix, e.Target().KMSKey, time.Hour)
}

// bootstrap creates v1, as most tests need first.
func bootstrap(t *testing.T, s *nonce.Store) {
	t.Helper()
	if _, _, err := s.Bootstrap(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// bootstrapped is bootstrap and the valid set that follows.
func bootstrapped(t *testing.T, s *nonce.Store) *nonce.Set {
	t.Helper()
	bootstrap(t, s)
	set, err := s.ValidSet(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// values reads every parameter value under the store's path so that tests
// can assert none of them leaks; the values are never printed.
func values(t *testing.T, e *emulator.TestEnv) []string {
	t.Helper()
	var vs []string
	for _, p := range e.NonceParameters(t) {
		vs = append(vs, aws.ToString(p.Value))
	}
	return vs
}

func assertNoValue(t *testing.T, vals []string, outputs ...string) {
	t.Helper()
	for _, v := range vals {
		for i, o := range outputs {
			if bytes.Contains([]byte(o), []byte(v)) {
				t.Errorf("output %d contains a nonce value", i)
			}
		}
	}
}

func TestBootstrapIsIdempotent(t *testing.T) {
	ctx := context.Background()
	e, s := newStore(t)
	v, created, err := s.Bootstrap(ctx)
	if err != nil || !created || v.N != 1 {
		t.Fatalf("first bootstrap: v%d created=%v err=%v, want v1 created", v.N, created, err)
	}
	v, created, err = s.Bootstrap(ctx)
	if err != nil || created || v.N != 1 {
		t.Fatalf("second bootstrap: v%d created=%v err=%v, want v1 not created", v.N, created, err)
	}
	vals := values(t, e)
	if len(vals) != 1 || len(vals[0]) != 64 {
		t.Fatalf("want one 64-character value, got %d values", len(vals))
	}
	p, err := e.SSM().GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(e.Target().NoncePrefix + "1")})
	if err != nil {
		t.Fatal(err)
	}
	if p.Parameter.Type != ssmtypes.ParameterTypeSecureString {
		t.Errorf("type %s, want SecureString", p.Parameter.Type)
	}
}

func TestConcurrentRotationsCreateOneVersion(t *testing.T) {
	ctx := context.Background()
	_, s := newStore(t)
	bootstrap(t, s)
	const n = 16
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { _, errs[i] = s.Rotate(ctx, 1) })
	}
	wg.Wait()
	won, lost := 0, 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case errors.Is(err, nonce.ErrAlreadyRotated):
			lost++
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	if won != 1 || lost != n-1 {
		t.Fatalf("%d rotations won and %d were told already rotated; want 1 and %d", won, lost, n-1)
	}
	vs, err := s.Versions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 2 || vs[0].N != 1 || vs[1].N != 2 {
		t.Fatalf("versions %+v, want v1 and v2", vs)
	}
	if _, err := s.Rotate(ctx, 1); !errors.Is(err, nonce.ErrAlreadyRotated) {
		t.Fatalf("rotating from v1 again: %v, want ErrAlreadyRotated", err)
	}
	if _, err := s.Rotate(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Rotate(ctx, 1); !errors.Is(err, nonce.ErrAlreadyRotated) {
		t.Fatalf("rotating from v1 with v3 newest: %v, want ErrAlreadyRotated", err)
	}
	if _, err := s.Rotate(ctx, 7); !errors.Is(err, nonce.ErrVersionNotFound) {
		t.Fatalf("rotating from a missing version: %v, want ErrVersionNotFound", err)
	}
}

func TestGracePeriod(t *testing.T) {
	ctx := context.Background()
	e, s := newStore(t)
	before := bootstrapped(t, s)
	msg := []byte("redact me")
	oldSig := before.Sign(msg)
	if oldSig.Version != 1 {
		t.Fatalf("signed with v%d, want v1", oldSig.Version)
	}
	if _, err := s.Rotate(ctx, 1); err != nil {
		t.Fatal(err)
	}
	vs, err := s.Versions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rotated := vs[1].Created
	tests := []struct {
		name       string
		at         time.Time
		oldValid   bool
		wantLength int
	}{
		{"just after rotation", rotated, true, 2},
		{"one second before the grace ends", rotated.Add(time.Hour - time.Second), true, 2},
		{"exactly at the end of the grace", rotated.Add(time.Hour), false, 1},
		{"a day later", rotated.Add(24 * time.Hour), false, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set, err := s.ValidSetAt(ctx, tc.at)
			if err != nil {
				t.Fatal(err)
			}
			if got := len(set.Versions()); got != tc.wantLength {
				t.Fatalf("%s has %d versions, want %d", set, got, tc.wantLength)
			}
			if set.Newest().N != 2 {
				t.Fatalf("newest v%d, want v2", set.Newest().N)
			}
			err = set.Verify(msg, oldSig)
			if tc.oldValid && err != nil {
				t.Fatalf("old signature rejected within grace: %v", err)
			}
			if !tc.oldValid && !errors.Is(err, nonce.ErrInvalidSignature) {
				t.Fatalf("old signature: %v, want ErrInvalidSignature", err)
			}
			newSig := set.Sign(msg)
			if newSig.Version != 2 {
				t.Fatalf("signed with v%d, want v2", newSig.Version)
			}
			if err := set.Verify(msg, newSig); err != nil {
				t.Fatalf("new signature rejected: %v", err)
			}
		})
	}
	// The store's own clock decides ValidSet.
	s.Now = func() time.Time { return rotated.Add(2 * time.Hour) }
	late, err := s.ValidSet(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := late.Verify(msg, oldSig); err == nil {
		t.Fatal("old signature accepted two hours after rotation")
	}
	assertNoValue(t, values(t, e), fmt.Sprintf("%v %+v %#v %s", late, late, late, late))
}

func TestSignatureTampering(t *testing.T) {
	_, s := newStore(t)
	set := bootstrapped(t, s)
	sig := set.Sign([]byte("payload"))
	parsed, err := nonce.ParseSignature(sig.String())
	if err != nil || parsed.Version != sig.Version || !bytes.Equal(parsed.MAC, sig.MAC) {
		t.Fatalf("round trip of %s: %+v, %v", sig, parsed, err)
	}
	flipped := nonce.Signature{Version: sig.Version, MAC: append([]byte(nil), sig.MAC...)}
	flipped.MAC[0] ^= 1
	tests := []struct {
		name string
		msg  string
		sig  nonce.Signature
		ok   bool
	}{
		{"genuine", "payload", sig, true},
		{"other text", "payload!", sig, false},
		{"flipped MAC bit", "payload", flipped, false},
		{"unknown version", "payload", nonce.Signature{Version: 9, MAC: sig.MAC}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := set.Verify([]byte(tc.msg), tc.sig)
			if (err == nil) != tc.ok {
				t.Fatalf("Verify: %v, want ok=%v", err, tc.ok)
			}
		})
	}
	for _, bad := range []string{"", "v1", "x1:00", "v0:" + fmt.Sprintf("%064x", 0), "v1:zz"} {
		if _, err := nonce.ParseSignature(bad); err == nil {
			t.Errorf("ParseSignature(%q) accepted", bad)
		}
	}
}

func put(t *testing.T, e *emulator.TestEnv, name, value string, typ ssmtypes.ParameterType) {
	t.Helper()
	if _, err := e.SSM().PutParameter(context.Background(), &ssm.PutParameterInput{
		Name: aws.String(name), Value: aws.String(value), Type: typ,
	}); err != nil {
		t.Fatalf("putting %s: %v", name, err)
	}
}

func TestOnlyNonceNamesCount(t *testing.T) {
	ctx := context.Background()
	e, s := newStore(t)
	bootstrap(t, s)
	path := e.Target().NonceParameterPath()
	hex64 := fmt.Sprintf("%064x", 42)
	for _, name := range []string{path + "other", path + "redaction_nonce_vx", path + "redaction_nonce_v05", path + "redaction_nonce_v2-old", path + "redaction_nonce_v"} {
		put(t, e, name, hex64, ssmtypes.ParameterTypeSecureString)
	}
	put(t, e, path+"redaction_nonce_v3junk", "not hex", ssmtypes.ParameterTypeString)
	vs, err := s.Versions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 1 || vs[0].N != 1 {
		t.Fatalf("versions %+v, want only v1", vs)
	}
	set, err := s.ValidSet(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if set.Newest().N != 1 {
		t.Fatalf("newest v%d, want v1", set.Newest().N)
	}
}

// TestMalformedNewestFailsClosedWithAWayOut: a newest version that is not
// a valid nonce fails closed; bootstrapping (--from 0) or rotating from it
// (--from 1) creates the next version, which is then the only valid one at
// once: the malformed version was never valid, so no grace keeps it.
func TestMalformedNewestFailsClosedWithAWayOut(t *testing.T) {
	ctx := context.Background()
	hex64 := fmt.Sprintf("%064x", 7)
	tests := []struct {
		name  string
		value string
		typ   ssmtypes.ParameterType
	}{
		{"uuid value", "3f2504e0-4f89-11d3-9a0c-0305e82c3301", ssmtypes.ParameterTypeSecureString},
		{"upper-case hex", fmt.Sprintf("%064X", 0xabc), ssmtypes.ParameterTypeSecureString},
		{"plain String type", hex64, ssmtypes.ParameterTypeString},
	}
	for _, tc := range tests {
		for _, from := range []int{0, 1} {
			t.Run(fmt.Sprintf("%s, from %d", tc.name, from), func(t *testing.T) {
				e, s := newStore(t)
				s.Grace = 0 // the default grace, as the command line's store has
				put(t, e, e.Target().NoncePrefix+"1", tc.value, tc.typ)
				if _, err := s.ValidSet(ctx); !errors.Is(err, nonce.ErrMalformed) {
					t.Fatalf("ValidSet: %v, want ErrMalformed", err)
				}
				c := nonce.RotateCheck(ctx, s, from)
				if c.Status != report.Pass || !strings.Contains(c.Reason, "created v2") {
					t.Fatalf("RotateCheck from %d: %s %s (fix %s), want v2 created", from, c.Status, c.Reason, c.Fix)
				}
				if strings.Contains(c.Reason, "stays valid") || !strings.Contains(c.Reason, "never valid") {
					t.Errorf("reason %q: the malformed v1 is never valid and must not be said to stay valid", c.Reason)
				}
				set, err := s.ValidSet(ctx)
				if err != nil || set.Newest().N != 2 || len(set.Versions()) != 1 {
					t.Fatalf("ValidSet right after: %v, %v; want only v2 (the Oracle keeps running)", set, err)
				}
			})
		}
	}
}

// TestRotateCheckStatesTheGrace: rotating over a valid version says how
// long it stays valid, the store's real grace (the default when unset).
func TestRotateCheckStatesTheGrace(t *testing.T) {
	ctx := context.Background()
	_, s := newStore(t)
	s.Grace = 0
	bootstrap(t, s)
	c := nonce.RotateCheck(ctx, s, 1)
	if c.Status != report.Pass || !strings.Contains(c.Reason, "v1 stays valid for the 1h0m0s grace period") {
		t.Fatalf("RotateCheck: %s %s", c.Status, c.Reason)
	}
	if c = nonce.RotateCheck(ctx, s, 1); c.Status != report.Fail || !strings.Contains(c.Fix, "newer than v1") {
		t.Errorf("a second rotation from v1: %s %s (fix %s), want a FAIL saying a newer version exists", c.Status, c.Reason, c.Fix)
	}
}

func TestUnreachableAndEmptyFailClosed(t *testing.T) {
	ctx := context.Background()
	e, s := newStore(t)
	if _, err := s.ValidSet(ctx); !errors.Is(err, nonce.ErrNoValidNonce) {
		t.Fatalf("no versions: %v, want ErrNoValidNonce", err)
	}
	bootstrap(t, s)
	e.Fail(t, emulator.FaultRule{Operation: "GetParametersByPath"})
	if _, err := s.ValidSet(ctx); !errors.Is(err, nonce.ErrUnavailable) {
		t.Fatalf("SSM unreachable: %v, want ErrUnavailable", err)
	}
	e.Fail(t, emulator.FaultRule{Operation: "PutParameter"})
	if _, err := s.Rotate(ctx, 1); !errors.Is(err, nonce.ErrUnavailable) {
		t.Fatalf("put unreachable: %v, want ErrUnavailable", err)
	}
}

func TestRotationCheck(t *testing.T) {
	ctx := context.Background()
	e, s := newStore(t)
	c := nonce.RotationCheck(ctx, s)
	if c.Status != report.Fail || c.ID != "rotation" {
		t.Fatalf("without a nonce: %s %s, want FAIL", c.Status, c.Reason)
	}
	bootstrap(t, s)
	c = nonce.RotationCheck(ctx, s)
	if c.Status != report.Pass {
		t.Fatalf("rotation check: %s %s", c.Status, c.Reason)
	}
	if c.Details["from"] != "v1" || c.Details["to"] != "v2" {
		t.Fatalf("details %v, want v1 to v2", c.Details)
	}
	c2 := nonce.RotationCheck(ctx, s)
	if c2.Status != report.Pass || c2.Details["to"] != "v3" {
		t.Fatalf("second rotation check: %s %s %v", c2.Status, c2.Reason, c2.Details)
	}
	e.Fail(t, emulator.FaultRule{Operation: "GetParametersByPath"})
	c3 := nonce.RotationCheck(ctx, s)
	if c3.Status != report.Fail || !c3.Infra {
		t.Fatalf("SSM unreachable: %s infra=%v, want an infrastructure FAIL", c3.Status, c3.Infra)
	}
	e.Heal()
	var buf bytes.Buffer
	r := report.Report{Command: "test"}
	r.Add(c, c2, c3)
	if err := r.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(c)
	assertNoValue(t, values(t, e), buf.String(), string(raw))
}

func TestBootstrapCheck(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		setup  func(e *emulator.TestEnv)
		status report.Status
		reason string
		infra  bool
	}{
		{"creates v1", func(*emulator.TestEnv) {}, report.Pass, "created v1", false},
		{"leaves a good version", func(e *emulator.TestEnv) {
			put(t, e, e.Target().NoncePrefix+"4", fmt.Sprintf("%064x", 4), ssmtypes.ParameterTypeSecureString)
		}, report.Pass, "v4 exists", false},
		{"replaces a malformed newest", func(e *emulator.TestEnv) {
			put(t, e, e.Target().NoncePrefix+"1", "3f2504e0-4f89-11d3-9a0c-0305e82c3301", ssmtypes.ParameterTypeSecureString)
		}, report.Pass, "v1 was not a valid nonce, was never valid", false},
		{"SSM unreachable", func(e *emulator.TestEnv) { e.Fail(t, emulator.FaultRule{Operation: "GetParametersByPath"}) }, report.Fail, "unavailable", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, s := newStore(t)
			tc.setup(e)
			c := nonce.BootstrapCheck(ctx, s)
			e.Heal()
			if c.ID != "nonce" || c.Status != tc.status || !strings.Contains(c.Reason, tc.reason) || c.Infra != tc.infra {
				t.Fatalf("%s %s %q infra=%v; want %s containing %q infra=%v", c.ID, c.Status, c.Reason, c.Infra, tc.status, tc.reason, tc.infra)
			}
			raw, _ := json.Marshal(c)
			assertNoValue(t, values(t, e), string(raw))
		})
	}
}
