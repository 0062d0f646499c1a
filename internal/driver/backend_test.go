package driver

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseBackend(t *testing.T) {
	tests := []struct {
		url                         string
		wantErr                     string // substring; empty for success
		scheme, bucket, prefix, dir string
	}{
		{url: "file:///var/state", scheme: "file", dir: "/var/state"},
		{url: "file:///var/state?no_tmp_dir=true", scheme: "file", dir: "/var/state"},
		{url: "s3://team-state/infra/mirror?region=eu-west-1", scheme: "s3", bucket: "team-state", prefix: "infra/mirror"},
		{url: "s3://team-state?endpoint=http://127.0.0.1:9000&use_path_style=true&region=us-east-1", scheme: "s3", bucket: "team-state"},
		{url: "s3://b/p?s3ForcePathStyle=true&disableSSL=true&endpoint=minio:9000", scheme: "s3", bucket: "b", prefix: "p"},
		{url: "gs://bucket/x", scheme: "gs", bucket: "bucket", prefix: "x"},
		{url: "https://api.pulumi.com", scheme: "https"},
		{url: "s3://b?pathstyle=true", wantErr: `unknown query parameter(s) pathstyle; the S3 backend accepts endpoint, region`},
		{url: "s3://b?endpoint=localhost:9000", wantErr: `endpoint "localhost:9000" has no scheme`},
		{url: "s3:///prefix", wantErr: "no bucket name"},
		{url: "ftp://host/state", wantErr: `scheme "ftp" is not a Pulumi backend`},
		{url: "file://", wantErr: "no directory"},
	}
	for _, tc := range tests {
		t.Run(tc.url, func(t *testing.T) {
			b, err := ParseBackend(tc.url)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseBackend(%q) = %v, want an error with %q", tc.url, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseBackend(%q): %v", tc.url, err)
			}
			if b.Scheme != tc.scheme || b.Bucket != tc.bucket || b.Prefix != tc.prefix || b.Dir != tc.dir {
				t.Errorf("ParseBackend(%q) = %+v", tc.url, b)
			}
		})
	}
}

func TestCheckSecretsProvider(t *testing.T) {
	tests := []struct {
		in, wantErr string
	}{
		{in: ""},
		{in: "passphrase"},
		{in: "awskms://alias/pulumi-state?region=eu-west-1"},
		{in: "awskms://1234abcd-12ab-34cd-56ef-1234567890ab?endpoint=http://127.0.0.1:4566&region=us-east-1&context_team=infra"},
		{in: "awskms:///arn:aws:kms:eu-west-1:111122223333:key/abc"},
		{in: "awskms://alias/x?regoin=eu-west-1", wantErr: "unknown query parameter(s) regoin"},
		{in: "awskms://", wantErr: "no key"},
		{in: "kms://alias/x", wantErr: "want passphrase or a URL with scheme awskms://"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			err := CheckSecretsProvider(tc.in)
			if (err != nil) != (tc.wantErr != "") || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("CheckSecretsProvider(%q) = %v, want error %q", tc.in, err, tc.wantErr)
			}
		})
	}
}

func TestLockedErrorNamesHolderAndSince(t *testing.T) {
	tests := []struct {
		name, msg  string
		wantHolder []string
	}{
		{
			name: "file backend",
			msg: "stderr: error: the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end or delete the lock file with `pulumi cancel`.\n" +
				"  file:///tmp/x/state/.pulumi/locks/organization/p/dev/47673c85.json?no_tmp_dir=true: created by ci@runner-7 (pid 2701) at 2026-11-27T15:53:16Z\n",
			wantHolder: []string{"ci@runner-7 (pid 2701) since 2026-11-27T15:53:16Z"},
		},
		{
			name: "s3 backend, two locks",
			msg: "error: the stack is currently locked by 2 lock(s).\n" +
				"  s3://state/team/.pulumi/locks/organization/p/prod/a.json?region=eu-west-1: created by ana@laptop (pid 10) at 2026-01-02T03:04:05Z\n" +
				"  s3://state/team/.pulumi/locks/organization/p/prod/b.json?region=eu-west-1: created by ben@desk (pid 11) at 2026-01-02T03:05:05Z\n",
			wantHolder: []string{"ana@laptop (pid 10) since 2026-01-02T03:04:05Z", "and by ben@desk (pid 11) since 2026-01-02T03:05:05Z"},
		},
		{name: "no detail", msg: "error: the stack is currently locked by 1 lock(s).", wantHolder: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := classify(errors.New(tc.msg))
			if !errors.Is(err, ErrLocked) {
				t.Fatalf("classify = %v, want ErrLocked", err)
			}
			var le *LockedError
			if !errors.As(err, &le) || len(le.Holders) != len(tc.wantHolder) {
				t.Fatalf("holders = %+v, want %d", le, len(tc.wantHolder))
			}
			for _, w := range append(tc.wantHolder, "another update", "automation unlock") {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("message %q does not say %q", err, w)
				}
			}
			for _, h := range le.Holders {
				if !strings.HasPrefix(h.Key, ".pulumi/locks/") || strings.Contains(h.Key, "?") {
					t.Errorf("lock key %q is not relative to the backend root", h.Key)
				}
			}
		})
	}
}

func TestLockAge(t *testing.T) {
	since := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	l := Lock{User: "ana", Host: "laptop", PID: 10, Since: since}
	if got := l.Age(since.Add(90*time.Minute + 400*time.Millisecond)); got != 90*time.Minute {
		t.Errorf("Age = %v, want 1h30m0s", got)
	}
	if got := (Lock{}).Age(since); got != 0 {
		t.Errorf("Age of a lock without a time = %v, want 0", got)
	}
}

func TestForStack(t *testing.T) {
	tests := []struct {
		args []string
		want bool
	}{
		{[]string{"pulumi", "up", "--stack", "staging"}, true},
		{[]string{"pulumi", "--non-interactive", "up", "--stack=organization/mirror/staging"}, true},
		{[]string{"pulumi", "preview", "-s", "staging"}, true},
		{[]string{"pulumi", "up", "--stack", "staging-eu"}, false},
		{[]string{"pulumi", "up", "--stack", "production"}, false},
		{[]string{"pulumi", "up"}, false},
	}
	for _, tc := range tests {
		if got := forStack(tc.args, "staging"); got != tc.want {
			t.Errorf("forStack(%v) = %v, want %v", tc.args, got, tc.want)
		}
	}
}
