package gate

import (
	"fmt"
	"slices"
	"strings"
)

// Rules of SPEC 5 on the shape of the plan as a whole.
const (
	RuleStatefulChange = "stateful-delete-replace"
	RuleResourceCount  = "resource-count"
)

// The resource-count band of SPEC 2 when Options leave it zero. The
// program declares 28 AWS resources for staging (the baselines bucket with
// its five configuration resources, three roles with their policies and
// the permissions boundary among them); TestResourceBandFitsTheProgram
// holds the band to the program. It leaves room for the optional e-mail
// subscription, OIDC provider and verification subscriber (queue, policy,
// subscription) and catches a dropped or duplicated component.
const (
	DefaultMinResources = 24
	DefaultMaxResources = 34
)

// statefulTypes hold data: items and their PITR history, encrypted
// material, baselines.
var statefulTypes = map[string]string{TypeTable: "table", TypeKey: "KMS key", TypeBucket: "baselines bucket"}

func init() {
	register(
		Rule{ID: RuleStatefulChange, Description: "no delete or replace of a table, the key or the baselines bucket unless named by the operator",
			Fix: "keep the resource in place (an alias for a rename, no change to a property that forces a replacement), or name it with --allow-replace after review",
			Check: func(p *Plan) {
				for _, r := range p.All {
					if _, ok := statefulTypes[r.Type]; !ok || (r.Op != OpDelete && r.Op != OpReplace) {
						continue
					}
					if slices.Contains(p.Opts.AllowStateful, r.Name) || (r.URN != "" && slices.Contains(p.Opts.AllowStateful, r.URN)) {
						continue
					}
					p.Fail(r, "the plan would %s %s, a stateful resource; name it with --allow-replace %s to proceed", r.Op, r.Name, r.Name)
				}
			}},
		Rule{ID: RuleResourceCount, Description: "the AWS resource count is within the expected band", Check: func(p *Plan) {
			n := 0
			for _, r := range p.Kept {
				if strings.HasPrefix(r.Type, "aws:") {
					n++
				}
			}
			msg := fmt.Sprintf("the plan keeps %d AWS resources; the band is %d to %d", n, p.Opts.MinResources, p.Opts.MaxResources)
			if n < p.Opts.MinResources || n > p.Opts.MaxResources {
				p.Fail(Resource{}, "%s", msg)
				return
			}
			p.Note("%s", msg)
		}},
	)
}
