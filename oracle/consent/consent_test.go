package consent_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/mirror-dissonance/mirror-infra/emulator"
	"github.com/mirror-dissonance/mirror-infra/oracle/consent"
	"github.com/mirror-dissonance/mirror-infra/oracle/internal/oracletest"
)

var t0 = time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)

func newStore(t *testing.T) (*emulator.TestEnv, *consent.Store, *time.Time) {
	t.Helper()
	e := emulator.NewTestEnv(t, emulator.SeedOptions{SkipNonce: true})
	now, clock := oracletest.Clock(t0)
	return e, &consent.Store{Client: e.DynamoDB(), Table: e.Target().ConsentTable, Now: clock}, now
}

func TestLifecycle(t *testing.T) {
	ctx := context.Background()
	e, s, now := newStore(t)
	g := consent.Grant{By: "octocat", For: 24 * time.Hour, PolicyVersion: "2026-01"}
	steps := []struct {
		name    string
		do      func() error
		advance time.Duration
		want    consent.State
		allowed bool
	}{
		{"nothing recorded", func() error { return nil }, 0, consent.None, false},
		{"requested", func() error { return s.Request(ctx, "acme", "pr-analysis", "2026-01") }, 0, consent.Pending, false},
		{"granted", func() error { return s.Grant(ctx, "acme", "pr-analysis", g) }, 0, consent.Granted, true},
		{"still granted before expiry", func() error { return nil }, 23 * time.Hour, consent.Granted, true},
		{"expired by time", func() error { return nil }, time.Hour, consent.Expired, false},
		{"granted again", func() error { return s.Grant(ctx, "acme", "pr-analysis", g) }, 0, consent.Granted, true},
		{"revoked", func() error { return s.Revoke(ctx, "acme", "pr-analysis") }, 0, consent.Revoked, false},
		{"granted a third time", func() error { return s.Grant(ctx, "acme", "pr-analysis", g) }, 0, consent.Granted, true},
		{"expired explicitly", func() error { return s.Expire(ctx, "acme", "pr-analysis") }, 0, consent.Expired, false},
	}
	for _, st := range steps {
		*now = now.Add(st.advance)
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		got, err := s.Check(ctx, "acme", "pr-analysis")
		if err != nil {
			t.Fatalf("%s: check: %v", st.name, err)
		}
		if got.State != st.want || got.Allowed != st.allowed {
			t.Fatalf("%s: state %s allowed %v (%s), want %s allowed %v", st.name, got.State, got.Allowed, got.Reason, st.want, st.allowed)
		}
	}
	other, err := s.Check(ctx, "acme", "fp-telemetry")
	if err != nil || other.Allowed || other.State != consent.None {
		t.Fatalf("another resource: %+v %v, want none", other, err)
	}

	// The item is keyed by the hash of the organisation and stores the
	// grantor hashed.
	out, err := e.DynamoDB().Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(e.Target().ConsentTable)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Items) != 1 {
		t.Fatalf("%d items, want 1", len(out.Items))
	}
	var plainItem map[string]any
	if err := attributevalue.UnmarshalMap(out.Items[0], &plainItem); err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(plainItem)
	dump := string(raw)
	if !strings.Contains(dump, consent.OrgID("acme")) || !strings.Contains(dump, consent.Hash("octocat")) {
		t.Errorf("item lacks the hashed org or grantor: %s", dump)
	}
	for _, plain := range []string{"octocat", "Acme", "\"acme\""} {
		if strings.Contains(dump, plain) {
			t.Errorf("item contains %q in plain text", plain)
		}
	}
	if err := s.Delete(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Check(ctx, "acme", "pr-analysis"); err != nil || got.State != consent.None {
		t.Fatalf("after delete: %+v %v", got, err)
	}
}

func TestInvalid(t *testing.T) {
	ctx := context.Background()
	_, s, _ := newStore(t)
	for name, err := range map[string]error{
		"no grantor":  s.Grant(ctx, "acme", "r", consent.Grant{PolicyVersion: "1"}),
		"no policy":   s.Grant(ctx, "acme", "r", consent.Grant{By: "x"}),
		"no org":      s.Revoke(ctx, "", "r"),
		"no resource": s.Revoke(ctx, "acme", ""),
	} {
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// Concurrent grants and revokes on one organisation's single item: every
// write must survive, which the version counter proves (one increment per
// successful write).
func TestConcurrentUpdatesLoseNothing(t *testing.T) {
	ctx := context.Background()
	_, s, _ := newStore(t)
	s.Now = time.Now
	const n = 16
	g := consent.Grant{By: "bot", PolicyVersion: "1"}
	var wg sync.WaitGroup
	errs := make(chan error, 3*n)
	for i := range n {
		res := fmt.Sprintf("res-%02d", i)
		wg.Go(func() {
			if err := s.Grant(ctx, "acme", res, g); err != nil {
				errs <- err
				return
			}
			if i%2 == 0 {
				errs <- s.Revoke(ctx, "acme", res)
			}
		})
		wg.Go(func() { errs <- s.Grant(ctx, "acme", fmt.Sprintf("other-%02d", i), g) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	resources, version, err := s.Resources(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(n + n/2 + n); version != want {
		t.Errorf("version %d, want %d (one per write)", version, want)
	}
	if len(resources) != 2*n {
		t.Fatalf("%d resources, want %d", len(resources), 2*n)
	}
	for i := range n {
		want := consent.Granted
		if i%2 == 0 {
			want = consent.Revoked
		}
		if got := resources[fmt.Sprintf("res-%02d", i)].State; got != want {
			t.Errorf("res-%02d is %s, want %s", i, got, want)
		}
		if got := resources[fmt.Sprintf("other-%02d", i)].State; got != consent.Granted {
			t.Errorf("other-%02d is %s, want granted", i, got)
		}
	}
}

func TestUnreachableIsAnError(t *testing.T) {
	ctx := context.Background()
	e, s, _ := newStore(t)
	if err := s.Grant(ctx, "acme", "r", consent.Grant{By: "x", PolicyVersion: "1"}); err != nil {
		t.Fatal(err)
	}
	e.Fail(t, emulator.FaultRule{BodyContains: e.Target().ConsentTable})
	st, err := s.Check(ctx, "acme", "r")
	if err == nil || st.Allowed {
		t.Fatalf("check with the table unreachable: %+v, %v; want an error and no consent", st, err)
	}
	if err := s.Revoke(ctx, "acme", "r"); err == nil {
		t.Fatal("revoke with the table unreachable succeeded")
	}
}
