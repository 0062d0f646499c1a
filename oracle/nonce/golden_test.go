package nonce_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/mirror-dissonance/mirror-infra/oracle/internal/oracletest"
	"github.com/mirror-dissonance/mirror-infra/oracle/nonce"
)

// redactionFixture is testdata/redaction.json: redacted texts as the
// Oracle's redactor makes them, with fake test nonces.
type redactionFixture struct {
	FakeTestNonces map[string]string `json:"fakeTestNonces"`
	Newest         int               `json:"newest"`
	Cases          []struct {
		Name           string             `json:"name"`
		Original       string             `json:"original"`
		VerifyAgainst  string             `json:"verifyAgainst"`
		RedactedText   nonce.RedactedText `json:"redactedText"`
		JSON           string             `json:"json"`
		Valid          bool               `json:"valid"`
		MatchedVersion int                `json:"matchedVersion"`
		Writer         bool               `json:"writer"`
	} `json:"cases"`
}

func readRedactionFixture(t *testing.T) redactionFixture {
	t.Helper()
	return oracletest.ReadFixture[redactionFixture](t, "redaction.json")
}

func (f redactionFixture) values(t *testing.T) map[int]string {
	t.Helper()
	out := map[int]string{}
	for k, v := range f.FakeTestNonces {
		n, err := strconv.Atoi(k)
		if err != nil {
			t.Fatal(err)
		}
		out[n] = v
	}
	return out
}

// jsonOf is JSON.stringify's rendering: no HTML escaping.
func jsonOf(t *testing.T, v any) string {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return string(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
}

// TestGoldenRedactedTexts: the Oracle's redacted texts decode and
// re-encode byte-identical, validate (or are rejected) as the Oracle
// validates them, and ours are byte-identical to the Oracle's for the same
// input, so each side validates the other's.
func TestGoldenRedactedTexts(t *testing.T) {
	f := readRedactionFixture(t)
	set, err := nonce.NewSet(f.values(t))
	if err != nil {
		t.Fatal(err)
	}
	if set.Newest().N != f.Newest {
		t.Fatalf("newest v%d, want v%d", set.Newest().N, f.Newest)
	}
	for _, c := range f.Cases {
		t.Run(c.Name, func(t *testing.T) {
			var decoded nonce.RedactedText
			if err := json.Unmarshal([]byte(c.JSON), &decoded); err != nil {
				t.Fatal(err)
			}
			if decoded != c.RedactedText {
				t.Errorf("decoded %+v, want %+v", decoded, c.RedactedText)
			}
			if got := jsonOf(t, decoded); got != c.JSON {
				t.Errorf("re-encoded\n %s\nwant\n %s", got, c.JSON)
			}
			v, err := set.VerifyRedacted(decoded, c.VerifyAgainst)
			switch {
			case c.Valid && (err != nil || v != c.MatchedVersion):
				t.Errorf("Oracle's redacted text: version %d, %v; want valid with v%d", v, err, c.MatchedVersion)
			case !c.Valid && !errors.Is(err, nonce.ErrInvalidSignature):
				t.Errorf("Oracle's redacted text accepted (v%d, %v), want ErrInvalidSignature", v, err)
			}
			if !c.Writer {
				return
			}
			ours := set.Redact(c.Original, c.RedactedText.Value)
			if got := jsonOf(t, ours); got != c.JSON {
				t.Errorf("our redacted text\n %s\nthe Oracle's\n %s", got, c.JSON)
			}
		})
	}
}

// TestRedactedTextGrace: a text redacted with the old version validates
// while the old version is in the valid set and is rejected once it is not.
func TestRedactedTextGrace(t *testing.T) {
	f := readRedactionFixture(t)
	vals := f.values(t)
	both, err := nonce.NewSet(vals)
	if err != nil {
		t.Fatal(err)
	}
	onlyNew, err := nonce.NewSet(map[int]string{2: vals[2]})
	if err != nil {
		t.Fatal(err)
	}
	onlyOld, err := nonce.NewSet(map[int]string{1: vals[1]})
	if err != nil {
		t.Fatal(err)
	}
	old := onlyOld.Redact("secret", "[REDACTED]")
	tests := []struct {
		name  string
		set   *nonce.Set
		valid bool
	}{
		{"within grace", both, true},
		{"after grace", onlyNew, false},
	}
	for _, tc := range tests {
		_, err := tc.set.VerifyRedacted(old, "secret")
		if (err == nil) != tc.valid {
			t.Errorf("%s: %v, want valid=%v", tc.name, err, tc.valid)
		}
	}
	tampered := old
	tampered.Brand = "Text"
	if _, err := both.VerifyRedacted(tampered, "secret"); !errors.Is(err, nonce.ErrInvalidSignature) {
		t.Errorf("wrong brand: %v, want ErrInvalidSignature", err)
	}
}

// TestStoreKeysLikeTheOracle: a valid set loaded from SSM signs with the
// hex string as the key, so the fixture's Oracle texts validate against
// versions stored as the Oracle stores them.
func TestStoreKeysLikeTheOracle(t *testing.T) {
	ctx := context.Background()
	e, s := newStore(t)
	f := readRedactionFixture(t)
	for n, v := range f.values(t) {
		if _, err := e.SSM().PutParameter(ctx, &ssm.PutParameterInput{
			Name: aws.String(e.Target().NoncePrefix + strconv.Itoa(n)), Value: aws.String(v), Type: ssmtypes.ParameterTypeSecureString,
		}); err != nil {
			t.Fatal(err)
		}
	}
	set, err := s.ValidSet(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range f.Cases {
		if !c.Valid {
			continue
		}
		if v, err := set.VerifyRedacted(c.RedactedText, c.Original); err != nil || v != c.MatchedVersion {
			t.Errorf("%s: v%d, %v; want v%d", c.Name, v, err, c.MatchedVersion)
		}
	}
}

func TestVersionNames(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		fail bool
	}{{"v1", 1, false}, {"v12", 12, false}, {"v0", 0, true}, {"1", 0, true}, {"v01", 0, true}, {"vx", 0, true}}
	for _, tc := range tests {
		n, err := nonce.ParseVersionName(tc.in)
		if (err != nil) != tc.fail || n != tc.n {
			t.Errorf("ParseVersionName(%q) = %d, %v", tc.in, n, err)
		}
		if !tc.fail && nonce.VersionName(n) != tc.in {
			t.Errorf("VersionName(%d) = %s", n, nonce.VersionName(n))
		}
	}
}
