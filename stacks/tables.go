package stacks

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/dynamodb"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/mirror-dissonance/mirror-infra/spec"
)

// TableSpec is the shape of one table (SPEC 2.2).
type TableSpec struct {
	Suffix   string
	HashKey  string
	RangeKey string
	// Index is the one global secondary index, if any.
	Index *IndexSpec
	// TTLAttribute is the expiry attribute, empty for none.
	TTLAttribute string
	Purpose      string
}

// IndexSpec is a global secondary index with ALL projection.
type IndexSpec struct {
	Name, HashKey, RangeKey string
}

// TableSpecs are exactly the three tables of SPEC 2.2. All keys are strings.
var TableSpecs = []TableSpec{
	{Suffix: spec.TableFPEvents, HashKey: "pk", RangeKey: "sk",
		Index:        &IndexSpec{Name: "FindingIndex", HashKey: "gsi1pk", RangeKey: "gsi1sk"},
		TTLAttribute: "expiresAt", Purpose: "false-positive events"},
	{Suffix: spec.TableConsent, HashKey: "orgId", Purpose: "organisation consent"},
	{Suffix: spec.TableBlockCounter, HashKey: "bucketKey", TTLAttribute: "expiresAt", Purpose: "circuit-breaker block counters"},
}

// TablesArgs configure the three tables.
type TablesArgs struct {
	Names spec.Names
	// KeyArn is the environment CMK the tables are encrypted with.
	KeyArn             pulumi.StringInput
	DeletionProtection bool
	Tags               Tags
}

// Tables holds the three DynamoDB tables, keyed by table suffix.
type Tables struct {
	pulumi.ResourceState

	Tables map[string]*dynamodb.Table
}

// NewTables declares the tables: pay-per-request, PITR on, CMK encryption,
// deletion protection as configured, protect on, no streams.
func NewTables(ctx *pulumi.Context, name string, args TablesArgs, opts ...pulumi.ResourceOption) (*Tables, error) {
	c := &Tables{Tables: map[string]*dynamodb.Table{}}
	if err := ctx.RegisterComponentResource("mirror-dissonance:stacks:Tables", name, c, opts...); err != nil {
		return nil, fmt.Errorf("registering component %s: %w", name, err)
	}
	outputs := pulumi.Map{}
	for _, spec := range TableSpecs {
		tableName := args.Names.Table(spec.Suffix)
		attrs := dynamodb.TableAttributeArray{
			dynamodb.TableAttributeArgs{Name: pulumi.String(spec.HashKey), Type: pulumi.String("S")},
		}
		targs := &dynamodb.TableArgs{
			Name:                      pulumi.String(tableName),
			BillingMode:               pulumi.String("PAY_PER_REQUEST"),
			HashKey:                   pulumi.String(spec.HashKey),
			PointInTimeRecovery:       dynamodb.TablePointInTimeRecoveryArgs{Enabled: pulumi.Bool(true)},
			ServerSideEncryption:      dynamodb.TableServerSideEncryptionArgs{Enabled: pulumi.Bool(true), KmsKeyArn: args.KeyArn},
			DeletionProtectionEnabled: pulumi.Bool(args.DeletionProtection),
			StreamEnabled:             pulumi.Bool(false),
			Tags:                      args.Tags.For(tableName, spec.Purpose),
		}
		if spec.RangeKey != "" {
			targs.RangeKey = pulumi.String(spec.RangeKey)
			attrs = append(attrs, dynamodb.TableAttributeArgs{Name: pulumi.String(spec.RangeKey), Type: pulumi.String("S")})
		}
		if ix := spec.Index; ix != nil {
			attrs = append(attrs,
				dynamodb.TableAttributeArgs{Name: pulumi.String(ix.HashKey), Type: pulumi.String("S")},
				dynamodb.TableAttributeArgs{Name: pulumi.String(ix.RangeKey), Type: pulumi.String("S")})
			targs.GlobalSecondaryIndexes = dynamodb.TableGlobalSecondaryIndexArray{
				dynamodb.TableGlobalSecondaryIndexArgs{
					Name: pulumi.String(ix.Name), HashKey: pulumi.String(ix.HashKey),
					RangeKey: pulumi.String(ix.RangeKey), ProjectionType: pulumi.String("ALL"),
				},
			}
		}
		targs.Attributes = attrs
		if spec.TTLAttribute != "" {
			targs.Ttl = dynamodb.TableTtlArgs{Enabled: pulumi.Bool(true), AttributeName: pulumi.String(spec.TTLAttribute)}
		}
		t, err := dynamodb.NewTable(ctx, spec.Suffix, targs, pulumi.Parent(c), pulumi.Protect(true))
		if err != nil {
			return nil, fmt.Errorf("declaring table %s: %w", tableName, err)
		}
		c.Tables[spec.Suffix] = t
		outputs[spec.Suffix+"Arn"] = t.Arn
	}
	if err := ctx.RegisterResourceOutputs(c, outputs); err != nil {
		return nil, fmt.Errorf("registering outputs of %s: %w", name, err)
	}
	return c, nil
}
