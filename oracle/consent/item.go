package consent

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/mirror-dissonance/mirror-infra/oracle/internal/datacheck"
	"github.com/mirror-dissonance/mirror-infra/spec"
)

// Shape is what kind of item a consent-table item is.
type Shape string

// Shapes of Classify.
const (
	// ShapeNone is no item.
	ShapeNone Shape = "none"
	// ShapeStore is this package's record: orgId, resources, version.
	ShapeStore Shape = "store"
	// ShapeOracle is the Oracle's consent-store record: pk "org#<hash>",
	// sk "consent#<scope>#<uuid>", orgId, scope, grantedBy, grantedAt,
	// expiresAt and updatedAt as ISO strings, revoked. The table keeps it
	// under orgId, so each Oracle grant overwrites the last, and the
	// Oracle's own reads by pk/sk fail.
	ShapeOracle Shape = "oracle"
	// ShapeUnknown is anything else.
	ShapeUnknown Shape = "unknown"
)

// Classify tells the shapes apart by their attributes.
func Classify(item map[string]types.AttributeValue) Shape {
	if len(item) == 0 {
		return ShapeNone
	}
	_, pk := item[spec.AttrPK]
	_, sk := item[spec.AttrSK]
	if pk || sk {
		return ShapeOracle
	}
	if _, ok := item["resources"].(*types.AttributeValueMemberM); ok {
		return ShapeStore
	}
	return ShapeUnknown
}

// oracleItem is the Oracle's consent record as stored.
type oracleItem struct {
	PK        string `dynamodbav:"pk"`
	SK        string `dynamodbav:"sk"`
	OrgID     string `dynamodbav:"orgId"`
	Scope     string `dynamodbav:"scope"`
	GrantedBy string `dynamodbav:"grantedBy"`
	GrantedAt string `dynamodbav:"grantedAt"`
	ExpiresAt string `dynamodbav:"expiresAt"`
	Revoked   bool   `dynamodbav:"revoked"`
	UpdatedAt string `dynamodbav:"updatedAt"`
}

func unix(iso string) int64 {
	t, err := time.Parse(time.RFC3339Nano, iso)
	if err != nil {
		return 0
	}
	return t.Unix()
}

// fromOracleItem reads the Oracle's record as one resource (its scope):
// granted unless revoked; Check turns a grant past expiresAt into Expired.
// Unparseable fields read as absent rather than failing the read.
func fromOracleItem(item map[string]types.AttributeValue) record {
	var it oracleItem
	_ = attributevalue.UnmarshalMap(item, &it) // a field of another type stays empty
	r := Resource{State: Granted, GrantedAt: unix(it.GrantedAt), ExpiresAt: unix(it.ExpiresAt), GrantedBy: it.GrantedBy}
	if it.Revoked {
		r.State, r.RevokedAt = Revoked, unix(it.UpdatedAt)
	}
	rec := record{OrgID: it.OrgID, Resources: map[string]Resource{}, UpdatedAt: unix(it.UpdatedAt), oracleSK: it.SK}
	if it.Scope != "" {
		rec.Resources[it.Scope] = r
	}
	if rec.oracleSK == "" {
		// pk without sk: still not ours; any write replaces it.
		rec.oracleSK = "-"
	}
	return rec
}

// Finding is one contract problem of a stored item (see CheckItem).
type Finding = datacheck.Finding

// Codes of CheckItem's findings.
const (
	CodeOracleShape = "consent-not-keyed-by-orgId"
	CodeBadKey      = "consent-bad-key"
	CodeBadRecord   = "consent-bad-record"
)

var hashHex = regexp.MustCompile(`^[0-9a-f]{64}$`)

// CheckItem validates one stored consent item. FAIL: the Oracle's pk/sk
// record (not keyed by orgId: the Oracle cannot read it back, and each of
// its grants overwrites the last), an orgId that is not a SHA-256 hex (an
// organisation stored in plain text, or a key no lookup finds), or a
// record this package cannot read (Check then fails closed).
func CheckItem(item map[string]types.AttributeValue) []Finding {
	var out []Finding
	id, _ := datacheck.S(item, spec.AttrOrgID)
	short := id
	if len(short) > 12 {
		short = short[:12] + "…"
	}
	if !hashHex.MatchString(id) {
		// Do not echo an unhashed key: it may be an organisation's name.
		out = append(out, datacheck.Fail(CodeBadKey, fmt.Sprintf("consent item keyed by an orgId of %d characters that is not a SHA-256 hex", len(id))))
		short = "(unhashed)"
	}
	switch Classify(item) {
	case ShapeOracle:
		sk, _ := datacheck.S(item, spec.AttrSK)
		out = append(out, datacheck.Fail(CodeOracleShape, fmt.Sprintf(
			"consent item %s is the Oracle's pk/sk record (sk %q): the table is keyed by orgId alone, so each Oracle grant overwrites the last and the Oracle's reads by pk/sk find nothing", short, skPrefix(sk))))
	case ShapeStore:
		var rec record
		if err := attributevalue.UnmarshalMap(item, &rec); err != nil {
			out = append(out, datacheck.Fail(CodeBadRecord, fmt.Sprintf("consent item %s cannot be read: %v", short, err)))
			break
		}
		for res, r := range rec.Resources {
			switch r.State {
			case Granted, Revoked, Expired, Pending:
			default:
				out = append(out, datacheck.Fail(CodeBadRecord, fmt.Sprintf("consent item %s: resource %s has state %q", short, res, r.State)))
			}
		}
	default:
		out = append(out, datacheck.Fail(CodeBadRecord, fmt.Sprintf("consent item %s has neither resources nor the Oracle's pk/sk", short)))
	}
	return out
}

// skPrefix keeps "consent#<scope>#" and drops the random part.
func skPrefix(sk string) string {
	if i := strings.LastIndexByte(sk, '#'); i > 0 {
		return sk[:i+1] + "…"
	}
	return sk
}
