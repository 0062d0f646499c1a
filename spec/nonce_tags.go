package spec

// TagKeyAcceptanceRun marks every resource of an ephemeral acc-<run> stack
// with the run that made it, so a sweep finds what a failed run left
// (SPEC 2.12).
const TagKeyAcceptanceRun = "AcceptanceRun"

// NonceTags are the tags of every nonce version of env (SPEC 1): the
// project and environment (the KMS conditions and the sweep rely on them),
// who manages the version (the automation: versions live outside the
// stack) and its purpose; an acc-<run> environment's versions also carry
// the run.
func NonceTags(env string) map[string]string {
	t := map[string]string{
		TagKeyProject: TagValueProject, TagKeyEnvironment: env,
		"ManagedBy": Project + "-automation", "Purpose": "redaction-nonce",
	}
	if IsEphemeralStack(env) {
		t[TagKeyAcceptanceRun] = env
	}
	return t
}
