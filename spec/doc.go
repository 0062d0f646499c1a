// Package spec is the ground floor: the facts of SPEC section 2 written
// once, in pure Go (no Pulumi, no AWS SDK). Every resource name and stack
// output key, the three table schemas, the alarm settings, the policy
// documents the environment carries (key, topic, trust, role policies) with
// the one reader of policy JSON, and the nonce naming and grace rule.
//
// The Pulumi program (stacks) declares from it, the gate judges a plan by
// it, the verifier checks a deployed environment by it and the emulator
// seeds from it: a fact that changes is changed here, once.
package spec
