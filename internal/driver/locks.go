package driver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Lock is one state lock of a stack as the self-managed backend keeps it:
// a JSON object under .pulumi/locks/ that the CLI writes when an update
// starts and deletes when it ends. A CLI killed with SIGKILL (or a machine
// that died) leaves it behind, and every later update is refused.
type Lock struct {
	// Key is the lock's object key (s3) or file path (file), relative to
	// the backend's root.
	Key string `json:"key"`
	// User, Host and PID are the CLI process that took the lock.
	User string `json:"user"`
	Host string `json:"host"`
	PID  int    `json:"pid"`
	// Since is when the lock was taken.
	Since time.Time `json:"since"`
}

// Holder is "user@host (pid N)".
func (l Lock) Holder() string { return fmt.Sprintf("%s@%s (pid %d)", l.User, l.Host, l.PID) }

// Age is how long the lock has been held at now, to the second.
func (l Lock) Age(now time.Time) time.Duration {
	if l.Since.IsZero() {
		return 0
	}
	return now.Sub(l.Since).Round(time.Second)
}

// String is the holder, since when and the age.
func (l Lock) String() string {
	if l.Since.IsZero() {
		return l.Holder()
	}
	return fmt.Sprintf("%s since %s (%s ago)", l.Holder(), l.Since.UTC().Format(time.RFC3339), l.Age(time.Now()))
}

// LockedError is ErrLocked with the lock holders the CLI named.
type LockedError struct {
	Holders []Lock
	// Detail is the CLI's own message.
	Detail string
}

func (e *LockedError) Error() string {
	var b strings.Builder
	b.WriteString("stack is locked by another update")
	for i, h := range e.Holders {
		if i == 0 {
			b.WriteString(": held by ")
		} else {
			b.WriteString("; and by ")
		}
		b.WriteString(h.String())
	}
	if len(e.Holders) == 0 && e.Detail != "" {
		b.WriteString(": " + e.Detail)
	}
	b.WriteString(". Wait for that update to finish; if it was killed and none is running, remove the stale lock with `go run ./automation unlock <stack>`")
	return b.String()
}

// Is makes errors.Is(err, ErrLocked) hold.
func (e *LockedError) Is(target error) bool { return target == ErrLocked }

// lockLine matches the CLI's description of one lock:
// "  <url>/.pulumi/locks/.../<id>.json: created by user@host (pid 12) at 2026-01-02T03:04:05Z".
// (a file backend's URL ends in ?no_tmp_dir=true after the .json).
var lockLine = regexp.MustCompile(`\S*?(\.pulumi/locks/[^\s?]+\.json)\S*: created by (\S*)@(\S*) \(pid (\d+)\) at (\S+)`)

// lockedError builds the LockedError from the CLI's message.
func lockedError(msg string) *LockedError {
	e := &LockedError{Detail: engineMessage(msg)}
	seen := map[string]bool{}
	for _, m := range lockLine.FindAllStringSubmatch(msg, -1) {
		if seen[m[1]] {
			continue
		}
		seen[m[1]] = true
		pid, _ := strconv.Atoi(m[4])
		since, _ := time.Parse(time.RFC3339, m[5])
		e.Holders = append(e.Holders, Lock{Key: m[1], User: m[2], Host: m[3], PID: pid, Since: since})
	}
	return e
}

// lockContent is the lock object's body (pulumi pkg/backend/diy/lock.go).
type lockContent struct {
	Pid       int       `json:"pid"`
	Username  string    `json:"username"`
	Hostname  string    `json:"hostname"`
	Timestamp time.Time `json:"timestamp"`
}

// lockDirs are where a stack's locks live relative to the backend root:
// the project-scoped layout of current backends, then the legacy one.
func lockDirs(project, stack string) []string {
	return []string{
		path.Join(".pulumi", "locks", "organization", project, stack),
		path.Join(".pulumi", "locks", stack),
	}
}

// lockStore lists, reads and deletes objects of one backend.
type lockStore interface {
	list(ctx context.Context, dir string) ([]string, error)
	read(ctx context.Context, key string) ([]byte, error)
	remove(ctx context.Context, key string) error
}

// LockTarget says which stack's locks on which backend.
type LockTarget struct {
	Backend Backend
	Project string
	Stack   string
	// Env are extra variables for the backend's client (credentials,
	// region), as Settings.EnvVars gives them to the CLI.
	Env map[string]string
}

// LockTargetFor resolves the backend and project of s as Open would,
// without needing the CLI or a program.
func LockTargetFor(s Settings) (LockTarget, error) {
	s.Program = func(*pulumi.Context) error { return nil } // defaults wants one; locks need none
	if err := s.defaults(); err != nil {
		return LockTarget{}, err
	}
	b, err := ParseBackend(s.BackendURL)
	if err != nil {
		return LockTarget{}, err
	}
	return LockTarget{Backend: b, Project: s.ProjectName, Stack: s.Stack, Env: s.EnvVars}, nil
}

func (t LockTarget) store(ctx context.Context) (lockStore, error) {
	switch t.Backend.Scheme {
	case "file":
		return fileStore{root: t.Backend.Dir}, nil
	case "s3":
		return newS3Store(ctx, t.Backend, t.Env)
	}
	return nil, fmt.Errorf("%w, not %s:// (%s); for it use `pulumi cancel`", errNoLockSupport, t.Backend.Scheme, redactURL(t.Backend.URL))
}

// Locks returns the stack's locks, oldest first.
func Locks(ctx context.Context, t LockTarget) ([]Lock, error) {
	st, err := t.store(ctx)
	if err != nil {
		return nil, err
	}
	var out []Lock
	for _, dir := range lockDirs(t.Project, t.Stack) {
		keys, err := st.list(ctx, dir)
		if err != nil {
			return nil, fmt.Errorf("listing the locks of %s in %s: %w", t.Stack, redactURL(t.Backend.URL), err)
		}
		for _, k := range keys {
			if !strings.HasSuffix(k, ".json") {
				continue
			}
			body, err := st.read(ctx, k)
			if errors.Is(err, fs.ErrNotExist) {
				continue // released between list and read
			}
			if err != nil {
				return nil, fmt.Errorf("reading lock %s: %w", k, err)
			}
			var c lockContent
			if err := json.Unmarshal(body, &c); err != nil {
				return nil, fmt.Errorf("lock %s is not a Pulumi lock: %w", k, err)
			}
			out = append(out, Lock{Key: k, User: c.Username, Host: c.Hostname, PID: c.Pid, Since: c.Timestamp})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Since.Before(out[j].Since) })
	return out, nil
}

// RemoveLocks deletes exactly the given locks (by key), never a lock taken
// after they were listed: a new update's lock stays.
func RemoveLocks(ctx context.Context, t LockTarget, locks []Lock) error {
	st, err := t.store(ctx)
	if err != nil {
		return err
	}
	for _, l := range locks {
		if err := st.remove(ctx, l.Key); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("removing lock %s of %s: %w", l.Key, t.Stack, err)
		}
	}
	return nil
}

type fileStore struct{ root string }

func (f fileStore) list(_ context.Context, dir string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(f.root, filepath.FromSlash(dir)))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var keys []string
	for _, e := range entries {
		if !e.IsDir() {
			keys = append(keys, path.Join(dir, e.Name()))
		}
	}
	return keys, nil
}

func (f fileStore) read(_ context.Context, key string) ([]byte, error) {
	return os.ReadFile(filepath.Join(f.root, filepath.FromSlash(key)))
}

func (f fileStore) remove(_ context.Context, key string) error {
	return os.Remove(filepath.Join(f.root, filepath.FromSlash(key)))
}

// s3Store reads the bucket as the CLI does: the URL's endpoint, region,
// profile and path style; credentials from the SDK's standard sources
// (with the settings' variables taking precedence).
type s3Store struct {
	c      *s3.Client
	bucket string
	prefix string
}

func newS3Store(ctx context.Context, b Backend, env map[string]string) (s3Store, error) {
	var opts []func(*config.LoadOptions) error
	region := b.Query.Get("region")
	if region == "" {
		region = env["AWS_REGION"]
	}
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	if p := b.Query.Get("profile"); p != "" {
		opts = append(opts, config.WithSharedConfigProfile(p))
	}
	if id, secret := env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]; id != "" && secret != "" {
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(id, secret, env["AWS_SESSION_TOKEN"])))
	}
	if b.Query.Get("response_checksum_validation") == "when_required" {
		opts = append(opts, config.WithResponseChecksumValidation(aws.ResponseChecksumValidationWhenRequired))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return s3Store{}, fmt.Errorf("loading the AWS configuration for %s: %w", redactURL(b.URL), err)
	}
	pathStyle := b.Query.Get("use_path_style") == "true" || b.Query.Get("s3ForcePathStyle") == "true"
	endpoint := b.Query.Get("endpoint")
	if endpoint != "" && !strings.Contains(endpoint, "://") {
		endpoint = "https://" + endpoint
		if b.Query.Get("disableSSL") == "true" {
			endpoint = "http://" + strings.TrimPrefix(endpoint, "https://")
		}
	}
	c := s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.UsePathStyle = pathStyle
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
	})
	return s3Store{c: c, bucket: b.Bucket, prefix: b.Prefix}, nil
}

func (s s3Store) full(key string) string {
	if s.prefix == "" {
		return key
	}
	return s.prefix + "/" + key
}

func (s s3Store) list(ctx context.Context, dir string) ([]string, error) {
	var keys []string
	p := s3.NewListObjectsV2Paginator(s.c, &s3.ListObjectsV2Input{Bucket: aws.String(s.bucket), Prefix: aws.String(s.full(dir) + "/"), Delimiter: aws.String("/")})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, o := range page.Contents {
			keys = append(keys, strings.TrimPrefix(aws.ToString(o.Key), s.full("")))
		}
	}
	return keys, nil
}

func (s s3Store) read(ctx context.Context, key string) ([]byte, error) {
	out, err := s.c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.full(key))})
	if err != nil {
		var nsk interface{ ErrorCode() string }
		if errors.As(err, &nsk) && nsk.ErrorCode() == "NoSuchKey" {
			return nil, fs.ErrNotExist
		}
		return nil, err
	}
	defer out.Body.Close()
	return io.ReadAll(out.Body)
}

func (s s3Store) remove(ctx context.Context, key string) error {
	_, err := s.c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.full(key))})
	return err
}

// releaseLocksOf returns what the driver does after it had to kill a CLI:
// remove the locks that very process took on this host, so the next run is
// not refused by a lock nobody holds. Locks of other processes or hosts are
// never touched.
func releaseLocksOf(s Settings) func(pid int) {
	log := s.Logger
	if log == nil {
		log = slog.Default()
	}
	return func(pid int) {
		t, err := LockTargetFor(s)
		if err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		locks, err := Locks(ctx, t)
		if err != nil {
			log.Warn("listing the stack's locks after killing the CLI", "err", err)
			return
		}
		host, _ := os.Hostname()
		var ours []Lock
		for _, l := range locks {
			if l.PID == pid && l.Host == host {
				ours = append(ours, l)
			}
		}
		if len(ours) == 0 {
			return
		}
		if err := RemoveLocks(ctx, t, ours); err != nil {
			log.Warn("removing the killed CLI's lock; run `automation unlock` to remove it", "err", err)
			return
		}
		log.Info("removed the lock the killed CLI held", "lock", ours[0].String())
	}
}
