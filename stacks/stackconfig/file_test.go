package stackconfig

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

const goodFile = "config:\n  mirror-dissonance:environment: staging\n  mirror-dissonance:githubRepository: acme/x\n  mirror-dissonance:oracleSubjects:\n    - repo:acme/oracle:ref:refs/heads/main\n"

// loadWithin runs Load and fails the test when it does not return within
// a few seconds (a FIFO or /dev/zero would hang or grow forever).
func loadWithin(t *testing.T, dir, stack string) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { _, err := Load(dir, stack); done <- err }()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatalf("Load(%s) still running after 10s", stack)
		return nil
	}
}

// Issue 21, finding 4: only regular files inside the project, at most
// 1 MiB; everything else is refused naming the file, at once.
func TestStackFileMustBeASmallRegularFileOfTheProject(t *testing.T) {
	dir := t.TempDir()
	outside := t.TempDir()
	file := func(stack string) string { return filepath.Join(dir, "Pulumi."+stack+".yaml") }
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(file("good"), []byte(goodFile), 0o600))
	must(os.Symlink("Pulumi.good.yaml", file("linked")))
	must(os.Symlink("/dev/zero", file("zero")))
	must(syscall.Mkfifo(file("fifo"), 0o600))
	must(os.Mkdir(file("dir"), 0o700))
	must(os.MkdirAll(filepath.Join(dir, "sub"), 0o700))
	must(syscall.Mkfifo(filepath.Join(dir, "sub", "fifo"), 0o600))
	must(os.Symlink(filepath.Join("sub", "fifo"), file("linkedfifo")))
	must(os.WriteFile(file("big"), []byte(goodFile+"#"+strings.Repeat("x", MaxFileBytes)+"\n"), 0o600))
	must(os.WriteFile(filepath.Join(outside, "x.yaml"), []byte(goodFile), 0o600))
	must(os.Symlink(filepath.Join(outside, "x.yaml"), file("escape")))
	must(os.Symlink("Pulumi.missing-target.yaml", file("dangling")))

	if err := loadWithin(t, dir, "good"); err != nil {
		t.Fatalf("good: %v", err)
	}
	if err := loadWithin(t, dir, "linked"); err != nil {
		t.Fatalf("a symlink to a regular file of the project: %v", err)
	}
	for stack, want := range map[string]string{
		"zero":       "symlink to /dev/zero, outside the project directory",
		"fifo":       "not a regular file (a FIFO)",
		"dir":        "not a regular file (a directory)",
		"linkedfifo": "not a regular file (a FIFO)",
		"big":        "at most 1048576 bytes",
		"escape":     "outside the project directory",
		"dangling":   "cannot be followed",
	} {
		t.Run(stack, func(t *testing.T) {
			err := loadWithin(t, dir, stack)
			if err == nil || !strings.Contains(err.Error(), "Pulumi."+stack+".yaml") || !strings.Contains(err.Error(), want) {
				t.Fatalf("error %v, want one naming the file and %q", err, want)
			}
		})
	}
}

// Issue 21, finding 6: a key outside the known namespaces, a misspelt one
// and an un-namespaced one are errors with "did you mean"; a made-up
// region is refused.
func TestUnknownKeysAndNamespaces(t *testing.T) {
	dir := t.TempDir()
	for stack, tc := range map[string]struct{ line, want string }{
		"regoin":      {"aws:regoin: eu-west-1", "did you mean aws:region?"},
		"namespace":   {`mirror-dissonace:throttleThreshold: "5"`, `unknown namespace "mirror-dissonace" in mirror-dissonace:throttleThreshold`},
		"namespace2":  {`mirror-dissonace:throttleThreshold: "5"`, "did you mean mirror-dissonance:throttleThreshold?"},
		"bare":        {`throttleThreshold: "5"`, "throttleThreshold has no namespace: did you mean mirror-dissonance:throttleThreshold?"},
		"awsprofile":  {"aws:profile: prod", "not an AWS provider key this program reads"},
		"ours":        {`mirror-dissonance:throttleTreshold: "5"`, "did you mean mirror-dissonance:throttleThreshold?"},
		"fake-region": {"aws:region: zz-fake-9", `aws:region = "zz-fake-9" is invalid`},
		"top":         {"", `unknown top-level key "confg"`},
	} {
		body := goodFile + "  " + tc.line + "\n"
		if stack == "top" {
			body = strings.Replace(goodFile, "config:", "confg:", 1)
		}
		if err := os.WriteFile(filepath.Join(dir, "Pulumi."+stack+".yaml"), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		t.Run(stack, func(t *testing.T) {
			_, err := Load(dir, stack)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
	// Pulumi's own namespace and a region that exists pass.
	body := goodFile + "  pulumi:disable-default-providers: '[\"*\"]'\n  aws:region: eu-west-1\n"
	if err := os.WriteFile(filepath.Join(dir, "Pulumi.ok.yaml"), []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	if c, err := Load(dir, "ok"); err != nil || c.Region != "eu-west-1" {
		t.Fatalf("%+v %v", c, err)
	}
}

// Issue 21, finding 9: an acc-<run> stack's environment is its own name.
func TestAcceptanceStackEnvironmentIsItsName(t *testing.T) {
	raw := ephemeral()
	raw["mirror-dissonance:environment"] = "staging"
	if _, err := Parse("acc-r1", raw); err == nil || !strings.Contains(err.Error(), `its own name "acc-r1"`) {
		t.Errorf("ephemeral acc- stack with environment staging: %v", err)
	}
	raw = valid() // not ephemeral, environment staging
	if _, err := Parse("acc-r1", raw); err == nil || !strings.Contains(err.Error(), `its own name "acc-r1"`) {
		t.Errorf("acc- stack with environment staging: %v", err)
	}
}

// Issue 24, finding 7: the README's configuration table lists exactly the
// keys the config knows.
func TestReadmeConfigurationTable(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	start := strings.Index(s, "## Configuration (`Pulumi.<stack>.yaml`)")
	if start < 0 {
		t.Fatal("README has no configuration section")
	}
	section := s[start:]
	if end := strings.Index(section[3:], "\n## "); end >= 0 {
		section = section[:end+3]
	}
	var inTable []string
	for _, line := range strings.Split(section, "\n") {
		if cell, ok := strings.CutPrefix(line, "| `"); ok {
			if key, _, ok := strings.Cut(cell, "`"); ok {
				inTable = append(inTable, key)
			}
		}
	}
	sort.Strings(inTable)
	if known := KnownKeys(); strings.Join(inTable, "\n") != strings.Join(known, "\n") {
		t.Errorf("README configuration table keys:\n%s\nwant KnownKeys():\n%s", strings.Join(inTable, "\n"), strings.Join(known, "\n"))
	}
}
