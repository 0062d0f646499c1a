package gate

// Rules of SPEC 5 on the environment key and what it encrypts besides the
// tables.
const (
	RuleKeyRotation    = "kms-rotation"
	RuleTopicEncrypted = "topic-encrypted"
)

func init() {
	register(
		Rule{ID: RuleKeyRotation, Description: "the KMS key rotates", Check: func(p *Plan) {
			for _, r := range p.Of(TypeKey) {
				if on, ok := p.Bool(r, "enableKeyRotation"); ok && !on {
					p.Fail(r, "key rotation is off (enableKeyRotation must be true)")
				}
			}
		}},
		Rule{ID: RuleTopicEncrypted, Description: "the ops topic is KMS-encrypted", Check: func(p *Plan) {
			for _, r := range p.Of(TypeTopic) {
				switch v, ok := p.Str(r, "kmsMasterKeyId"); {
				case !ok:
				case v == "":
					p.Fail(r, "topic has no kmsMasterKeyId: alerts would be stored unencrypted")
				}
			}
		}},
	)
}
