package driver

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
)

// FingerprintPrefix marks plan fingerprints so they are recognisable in
// flags and PR comments.
const FingerprintPrefix = "sha256:"

// secretSig is the key Pulumi uses to mark a serialized secret value.
const secretSig = "4dabf18193072939515e22adb298388d"

// FingerprintFile fingerprints a saved update plan file.
func FingerprintFile(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("reading plan %s: %w", path, err)
	}
	fp, err := Fingerprint(data)
	if err != nil {
		return "", fmt.Errorf("fingerprinting plan %s: %w", path, err)
	}
	return fp, nil
}

// Fingerprint is the SHA-256 of the canonical form of a saved plan: the
// JSON re-encoded with sorted keys and no insignificant whitespace, with
// the parts that differ between two previews of the same program and state
// removed, so that re-previewing an unchanged stack gives the fingerprint a
// reviewer already approved:
//
//   - manifest.time (when the plan was made) and manifest.plugins[].path
//     (where plugins live on this machine);
//   - resourcePlans.*.seed (the random seed for auto-naming; the program
//     names every resource explicitly, and up applies the file's seed);
//   - ciphertext of secret values (re-encrypted with a fresh nonce each
//     time; a secret counts as "[secret]"). The program keeps no secrets.
//
// Everything else (config, goals, input and output diffs, steps) counts.
func Fingerprint(plan []byte) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(plan))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", fmt.Errorf("plan is not JSON: %w", err)
	}
	canon, err := canonicalPlan(v)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(canon)
	return FingerprintPrefix + hex.EncodeToString(sum[:]), nil
}

func canonicalPlan(v any) ([]byte, error) {
	root, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("plan is not a JSON object")
	}
	// A saved plan file is {"version": N, "plan": {...}} (a versioned
	// deployment plan); accept a bare plan too.
	plan := root
	if inner, ok := root["plan"].(map[string]any); ok {
		plan = inner
	}
	if _, ok := plan["manifest"]; !ok {
		return nil, fmt.Errorf("plan has no manifest: not a Pulumi update plan")
	}
	if m, ok := plan["manifest"].(map[string]any); ok {
		delete(m, "time")
		if ps, ok := m["plugins"].([]any); ok {
			for _, p := range ps {
				if pm, ok := p.(map[string]any); ok {
					delete(pm, "path")
				}
			}
		}
	}
	if rps, ok := plan["resourcePlans"].(map[string]any); ok {
		for _, rp := range rps {
			if m, ok := rp.(map[string]any); ok {
				delete(m, "seed")
				sortDependencies(m)
			}
		}
	}
	root = mapSecrets(root).(map[string]any)
	// encoding/json sorts map keys, which makes the encoding canonical.
	return json.Marshal(root)
}

// sortDependencies sorts a resource plan's goal dependencies: they are
// sets, and the engine lists them in the order the program's outputs
// resolved, which differs between two previews of the same state (found
// by the engine rehearsal's engine:noop).
func sortDependencies(rp map[string]any) {
	goal, ok := rp["goal"].(map[string]any)
	if !ok {
		return
	}
	sortStrings := func(v any) {
		if l, ok := v.([]any); ok {
			sort.Slice(l, func(i, j int) bool { return fmt.Sprint(l[i]) < fmt.Sprint(l[j]) })
		}
	}
	sortStrings(goal["dependencies"])
	if pd, ok := goal["propertyDependencies"].(map[string]any); ok {
		for _, v := range pd {
			sortStrings(v)
		}
	}
}

// mapSecrets replaces serialized secrets by a constant.
func mapSecrets(v any) any {
	switch t := v.(type) {
	case map[string]any:
		if sig, ok := t[secretSig].(string); ok && strings.EqualFold(sig, "1b47061264138c4ac30d75fd1eb44270") {
			return "[secret]"
		}
		for k, x := range t {
			t[k] = mapSecrets(x)
		}
		return t
	case []any:
		for i, x := range t {
			t[i] = mapSecrets(x)
		}
		return t
	default:
		return v
	}
}

// SameFingerprint compares fingerprints, tolerating a missing prefix and
// case, so a reviewer can paste the hex alone.
func SameFingerprint(a, b string) bool {
	norm := func(s string) string {
		return strings.ToLower(strings.TrimPrefix(strings.TrimSpace(s), FingerprintPrefix))
	}
	return a != "" && b != "" && norm(a) == norm(b)
}
