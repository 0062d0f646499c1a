package gate

import (
	"fmt"
	"strings"

	"github.com/mirror-dissonance/mirror-infra/spec"
)

// Rules of SPEC 5 on the drift baselines bucket (SPEC 2.10). Its
// configuration lives in separate resources, tied to it by their `bucket`
// input, so a rule fails both when its resource is wrong and when the plan
// drops it.
const (
	RuleBucketPresent      = "baselines-bucket"
	RuleBucketVersioned    = "baselines-versioned"
	RuleBucketSSE          = "baselines-sse-kms"
	RuleBucketPublicAccess = "baselines-public-access"
	RuleBucketTLS          = "baselines-tls-only"
	RuleBucketProtect      = "baselines-protect"
)

func init() {
	register(
		Rule{ID: RuleBucketPresent, Description: "the plan keeps the baselines bucket", Check: func(p *Plan) {
			if p.baselinesBucket() == nil {
				name := p.Names.BaselinesBucket()
				p.Fail(Resource{}, "the plan keeps no bucket %s, where the Oracle keeps its drift baselines (SPEC 2.10)", name)
			}
		}},
		Rule{ID: RuleBucketProtect, Description: "the baselines bucket has Pulumi protect on", Check: func(p *Plan) {
			if b := p.baselinesBucket(); b != nil {
				p.protect(*b, "the drift baselines")
			}
		}},
		Rule{ID: RuleBucketVersioned, Description: "the baselines bucket is versioned", Check: func(p *Plan) {
			for _, r := range p.bucketConfig(TypeBucketVersioning, "versioning (BucketVersioningV2): an overwritten baseline could not be recovered") {
				if v, ok := p.Str(r, "versioningConfiguration.status"); ok && v != "Enabled" {
					p.Fail(r, "versioning status is %q, want Enabled", v)
				}
			}
		}},
		Rule{ID: RuleBucketSSE, Description: "the baselines bucket is encrypted with SSE-KMS, the environment key and a bucket key", Check: func(p *Plan) {
			for _, r := range p.bucketConfig(TypeBucketEncryption, "server-side encryption configuration (S3 would use SSE-S3, not the environment key)") {
				p.bucketSSE(r, p.tableKeys())
			}
		}},
		Rule{ID: RuleBucketPublicAccess, Description: "the baselines bucket blocks all public access", Check: func(p *Plan) {
			for _, r := range p.bucketConfig(TypeBucketPublicAccessBlock, "public access block") {
				var off []string
				for _, k := range []string{"blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"} {
					if on, ok := p.Bool(r, k); ok && !on {
						off = append(off, k)
					}
				}
				if len(off) > 0 {
					p.Fail(r, "%s off: public access is not fully blocked", strings.Join(off, ", "))
				}
			}
		}},
		Rule{ID: RuleBucketTLS, Description: "the baselines bucket's policy denies every request without TLS", Check: func(p *Plan) {
			for _, r := range p.bucketConfig(TypeBucketPolicy, "bucket policy, so requests over plain HTTP are not denied") {
				if sts, ok := p.Policy(r, "policy"); ok {
					if msg := spec.TLSOnlyProblem(spec.PolicyDocument{Statement: sts}, p.Names.BaselinesBucket()); msg != "" {
						p.Fail(r, "%s", msg)
					}
				}
			}
		}},
	)
}

// baselinesBucket is the kept baselines bucket, nil when the plan drops it.
func (p *Plan) baselinesBucket() *Resource {
	name := p.Names.BaselinesBucket()
	for _, r := range p.Of(TypeBucket) {
		if inputIs(r, "bucket", name) {
			return &r
		}
	}
	return nil
}

// bucketConfig returns the kept configuration resources of a type tied to
// the baselines bucket, failing the running rule when there is none (what
// names the missing configuration). A resource tied to a bucket whose name
// the preview does not know yet counts, and is reported as unverified.
// Without the bucket it returns nothing: baselines-bucket fails then.
func (p *Plan) bucketConfig(typ, what string) []Resource {
	bucket := p.baselinesBucket()
	if bucket == nil {
		return nil
	}
	name := p.Names.BaselinesBucket()
	var out []Resource
	for _, r := range p.Of(typ) {
		v, st := read(r.Inputs, "bucket")
		switch {
		case st != known:
			p.Unverified(r, "bucket", st)
			out = append(out, r)
		case v == name:
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		p.Fail(*bucket, "the plan declares no %s for %s", what, name)
	}
	return out
}

// tableKeys are the known key ARNs the tables are encrypted with: the
// environment key as the plan names it (an output, so not known from the
// key resource's inputs).
func (p *Plan) tableKeys() map[string]bool {
	keys := map[string]bool{}
	for _, r := range p.Of(TypeTable) {
		if v, st := read(r.Inputs, "serverSideEncryption.kmsKeyArn"); st == known {
			if s, _ := v.(string); s != "" {
				keys[s] = true
			}
		}
	}
	return keys
}

// bucketSSE checks one encryption configuration: a rule of aws:kms with the
// environment key (the tables' key, or the environment alias) and a bucket
// key.
func (p *Plan) bucketSSE(r Resource, envKeys map[string]bool) {
	rules, ok := p.List(r, "rules")
	if ok && len(rules) == 0 {
		p.Fail(r, "the encryption configuration has no rule")
	}
	for i, rule := range rules {
		path := fmt.Sprintf("rules[%d]", i)
		alg, algOK := p.field(r, rule, path, "applyServerSideEncryptionByDefault.sseAlgorithm")
		keyRef, refOK := p.field(r, rule, path, "applyServerSideEncryptionByDefault.kmsMasterKeyId")
		ref, _ := keyRef.(string)
		switch {
		case !algOK:
		case alg != "aws:kms":
			p.Fail(r, "%s uses %v, not aws:kms with the environment key", path, alg)
		case !refOK:
		case ref == "":
			p.Fail(r, "%s names no KMS key, so the AWS managed key aws/s3 would be used", path)
		case strings.Contains(ref, "alias/aws/"):
			p.Fail(r, "%s uses the AWS managed key %s, not the environment key", path, ref)
		case ref == p.Names.KeyAlias() || strings.HasSuffix(ref, ":"+p.Names.KeyAlias()):
		case len(envKeys) > 0 && !envKeys[ref]:
			p.Fail(r, "%s uses key %s, not the environment key the tables use", path, ref)
		}
		if on, ok := p.field(r, rule, path, "bucketKeyEnabled"); ok && on != true && on != "true" {
			p.Fail(r, "%s has the bucket key off: every object operation would call KMS", path)
		}
	}
}
