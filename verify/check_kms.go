package verify

import (
	"context"
	"strconv"

	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/mirror-dissonance/mirror-infra/report"
)

// IDKMS is the id of the kms check.
const IDKMS = "kms"

func init() {
	register(check{Entry: Entry{ID: IDKMS, Writes: false,
		Summary: "the environment CMK is enabled and rotating, and its alias is present",
		Catches: []string{"rotation-off", "alias-missing"}},
		rank: 50, run: (*session).checkKMS})
}

func (s *session) checkKMS(ctx context.Context) report.Check {
	f := newFindings(IDKMS)
	cmk, err := s.cmk()
	if f.absent(err, s.fixMissing("KMSKey", "MD_KMS_KEY"), "KMS key %s does not exist", s.tgt.KMSKey) ||
		f.failed("describing KMS key "+s.tgt.KMSKey, err) {
		return f.result("")
	}
	m := cmk.meta.KeyMetadata
	if !m.Enabled || m.KeyState != kmstypes.KeyStateEnabled {
		f.fail("enable the key (aws kms enable-key) or cancel its deletion", "KMS key %s is %s, not Enabled", cmk.Arn, m.KeyState)
	}
	if m.KeyManager != "" && m.KeyManager != kmstypes.KeyManagerTypeCustomer {
		f.fail("use the stack's customer-managed key", "KMS key %s is %s-managed, not customer-managed", cmk.Arn, m.KeyManager)
	}
	rot, err := s.c.KMS.GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: aws.String(cmk.Arn)})
	switch {
	case err != nil:
		f.err("reading the rotation status of "+cmk.Arn, err)
	case !rot.KeyRotationEnabled:
		f.fail("enable rotation (aws kms enable-key-rotation); "+fixDeploy, "automatic rotation is off on KMS key %s", cmk.Arn)
	default:
		days := "default period"
		if rot.RotationPeriodInDays != nil {
			days = strconv.Itoa(int(*rot.RotationPeriodInDays)) + " days"
		}
		f.details["rotation"] = "enabled, " + days
	}
	if s.tgt.KMSAlias != "" {
		alias, err := s.key(s.tgt.KMSAlias)
		switch {
		case isNotFound(err):
			f.fail("check target.Env.KMSAlias (MD_KMS_ALIAS); if it is right, "+fixDeploy, "alias %s does not exist", s.tgt.KMSAlias)
		case err != nil:
			f.err("describing alias "+s.tgt.KMSAlias, err)
		case alias.Arn != cmk.Arn:
			f.fail("check that target.Env.KMSKey and KMSAlias (MD_KMS_KEY, MD_KMS_ALIAS) name one key; if they do, "+fixDeploy, "alias %s points at %s, not the environment key %s", s.tgt.KMSAlias, alias.Arn, cmk.Arn)
		default:
			f.details["alias"] = s.tgt.KMSAlias
		}
	}
	f.details["key"] = cmk.Arn
	return f.result("the environment CMK is enabled, rotating, and its alias is present")
}
