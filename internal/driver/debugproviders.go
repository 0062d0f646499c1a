package driver

import (
	"os"
	"strings"
)

// servedByDebugProvider reports whether PULUMI_DEBUG_PROVIDERS (from the
// process or the CLI's extra variables) names the plugin: the engine then
// attaches to a provider already listening (cmd/md-provider) and needs no
// installed plugin.
func servedByDebugProvider(p Plugin, env map[string]string) bool {
	v, ok := env["PULUMI_DEBUG_PROVIDERS"]
	if !ok {
		v = os.Getenv("PULUMI_DEBUG_PROVIDERS")
	}
	for _, e := range strings.Split(v, ",") {
		if name, _, ok := strings.Cut(strings.TrimSpace(e), ":"); ok && name == p.Name && p.Kind == "resource" {
			return true
		}
	}
	return false
}
