package stackconfig

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mirror-dissonance/mirror-infra/awsclient"
	"github.com/mirror-dissonance/mirror-infra/spec"
)

// FuzzLoad feeds arbitrary stack files to Load: it never panics or hangs,
// and what it accepts is a valid configuration (a known environment and
// region, only known keys).
func FuzzLoad(f *testing.F) {
	f.Add(goodFile)
	f.Add(goodFile + "  aws:regoin: eu-west-1\n")
	f.Add(goodFile + "  throttleThreshold: \"5\"\n")
	f.Add("config: [unclosed\n")
	f.Add("a: &a [*a, *a]\nconfig: {}\n")
	f.Add(strings.Replace(goodFile, "staging", "acc-x", 1))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, body string) {
		if err := os.WriteFile(filepath.Join(dir, "Pulumi.fz.yaml"), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := Load(dir, "fz")
		if err != nil {
			return
		}
		if spec.ValidateEnvironment(c.Environment) != nil || !awsclient.KnownRegion(c.Region) {
			t.Fatalf("accepted an invalid configuration %+v from %q", c, body)
		}
		if spec.IsEphemeralStack(c.Environment) {
			t.Fatalf("stack fz accepted with an acceptance environment %q", c.Environment)
		}
	})
}

// FuzzCheckKey: every key is either known or refused with a message
// naming it; never a panic.
func FuzzCheckKey(f *testing.F) {
	for _, k := range append(KnownKeys(), "aws:regoin", "mirror-dissonace:throttleThreshold", "throttleThreshold", "pulumi:x", ":", "") {
		f.Add(k)
	}
	f.Fuzz(func(t *testing.T, k string) {
		why := checkKey(k)
		if why == "" {
			if ns, _, _ := strings.Cut(k, ":"); ns != Namespace && ns != awsNamespace && ns != pulumiNamespace {
				t.Fatalf("key %q accepted outside the known namespaces", k)
			}
			return
		}
		if !strings.Contains(why, k) {
			t.Fatalf("refusal %q does not name the key %q", why, k)
		}
	})
}
