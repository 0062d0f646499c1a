package drift_test

import (
	"context"
	"errors"
	"github.com/mirror-dissonance/mirror-infra/emulator"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/mirror-dissonance/mirror-infra/awsclient"
	"github.com/mirror-dissonance/mirror-infra/oracle/drift"
)

// versionedBucket is a fresh seeded environment's baselines bucket,
// versioned as SPEC 2.10 declares it, and a client for it as the Oracle
// builds one.
func versionedBucket(t *testing.T) (*s3.Client, string) {
	t.Helper()
	e := emulator.NewTestEnv(t, emulator.SeedOptions{SkipNonce: true})
	return awsclient.NewS3(e.NoRetries()), e.Target().BaselinesBucket
}

func TestStoreKeepsBaselinesWhereTheOracleDoes(t *testing.T) {
	c, bucket := versionedBucket(t)
	ctx := context.Background()
	s := drift.Store{Client: c, Bucket: bucket}
	root, paths := tree(t, 3)

	if _, found, err := s.Get(ctx, "acme/api"); err != nil || found {
		t.Fatalf("Get before any put = found %v, %v; want not found, no error", found, err)
	}
	first, err := drift.Snapshot(root, paths, t0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, "acme/api", first); err != nil {
		t.Fatal(err)
	}
	// The object is where the Oracle's object store reads it, as JSON.
	obj, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("baselines/acme/api.json")})
	if err != nil {
		t.Fatalf("the baseline is not at baselines/<repoId>.json: %v", err)
	}
	obj.Body.Close()
	if ct := aws.ToString(obj.ContentType); ct != "application/json" {
		t.Errorf("content type %q, want application/json", ct)
	}
	second := first
	second.Files = first.Files[:1]
	if _, err := s.Put(ctx, "acme/api", second); err != nil {
		t.Fatal(err)
	}
	got, found, err := s.Get(ctx, "acme/api")
	if err != nil || !found || len(got.Files) != 1 || got.Files[0] != first.Files[0] {
		t.Fatalf("Get = %+v, %v, %v; want the second baseline", got, found, err)
	}
	vs, err := s.Versions(ctx, "acme/api")
	if err != nil || len(vs) != 2 {
		t.Fatalf("Versions = %+v, %v; want 2 (the bucket is versioned)", vs, err)
	}
	// A neighbouring key that shares the prefix is not a version of this one.
	if _, err := s.Put(ctx, "acme/api.json.bak", first); err != nil {
		t.Fatal(err)
	}
	if vs, _ := s.Versions(ctx, "acme/api"); len(vs) != 2 {
		t.Errorf("Versions counted a neighbouring key: %+v", vs)
	}
	n, err := s.Purge(ctx, "acme/api")
	if err != nil || n != 2 {
		t.Fatalf("Purge = %d, %v; want 2 versions removed", n, err)
	}
	if vs, err := s.Versions(ctx, "acme/api"); err != nil || len(vs) != 0 {
		t.Errorf("after Purge: %+v, %v; want nothing left", vs, err)
	}
	if _, found, _ := s.Get(ctx, "acme/api.json.bak"); !found {
		t.Error("Purge removed a neighbouring key")
	}
}

func TestStoreRefusesKeysOutsideBaselines(t *testing.T) {
	s := drift.Store{Bucket: "b"} // no client: a refused id makes no call
	for _, id := range []string{"", "/abs", "../x", "a/../../x", "a//b", "./a", "a/.", "a\\b", "a\nb"} {
		if _, err := s.Put(context.Background(), id, drift.Baseline{}); !errors.Is(err, drift.ErrBadRepoID) {
			t.Errorf("Put(%q) = %v, want ErrBadRepoID", id, err)
		}
	}
}

func TestStoreReportsAnUnreachableBucket(t *testing.T) {
	c, _ := versionedBucket(t)
	s := drift.Store{Client: c, Bucket: "no-such-bucket"}
	if _, _, err := s.Get(context.Background(), "acme/api"); err == nil || !strings.Contains(err.Error(), "s3://no-such-bucket/baselines/acme/api.json") {
		t.Errorf("Get on a missing bucket = %v; want an error naming the object", err)
	}
}
