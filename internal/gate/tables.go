package gate

import (
	"strings"

	"github.com/mirror-dissonance/mirror-infra/spec"
)

// Rules of SPEC 5 on the three DynamoDB tables (SPEC 2.2).
const (
	RuleTablePITR     = "table-pitr"
	RuleTableSSE      = "table-sse-cmk"
	RuleTableBilling  = "table-billing"
	RuleTableDeletion = "table-deletion-protection"
	RuleTableProtect  = "table-protect"
	RuleTableCount    = "table-count"
)

func init() {
	register(
		Rule{ID: RuleTablePITR, Description: "every table has point-in-time recovery on", Check: func(p *Plan) {
			for _, r := range p.Of(TypeTable) {
				if on, ok := p.Bool(r, "pointInTimeRecovery.enabled"); ok && !on {
					p.Fail(r, "point-in-time recovery is off")
				}
			}
		}},
		Rule{ID: RuleTableSSE, Description: "every table is encrypted with a customer-managed KMS key", Check: func(p *Plan) {
			for _, r := range p.Of(TypeTable) {
				on, ok := p.Bool(r, "serverSideEncryption.enabled")
				if !ok {
					continue
				}
				if !on {
					p.Fail(r, "server-side encryption with a customer-managed key is off (the AWS-owned key is used)")
					continue
				}
				switch key, ok := p.Str(r, "serverSideEncryption.kmsKeyArn"); {
				case !ok:
				case key == "":
					p.Fail(r, "server-side encryption names no KMS key, so the AWS-managed key would be used")
				case strings.Contains(key, "alias/aws/"):
					p.Fail(r, "encrypted with the AWS-managed key %s, not the environment CMK", key)
				}
			}
		}},
		Rule{ID: RuleTableBilling, Description: "every table is " + spec.BillingMode, Check: func(p *Plan) {
			for _, r := range p.Of(TypeTable) {
				if v, ok := p.Str(r, "billingMode"); ok && v != spec.BillingMode {
					p.Fail(r, "billing mode is %q, want %s", v, spec.BillingMode)
				}
			}
		}},
		Rule{ID: RuleTableDeletion, Description: "table deletion protection is as configured (always on in production)", Check: func(p *Plan) {
			want := p.Opts.DeletionProtection || p.Opts.Environment == "production"
			for _, r := range p.Of(TypeTable) {
				if on, ok := p.Bool(r, "deletionProtectionEnabled"); ok && on != want {
					p.Fail(r, "deletion protection is %t, configured %t", on, want)
				}
			}
		}},
		Rule{ID: RuleTableProtect, Description: "every table has Pulumi protect on", Check: func(p *Plan) {
			for _, r := range p.Of(TypeTable) {
				p.protect(r, "the table")
			}
		}},
		Rule{ID: RuleTableCount, Description: "exactly three tables", Check: func(p *Plan) {
			if n := len(p.Of(TypeTable)); n != len(spec.TableSchemas) {
				p.Fail(Resource{}, "the plan keeps %d tables; SPEC 2.2 has exactly %d", n, len(spec.TableSchemas))
			}
		}},
	)
}
