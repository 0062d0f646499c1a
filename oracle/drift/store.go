package drift

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/mirror-dissonance/mirror-infra/spec"
)

// ObjectAPI is the part of the S3 client the baseline store uses.
type ObjectAPI interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	ListObjectVersions(ctx context.Context, in *s3.ListObjectVersionsInput, optFns ...func(*s3.Options)) (*s3.ListObjectVersionsOutput, error)
	DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
}

// Store keeps baselines where the deployed Oracle keeps them: one JSON
// object per repository at baselines/<repoId>.json in the environment's
// versioned baselines bucket (SPEC 2.10), so each put is a new version and
// earlier baselines stay recoverable.
type Store struct {
	Client ObjectAPI
	Bucket string
	// Metadata, when set, is stored with every baseline Put writes (S3
	// user metadata); E2E runs put their marker here.
	Metadata map[string]string
}

// ErrBadRepoID means a repository id would make an object key outside
// baselines/ or an unreadable one.
var ErrBadRepoID = errors.New("repository id must be a relative path without . or .. segments")

// Version is one stored version of a repository's baseline.
type Version struct {
	ID           string
	LastModified time.Time
	// DeleteMarker is a version that hides the baseline (a delete).
	DeleteMarker bool
}

func (s Store) key(repoID string) (string, error) {
	if repoID == "" || strings.HasPrefix(repoID, "/") || strings.ContainsAny(repoID, "\x00\r\n\\") {
		return "", fmt.Errorf("%q: %w", repoID, ErrBadRepoID)
	}
	for _, seg := range strings.Split(repoID, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return "", fmt.Errorf("%q: %w", repoID, ErrBadRepoID)
		}
	}
	if path.Clean(repoID) != repoID {
		return "", fmt.Errorf("%q: %w", repoID, ErrBadRepoID)
	}
	return spec.BaselineKey(repoID), nil
}

// Put stores b as the repository's current baseline and returns the new
// version's id.
func (s Store) Put(ctx context.Context, repoID string, b Baseline) (string, error) {
	key, err := s.key(repoID)
	if err != nil {
		return "", err
	}
	body, err := json.Marshal(b)
	if err != nil {
		return "", fmt.Errorf("encoding baseline of %s: %w", repoID, err)
	}
	out, err := s.Client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(s.Bucket), Key: aws.String(key),
		Body: bytes.NewReader(body), ContentType: aws.String("application/json"),
		Metadata: s.Metadata,
	})
	if err != nil {
		return "", fmt.Errorf("writing s3://%s/%s: %w", s.Bucket, key, err)
	}
	return aws.ToString(out.VersionId), nil
}

// Get reads the repository's current baseline; found is false when there
// is none (the Oracle then treats the run as a first run).
func (s Store) Get(ctx context.Context, repoID string) (b Baseline, found bool, err error) {
	key, err := s.key(repoID)
	if err != nil {
		return Baseline{}, false, err
	}
	out, err := s.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(key)})
	if err != nil {
		var nsk *s3types.NoSuchKey
		var api smithy.APIError
		if errors.As(err, &nsk) || (errors.As(err, &api) && api.ErrorCode() == "NoSuchKey") {
			return Baseline{}, false, nil
		}
		return Baseline{}, false, fmt.Errorf("reading s3://%s/%s: %w", s.Bucket, key, err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(io.LimitReader(out.Body, maxBaselineBytes+1))
	if err != nil {
		return Baseline{}, false, fmt.Errorf("reading s3://%s/%s: %w", s.Bucket, key, err)
	}
	if len(data) > maxBaselineBytes {
		return Baseline{}, false, fmt.Errorf("s3://%s/%s is over %d bytes: not a baseline", s.Bucket, key, maxBaselineBytes)
	}
	if err := json.Unmarshal(data, &b); err != nil {
		return Baseline{}, false, fmt.Errorf("decoding s3://%s/%s: %w", s.Bucket, key, err)
	}
	return b, true, nil
}

// maxBaselineBytes bounds what Get reads, so a wrong object cannot exhaust
// memory.
const maxBaselineBytes = 16 << 20

// Versions lists the stored versions of the repository's baseline, newest
// first, delete markers included.
func (s Store) Versions(ctx context.Context, repoID string) ([]Version, error) {
	key, err := s.key(repoID)
	if err != nil {
		return nil, err
	}
	var out []Version
	in := &s3.ListObjectVersionsInput{Bucket: aws.String(s.Bucket), Prefix: aws.String(key)}
	for {
		page, err := s.Client.ListObjectVersions(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("listing versions of s3://%s/%s: %w", s.Bucket, key, err)
		}
		// The prefix also matches longer keys ("a.json" and "a.json.bak"):
		// keep the exact key only.
		for _, v := range page.Versions {
			if aws.ToString(v.Key) == key {
				out = append(out, Version{ID: aws.ToString(v.VersionId), LastModified: aws.ToTime(v.LastModified)})
			}
		}
		for _, m := range page.DeleteMarkers {
			if aws.ToString(m.Key) == key {
				out = append(out, Version{ID: aws.ToString(m.VersionId), LastModified: aws.ToTime(m.LastModified), DeleteMarker: true})
			}
		}
		if !aws.ToBool(page.IsTruncated) {
			break
		}
		in.KeyMarker, in.VersionIdMarker = page.NextKeyMarker, page.NextVersionIdMarker
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].LastModified.After(out[j].LastModified) })
	return out, nil
}

// Purge deletes every version of the repository's baseline (and its delete
// markers), leaving nothing behind; for runs that wrote a throwaway
// baseline. It returns how many versions it removed.
func (s Store) Purge(ctx context.Context, repoID string) (int, error) {
	key, err := s.key(repoID)
	if err != nil {
		return 0, err
	}
	vs, err := s.Versions(ctx, repoID)
	if err != nil {
		return 0, err
	}
	var errs []error
	n := 0
	for _, v := range vs {
		in := &s3.DeleteObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(key)}
		if v.ID != "" && v.ID != "null" {
			in.VersionId = aws.String(v.ID)
		}
		if _, err := s.Client.DeleteObject(ctx, in); err != nil {
			errs = append(errs, fmt.Errorf("deleting version %s of s3://%s/%s: %w", v.ID, s.Bucket, key, err))
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}
