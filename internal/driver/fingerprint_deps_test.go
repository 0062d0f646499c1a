package driver

import "testing"

// Two previews of the same state list a resource's dependencies in
// different orders (seen by the engine rehearsal): same fingerprint.
func TestFingerprintIgnoresDependencyOrder(t *testing.T) {
	plan := func(deps, pdeps string) []byte {
		return []byte(`{"version":1,"plan":{"manifest":{"time":"x"},"resourcePlans":{"urn:a":{"seed":"s","goal":{"dependencies":` + deps +
			`,"propertyDependencies":{"bucket":` + pdeps + `}}}}}}`)
	}
	a, err := Fingerprint(plan(`["urn:b","urn:c"]`, `["urn:b","urn:c"]`))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Fingerprint(plan(`["urn:c","urn:b"]`, `["urn:c","urn:b"]`))
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Errorf("dependency order changed the fingerprint: %s vs %s", a, b)
	}
	c, _ := Fingerprint(plan(`["urn:b","urn:d"]`, `["urn:b","urn:c"]`))
	if c == a {
		t.Error("a different dependency did not change the fingerprint")
	}
}
