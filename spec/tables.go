package spec

// Attribute names shared by the tables and the Oracle's items (SPEC 2.2).
const (
	// TTLAttribute is the expiry attribute of fp-events and block-counter.
	TTLAttribute = "expiresAt"
	// FindingIndex is the fp-events index by finding.
	FindingIndex = "FindingIndex"
	// BillingMode of every table.
	BillingMode = "PAY_PER_REQUEST"
	// AttributeTypeString is the type of every key attribute.
	AttributeTypeString = "S"
	// ProjectionAll is the index projection.
	ProjectionAll = "ALL"
)

// Key attributes of the three tables (SPEC 2.2); the Oracle's items carry
// them under these names (SPEC 7).
const (
	AttrPK        = "pk"
	AttrSK        = "sk"
	AttrGSI1PK    = "gsi1pk"
	AttrGSI1SK    = "gsi1sk"
	AttrOrgID     = "orgId"
	AttrBucketKey = "bucketKey"
)

// TableSchema is the shape of one table (SPEC 2.2). Every key attribute is
// a string.
type TableSchema struct {
	Suffix   string
	HashKey  string
	RangeKey string // empty for none
	// Index is the one global secondary index (projection ALL), if any.
	Index *IndexSchema
	// TTLAttribute is the expiry attribute, empty for none.
	TTLAttribute string
	// Purpose is the Purpose tag.
	Purpose string
}

// IndexSchema is a global secondary index with projection ALL.
type IndexSchema struct {
	Name, HashKey, RangeKey string
}

// TableSchemas are exactly the three tables of SPEC 2.2, in TableSuffixes
// order.
var TableSchemas = []TableSchema{
	{Suffix: TableFPEvents, HashKey: AttrPK, RangeKey: AttrSK,
		Index:        &IndexSchema{Name: FindingIndex, HashKey: AttrGSI1PK, RangeKey: AttrGSI1SK},
		TTLAttribute: TTLAttribute, Purpose: "false-positive events"},
	{Suffix: TableConsent, HashKey: AttrOrgID, Purpose: "organisation consent"},
	{Suffix: TableBlockCounter, HashKey: AttrBucketKey, TTLAttribute: TTLAttribute, Purpose: "circuit-breaker block counters"},
}

// Schema returns the schema of a table suffix.
func Schema(suffix string) (TableSchema, bool) {
	for _, t := range TableSchemas {
		if t.Suffix == suffix {
			return t, true
		}
	}
	return TableSchema{}, false
}

// AttributeNames lists every key attribute the table defines: the table's
// keys, then the index's.
func (t TableSchema) AttributeNames() []string {
	out := []string{t.HashKey}
	if t.RangeKey != "" {
		out = append(out, t.RangeKey)
	}
	if t.Index != nil {
		out = append(out, t.Index.HashKey, t.Index.RangeKey)
	}
	return out
}

// Baselines bucket facts (SPEC 2.10, 7): the Oracle keeps the baseline of a
// repository at BaselineKeyPrefix + <repoId> + ".json".
const (
	BaselineKeyPrefix = "baselines/"
	// BaselineNoncurrentDays is when noncurrent baseline versions expire.
	BaselineNoncurrentDays = 90
)

// BaselineKey is the object key of a repository's baseline.
func BaselineKey(repoID string) string { return BaselineKeyPrefix + repoID + ".json" }
