package stackconfig

import (
	"strings"
	"testing"
)

func ephemeral() map[string]string {
	raw := valid()
	delete(raw, "mirror-dissonance:environment")
	raw["mirror-dissonance:ephemeral"] = "true"
	return raw
}

func TestEphemeralStack(t *testing.T) {
	c, err := Parse("acc-1234-1", ephemeral())
	if err != nil {
		t.Fatal(err)
	}
	if !c.Ephemeral || c.Environment != "acc-1234-1" || c.DeletionProtection || c.KMSDeletionWindow != 7 {
		t.Errorf("ephemeral config %+v; want its own name as environment, no deletion protection, 7 days", c)
	}
	if got := c.Names().Table("fp-events"); got != "mirror-dissonance-acc-1234-1-fp-events" {
		t.Errorf("names do not carry the run: %s", got)
	}
}

func TestEphemeralIsRefused(t *testing.T) {
	cases := []struct {
		name, stack string
		set         map[string]string
		want        []string // substrings of the error
	}{
		{"on staging", "staging", map[string]string{"mirror-dissonance:environment": "staging"}, []string{"mirror-dissonance:ephemeral", "acc-<run>", `"staging" must not be one`}},
		{"on a name that only looks like one", "acc_1", nil, []string{"mirror-dissonance:ephemeral", "acc-<run>"}},
		{"on a name too long", "acc-" + strings.Repeat("a", 17), nil, []string{"mirror-dissonance:ephemeral"}},
		{"with another environment", "acc-7", map[string]string{"mirror-dissonance:environment": "staging"}, []string{"mirror-dissonance:environment", "its own name"}},
		{"with deletion protection", "acc-7", map[string]string{"mirror-dissonance:deletionProtection": "true"}, []string{"mirror-dissonance:deletionProtection", "destroyed whole"}},
		{"with a longer key window", "acc-7", map[string]string{"mirror-dissonance:kmsDeletionWindowDays": "30"}, []string{"mirror-dissonance:kmsDeletionWindowDays", "7 days"}},
		{"not a bool", "acc-7", map[string]string{"mirror-dissonance:ephemeral": "yes"}, []string{"mirror-dissonance:ephemeral", "true or false"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			raw := ephemeral()
			for k, v := range tc.set {
				raw[k] = v
			}
			_, err := Parse(tc.stack, raw)
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestAcceptanceNamesAreForEphemeralStacksOnly(t *testing.T) {
	raw := valid()
	raw["mirror-dissonance:environment"] = "acc-7"
	if _, err := Parse("acc-7", raw); err == nil || !strings.Contains(err.Error(), "ephemeral") {
		t.Errorf("a non-ephemeral stack with an acc- environment: %v", err)
	}
}

func TestShippedAcceptanceExample(t *testing.T) {
	c, err := Load("../..", "acc-example")
	if err != nil {
		t.Fatal(err)
	}
	if !c.Ephemeral || c.Environment != "acc-example" || c.CreateOIDCProvider {
		t.Errorf("acc-example: %+v; want ephemeral, its own environment, and a looked-up OIDC provider", c)
	}
}
