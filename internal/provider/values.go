package provider

import (
	"encoding/json"
	"maps"
	"reflect"
	"sort"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// Unknown stands for a value not known until apply (a preview's computed
// value) in the plain maps the backend sees.
type Unknown struct{}

// Plain converts a property map into plain Go values (string, float64,
// bool, []any, map[string]any, nil, Unknown); secrets lose their wrapper
// and are listed in secret (top-level keys), so outputs can wrap them again.
func Plain(m resource.PropertyMap) (out map[string]any, secret []string) {
	out = make(map[string]any, len(m))
	for k, v := range m {
		if v.ContainsSecrets() {
			secret = append(secret, string(k))
		}
		out[string(k)] = plainValue(v)
	}
	sort.Strings(secret)
	return out, secret
}

func plainValue(v resource.PropertyValue) any {
	switch {
	case v.IsComputed():
		return Unknown{}
	case v.IsOutput():
		o := v.OutputValue()
		if !o.Known {
			return Unknown{}
		}
		return plainValue(o.Element)
	case v.IsSecret():
		return plainValue(v.SecretValue().Element)
	case v.IsNull():
		return nil
	case v.IsBool():
		return v.BoolValue()
	case v.IsNumber():
		return v.NumberValue()
	case v.IsString():
		return v.StringValue()
	case v.IsArray():
		a := v.ArrayValue()
		out := make([]any, len(a))
		for i, x := range a {
			out[i] = plainValue(x)
		}
		return out
	case v.IsObject():
		o, _ := Plain(v.ObjectValue())
		return o
	case v.IsResourceReference():
		r := v.ResourceReferenceValue()
		if id, ok := r.IDString(); ok {
			return id
		}
		return string(r.URN)
	}
	return nil
}

// Props converts plain values back; the top-level keys in secret become
// secrets.
func Props(m map[string]any, secret []string) resource.PropertyMap {
	out := resource.PropertyMap{}
	for k, v := range m {
		pv := propValue(v)
		for _, s := range secret {
			if s == k {
				pv = resource.MakeSecret(pv)
			}
		}
		out[resource.PropertyKey(k)] = pv
	}
	return out
}

func propValue(v any) resource.PropertyValue {
	switch x := v.(type) {
	case Unknown:
		return resource.MakeComputed(resource.NewStringProperty(""))
	case nil:
		return resource.NewNullProperty()
	case bool:
		return resource.NewBoolProperty(x)
	case float64:
		return resource.NewNumberProperty(x)
	case int:
		return resource.NewNumberProperty(float64(x))
	case int32:
		return resource.NewNumberProperty(float64(x))
	case string:
		return resource.NewStringProperty(x)
	case []string:
		a := make([]resource.PropertyValue, len(x))
		for i, s := range x {
			a[i] = resource.NewStringProperty(s)
		}
		return resource.NewArrayProperty(a)
	case []any:
		a := make([]resource.PropertyValue, len(x))
		for i, e := range x {
			a[i] = propValue(e)
		}
		return resource.NewArrayProperty(a)
	case map[string]string:
		m := resource.PropertyMap{}
		for k, s := range x {
			m[resource.PropertyKey(k)] = resource.NewStringProperty(s)
		}
		return resource.NewObjectProperty(m)
	case map[string]any:
		return resource.NewObjectProperty(Props(x, nil))
	}
	return resource.NewStringProperty("")
}

// hasUnknown reports whether v is or holds an Unknown.
func hasUnknown(v any) bool {
	switch x := v.(type) {
	case Unknown:
		return true
	case []any:
		for _, e := range x {
			if hasUnknown(e) {
				return true
			}
		}
	case map[string]any:
		for _, e := range x {
			if hasUnknown(e) {
				return true
			}
		}
	}
	return false
}

// Equal compares two plain values as the provider does: JSON documents
// (policies, dashboard bodies) by meaning, not spelling; an absent value
// equals an empty one (the SDK sends neither).
func Equal(a, b any) bool {
	if isEmpty(a) && isEmpty(b) {
		return true
	}
	if sa, ok := a.(string); ok {
		if sb, ok := b.(string); ok {
			if sa == sb {
				return true
			}
			var ja, jb any
			if json.Unmarshal([]byte(sa), &ja) == nil && json.Unmarshal([]byte(sb), &jb) == nil {
				_, objA := ja.(map[string]any)
				_, objB := jb.(map[string]any)
				return objA && objB && reflect.DeepEqual(ja, jb)
			}
			return false
		}
	}
	switch x := a.(type) {
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !Equal(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok {
			return false
		}
		keys := map[string]bool{}
		for k := range x {
			keys[k] = true
		}
		for k := range y {
			keys[k] = true
		}
		for k := range keys {
			if !Equal(x[k], y[k]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}

func isEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	}
	return false
}

// changedKeys are the top-level keys whose values differ; an unknown new
// value counts as changed.
func changedKeys(old, new map[string]any) []string {
	keys := map[string]bool{}
	for k := range old {
		keys[k] = true
	}
	for k := range new {
		keys[k] = true
	}
	var out []string
	for k := range keys {
		if hasUnknown(new[k]) || !Equal(old[k], new[k]) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// stringMap reads a tag-like map of strings.
func stringMap(v any) map[string]string {
	out := map[string]string{}
	if m, ok := v.(map[string]any); ok {
		for k, x := range m {
			if s, ok := x.(string); ok {
				out[k] = s
			}
		}
	}
	return out
}

func anyMap(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// mergeTags is tags over defaults, as the provider computes tagsAll.
func mergeTags(defaults map[string]string, tags any) map[string]any {
	all := maps.Clone(defaults)
	if all == nil {
		all = map[string]string{}
	}
	if m, ok := tags.(map[string]any); ok {
		for k, v := range m {
			if s, ok := v.(string); ok {
				all[k] = s
			}
		}
		for _, v := range m {
			if hasUnknown(v) {
				// An unknown tag value makes the merged map unknown.
				return nil
			}
		}
	}
	return anyMap(all)
}
