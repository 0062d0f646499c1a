package gate

import "fmt"

// RuleAdoption: after an import (SPEC 3.2), the preview creates, replaces
// or deletes no table, key or baselines bucket that was imported.
const RuleAdoption = "adoption"

// statefulTypes are what an adoption must never recreate: they hold data
// (items and their PITR history, encrypted material, baselines).
var statefulTypes = map[string]string{TypeTable: "table", TypeKey: "KMS key", TypeBucket: "baselines bucket"}

// Adoption applies the adoption rule to the preview that follows an
// import. imported are the logical names of the resources the adoption
// imported; a stateful resource the adoption plan said does not exist may
// be created (that is what the operator approved), any other create,
// replace or delete of a stateful resource fails: the import did not take
// and the deploy would make a second one, or would drop the data.
func Adoption(res []Resource, imported []string) []Finding {
	in := map[string]bool{}
	for _, n := range imported {
		in[n] = true
	}
	var out []Finding
	for _, r := range res {
		kind, ok := statefulTypes[r.Type]
		if !ok {
			continue
		}
		switch {
		case r.Op == OpReplace || r.Op == OpDelete:
			out = append(out, Finding{Rule: RuleAdoption, Resource: label(r),
				Message: fmt.Sprintf("the preview after the import would %s the %s: its data would be lost; nothing is applied", r.Op, kind)})
		case r.Op == OpCreate && in[r.Name]:
			out = append(out, Finding{Rule: RuleAdoption, Resource: label(r),
				Message: fmt.Sprintf("the %s was imported but the preview still creates it: the import did not match the program (parent or name), a second one would be made", kind)})
		}
	}
	return out
}
