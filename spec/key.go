package spec

// Deletion window of the environment key, in days (SPEC 2.1, 2.9): config
// may choose within these bounds; 7 in staging, 30 in production.
const (
	KeyDeletionWindowMin     = 7
	KeyDeletionWindowMax     = 30
	KeyDeletionWindowDefault = 30
)

// DefaultRegion is where an environment lives unless aws:region says
// otherwise (SPEC 1).
const DefaultRegion = "us-east-1"

// KeyDescription is the description of an environment's key; after a
// destroy removes the alias, it is how a sweep still finds the key.
func KeyDescription(env string) string {
	return "Mirror Dissonance " + env + ": DynamoDB, SNS and nonce encryption"
}
