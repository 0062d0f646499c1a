package verify

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/mirror-dissonance/mirror-infra/internal/awsclient"
	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/spec"
)

// IDBaselines is SPEC 6's check of the drift-baselines bucket (2.10).
const IDBaselines = "baselines"

// S3API is the part of the S3 client the baselines check uses.
type S3API interface {
	GetBucketVersioning(context.Context, *s3.GetBucketVersioningInput, ...func(*s3.Options)) (*s3.GetBucketVersioningOutput, error)
	GetBucketEncryption(context.Context, *s3.GetBucketEncryptionInput, ...func(*s3.Options)) (*s3.GetBucketEncryptionOutput, error)
	GetPublicAccessBlock(context.Context, *s3.GetPublicAccessBlockInput, ...func(*s3.Options)) (*s3.GetPublicAccessBlockOutput, error)
	GetBucketPolicy(context.Context, *s3.GetBucketPolicyInput, ...func(*s3.Options)) (*s3.GetBucketPolicyOutput, error)
}

// newS3Client addresses buckets by path when cfg has a custom endpoint (an
// emulator has no per-bucket host names).
func newS3Client(cfg aws.Config) *s3.Client {
	return awsclient.NewS3(cfg)
}

// S3 error codes that are findings about the bucket, not call failures.
const (
	s3NoSuchBucket          = "NoSuchBucket"
	s3NoEncryption          = "ServerSideEncryptionConfigurationNotFoundError"
	s3NoPublicAccessBlock   = "NoSuchPublicAccessBlockConfiguration"
	s3NoBucketPolicy        = "NoSuchBucketPolicy"
	fixBaselinesBucketSpecs = "the stack's program declares the bucket's configuration: " + fixDeploy
)

func s3Code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// checkBaselines reads the bucket's four security settings with one request
// each, concurrently: versioning, default encryption, public access block
// and policy. A missing bucket shows in all four; it is reported once.
func (s *session) checkBaselines(ctx context.Context) report.Check {
	f := newFindings(IDBaselines)
	bucket := s.t.BaselinesBucket
	if s.c.S3 == nil {
		f.err("reading bucket "+bucket, errors.New("no S3 client configured (verify.Clients.S3)"))
		return f.result("")
	}
	b := aws.String(bucket)
	var (
		wg                         sync.WaitGroup
		ver                        *s3.GetBucketVersioningOutput
		enc                        *s3.GetBucketEncryptionOutput
		pab                        *s3.GetPublicAccessBlockOutput
		pol                        *s3.GetBucketPolicyOutput
		verErr, encErr, pabErr, pe error
	)
	wg.Add(4)
	go func() {
		defer wg.Done()
		ver, verErr = s.c.S3.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: b})
	}()
	go func() {
		defer wg.Done()
		enc, encErr = s.c.S3.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: b})
	}()
	go func() {
		defer wg.Done()
		pab, pabErr = s.c.S3.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: b})
	}()
	go func() { defer wg.Done(); pol, pe = s.c.S3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: b}) }()
	wg.Wait()
	for _, err := range []error{verErr, encErr, pabErr, pe} {
		if s3Code(err) == s3NoSuchBucket {
			f.fail(s.fixMissing("BaselinesBucket", "MD_BASELINES_BUCKET"), "bucket %s does not exist: the Oracle has nowhere to keep drift baselines", bucket)
			return f.result("")
		}
	}

	switch {
	case f.failed("reading the versioning of "+bucket, verErr):
	case ver.Status != s3types.BucketVersioningStatusEnabled:
		status := string(ver.Status)
		if status == "" {
			status = "never enabled"
		}
		f.fail(fixBaselinesBucketSpecs, "bucket %s is not versioned (%s): an overwritten baseline cannot be recovered", bucket, status)
	default:
		f.details["versioning"] = string(ver.Status)
	}

	s.checkBucketEncryption(f, bucket, enc, encErr)

	switch {
	case s3Code(pabErr) == s3NoPublicAccessBlock:
		f.fail(fixBaselinesBucketSpecs, "bucket %s has no public access block", bucket)
	case f.failed("reading the public access block of "+bucket, pabErr):
	default:
		c := pab.PublicAccessBlockConfiguration
		var off []string
		for _, x := range []struct {
			name string
			on   *bool
		}{
			{"BlockPublicAcls", c.BlockPublicAcls}, {"BlockPublicPolicy", c.BlockPublicPolicy},
			{"IgnorePublicAcls", c.IgnorePublicAcls}, {"RestrictPublicBuckets", c.RestrictPublicBuckets},
		} {
			if !aws.ToBool(x.on) {
				off = append(off, x.name)
			}
		}
		if len(off) > 0 {
			f.fail(fixBaselinesBucketSpecs, "bucket %s does not block all public access (%s off)", bucket, strings.Join(off, ", "))
		} else {
			f.details["public access"] = "blocked"
		}
	}

	switch {
	case s3Code(pe) == s3NoBucketPolicy:
		f.fail(fixBaselinesBucketSpecs, "bucket %s has no policy, so requests over plain HTTP are not denied", bucket)
	case f.failed("reading the policy of "+bucket, pe):
	default:
		doc, err := spec.ParsePolicy(aws.ToString(pol.Policy))
		if err != nil {
			f.fail(fixBaselinesBucketSpecs, "the policy of bucket %s is unreadable: %v", bucket, err)
		} else if p := spec.TLSOnlyProblem(doc, bucket); p != "" {
			f.fail(fixBaselinesBucketSpecs, "bucket %s is not TLS-only: %s", bucket, p)
		} else {
			f.details["policy"] = "denies requests without TLS"
		}
	}
	return f.result(fmt.Sprintf("bucket %s: versioned, SSE-KMS with the environment CMK and a bucket key, public access blocked, TLS-only", bucket))
}

// checkBucketEncryption wants SSE-KMS with the environment CMK and a bucket
// key. Comparing the key reuses the run's CMK lookup (the kms check makes
// it), so a full run adds no KMS request.
func (s *session) checkBucketEncryption(f *findings, bucket string, enc *s3.GetBucketEncryptionOutput, err error) {
	fix := "encrypt bucket " + bucket + " with SSE-KMS, the environment CMK (" + s.t.KMSAlias + ") and a bucket key; " + fixDeploy
	if s3Code(err) == s3NoEncryption {
		f.fail(fix, "bucket %s has no default encryption (S3 uses SSE-S3, not the environment CMK)", bucket)
		return
	}
	if f.failed("reading the encryption of "+bucket, err) {
		return
	}
	var rule *s3types.ServerSideEncryptionRule
	if c := enc.ServerSideEncryptionConfiguration; c != nil && len(c.Rules) > 0 {
		rule = &c.Rules[0]
	}
	if rule == nil || rule.ApplyServerSideEncryptionByDefault == nil {
		f.fail(fix, "bucket %s has no default encryption rule", bucket)
		return
	}
	def := rule.ApplyServerSideEncryptionByDefault
	keyRef := aws.ToString(def.KMSMasterKeyID)
	switch {
	case def.SSEAlgorithm != s3types.ServerSideEncryptionAwsKms:
		f.fail(fix, "bucket %s is encrypted with %s, not SSE-KMS with the environment CMK", bucket, def.SSEAlgorithm)
		return
	case keyRef == "":
		f.fail(fix, "bucket %s uses SSE-KMS with the AWS managed key aws/s3, not the environment CMK", bucket)
		return
	}
	cmk, cerr := s.cmk()
	if cerr != nil {
		f.warn("see the kms check", "bucket %s uses key %s; not compared: the environment CMK could not be described", bucket, keyRef)
	} else if ok, err := s.keyMatches(keyRef, cmk); err != nil {
		f.err("resolving the key "+keyRef+" of bucket "+bucket, err)
	} else if !ok {
		f.fail(fix, "bucket %s is encrypted with %s, not the environment CMK %s", bucket, keyRef, cmk.Arn)
	} else {
		f.details["encryption"] = keyRef
	}
	if !aws.ToBool(rule.BucketKeyEnabled) {
		f.fail(fix, "bucket %s has the S3 bucket key off: every object operation calls KMS", bucket)
	}
}
