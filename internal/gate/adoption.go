package gate

// RuleAdoption: after an import (SPEC 3.2), the preview creates, replaces
// or deletes no table, key or baselines bucket that was imported. A
// stateful resource the adoption plan said does not exist may be created
// (that is what the operator approved); any other create, replace or
// delete of a stateful resource fails: the import did not take and the
// deploy would make a second one, or would drop the data.
const RuleAdoption = "adoption"

func init() {
	register(Rule{ID: RuleAdoption, AfterImport: true,
		Description: "after an import (adopt), no create of an imported table, key or bucket, and no replace or delete of one",
		Fix:         "make the program match what was imported (parents, names, properties that force a replacement) and adopt again; nothing was applied",
		Check: func(p *Plan) {
			for _, r := range p.All {
				kind, ok := statefulTypes[r.Type]
				if !ok {
					continue
				}
				switch {
				case r.Op == OpReplace || r.Op == OpDelete:
					p.Fail(r, "the preview after the import would %s the %s: its data would be lost; nothing is applied", r.Op, kind)
				case r.Op == OpCreate && p.Imported[r.Name]:
					p.Fail(r, "the %s was imported but the preview still creates it: the import did not match the program (parent or name), a second one would be made", kind)
				}
			}
		}})
}
