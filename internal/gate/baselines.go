package gate

import (
	"fmt"
	"strings"

	"github.com/mirror-dissonance/mirror-infra/spec"
)

// baselines applies the baselines bucket rules of SPEC 5 (2.10) to what the
// plan keeps. The bucket's configuration lives in separate resources, tied
// to it by their `bucket` input, so a rule fails both when its resource is
// wrong and when the plan drops it.
func (e *evaluator) baselines(kept []Resource, names spec.Names) {
	name := names.BaselinesBucket()
	var bucket *Resource
	for i := range kept {
		if kept[i].Type == TypeBucket && inputIs(kept[i], "bucket", name) {
			bucket = &kept[i]
		}
	}
	if bucket == nil {
		e.fail(RuleBucketPresent, Resource{}, fmt.Sprintf("the plan keeps no bucket %s, where the Oracle keeps its drift baselines (SPEC 2.10)", name))
		return
	}
	e.protect(RuleBucketProtect, *bucket, "the drift baselines")
	of := func(typ string) []Resource {
		var out []Resource
		for _, r := range kept {
			if r.Type != typ {
				continue
			}
			v, _ := lookup(r.Inputs, "bucket")
			switch v {
			case name:
				out = append(out, r)
			case UnknownValue: // tied to a bucket whose name a preview does not know yet
				e.unknown(r, "bucket")
				out = append(out, r)
			}
		}
		return out
	}
	missing := func(rule, what string) {
		e.fail(rule, *bucket, fmt.Sprintf("the plan declares no %s for %s", what, name))
	}

	if vs := of(TypeBucketVersioning); len(vs) == 0 {
		missing(RuleBucketVersioned, "versioning (BucketVersioningV2): an overwritten baseline could not be recovered")
	} else {
		for _, r := range vs {
			if v, known := e.str(r, "versioningConfiguration.status"); known && v != "Enabled" {
				e.fail(RuleBucketVersioned, r, fmt.Sprintf("versioning status is %q, want Enabled", v))
			}
		}
	}

	if encs := of(TypeBucketEncryption); len(encs) == 0 {
		missing(RuleBucketSSE, "server-side encryption configuration (S3 would use SSE-S3, not the environment key)")
	} else {
		for _, r := range encs {
			e.bucketSSE(r, names, e.tableKeys(kept))
		}
	}

	if pabs := of(TypeBucketPublicAccessBlock); len(pabs) == 0 {
		missing(RuleBucketPublicAccess, "public access block")
	} else {
		for _, r := range pabs {
			var off []string
			for _, k := range []string{"blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"} {
				if b, known := e.boolean(r, k); known && !b {
					off = append(off, k)
				}
			}
			if len(off) > 0 {
				e.fail(RuleBucketPublicAccess, r, fmt.Sprintf("%s off: public access is not fully blocked", strings.Join(off, ", ")))
			}
		}
	}

	if pols := of(TypeBucketPolicy); len(pols) == 0 {
		missing(RuleBucketTLS, "bucket policy, so requests over plain HTTP are not denied")
	} else {
		for _, r := range pols {
			sts, ok := e.parsePolicy(r, "policy")
			if !ok {
				continue
			}
			if p := spec.TLSOnlyProblem(spec.PolicyDocument{Statement: sts}, name); p != "" {
				e.fail(RuleBucketTLS, r, p)
			}
		}
	}
}

// tableKeys are the known key ARNs the tables are encrypted with: the
// environment key as the plan names it (an output, so not known from the
// key resource's inputs).
func (e *evaluator) tableKeys(kept []Resource) map[string]bool {
	keys := map[string]bool{}
	for _, r := range kept {
		if r.Type != TypeTable {
			continue
		}
		if v, _ := lookup(r.Inputs, "serverSideEncryption.kmsKeyArn"); v != nil {
			if s, _ := v.(string); s != "" && s != UnknownValue {
				keys[s] = true
			}
		}
	}
	return keys
}

// bucketSSE checks one encryption configuration: a rule of aws:kms with the
// environment key (the tables' key, or the environment alias) and a bucket
// key.
func (e *evaluator) bucketSSE(r Resource, names spec.Names, envKeys map[string]bool) {
	rules, _ := lookup(r.Inputs, "rules")
	list, _ := rules.([]any)
	if len(list) == 0 {
		e.fail(RuleBucketSSE, r, "the encryption configuration has no rule")
		return
	}
	for i, x := range list {
		rule, _ := x.(map[string]any)
		path := fmt.Sprintf("rules[%d]", i)
		alg, _ := lookup(rule, "applyServerSideEncryptionByDefault.sseAlgorithm")
		keyRef, _ := lookup(rule, "applyServerSideEncryptionByDefault.kmsMasterKeyId")
		ref, _ := keyRef.(string)
		switch {
		case alg != "aws:kms":
			e.fail(RuleBucketSSE, r, fmt.Sprintf("%s uses %v, not aws:kms with the environment key", path, alg))
		case ref == UnknownValue:
			e.unknown(r, path+".applyServerSideEncryptionByDefault.kmsMasterKeyId")
		case ref == "":
			e.fail(RuleBucketSSE, r, path+" names no KMS key, so the AWS managed key aws/s3 would be used")
		case strings.Contains(ref, "alias/aws/"):
			e.fail(RuleBucketSSE, r, fmt.Sprintf("%s uses the AWS managed key %s, not the environment key", path, ref))
		case ref == names.KeyAlias() || strings.HasSuffix(ref, ":"+names.KeyAlias()):
		case len(envKeys) > 0 && !envKeys[ref]:
			e.fail(RuleBucketSSE, r, fmt.Sprintf("%s uses key %s, not the environment key the tables use", path, ref))
		}
		if on, _ := rule["bucketKeyEnabled"].(bool); !on {
			if s, _ := rule["bucketKeyEnabled"].(string); s == UnknownValue {
				e.unknown(r, path+".bucketKeyEnabled")
			} else {
				e.fail(RuleBucketSSE, r, path+" has the bucket key off: every object operation would call KMS")
			}
		}
	}
}
