package verify

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/spec"
)

// IDSSE is the id of the sse check.
const IDSSE = "sse"

func init() {
	register(check{Entry: Entry{ID: IDSSE, Writes: false,
		Summary: "the tables are encrypted with the environment CMK",
		Catches: []string{"table-wrong-key", "table-aws-owned-key"}},
		rank: 20, run: (*session).checkSSE})
}

func (s *session) checkSSE(ctx context.Context) report.Check {
	f := newFindings(IDSSE)
	cmk, cmkErr := s.cmk()
	fix := "set the table's server-side encryption to the environment CMK (" + s.tgt.KMSAlias + "); " + fixDeploy
	s.eachDescription(f, false, func(_ spec.TableSchema, name string, d *types.TableDescription) {
		sse := d.SSEDescription
		switch {
		case sse == nil:
			f.fail(fix, "table %s is encrypted with the AWS-owned key, not the environment CMK", name)
		case sse.Status != types.SSEStatusEnabled:
			f.fail(fix, "table %s encryption is %s, not ENABLED", name, sse.Status)
		case sse.SSEType != types.SSETypeKms:
			f.fail(fix, "table %s encryption type is %s, not KMS", name, sse.SSEType)
		case cmkErr != nil:
			f.warn("see the kms check", "table %s uses key %s; not compared: the environment CMK %s could not be described", name, aws.ToString(sse.KMSMasterKeyArn), s.tgt.KMSKey)
		case aws.ToString(sse.KMSMasterKeyArn) != cmk.Arn:
			f.fail(fix, "table %s is encrypted with key %s, not the environment CMK %s", name, aws.ToString(sse.KMSMasterKeyArn), cmk.Arn)
		default:
			f.details[name] = "KMS " + cmk.Arn
		}
	})
	if cmkErr != nil && !isNotFound(cmkErr) {
		f.err("describing the environment CMK", cmkErr)
	}
	return f.result("the three tables are encrypted with the environment CMK")
}
