package stacks

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/dynamodb"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/mirror-dissonance/mirror-infra/spec"
)

// TablesArgs configure the three tables.
type TablesArgs struct {
	Names spec.Names
	// KeyArn is the environment CMK the tables are encrypted with.
	KeyArn             pulumi.StringInput
	DeletionProtection bool
	// Ephemeral drops protect, so an acceptance stack is destroyed whole.
	Ephemeral bool
	Tags      Tags
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
	for _, schema := range spec.TableSchemas {
		tableName := args.Names.Table(schema.Suffix)
		attrs := dynamodb.TableAttributeArray{
			dynamodb.TableAttributeArgs{Name: pulumi.String(schema.HashKey), Type: pulumi.String(spec.AttributeTypeString)},
		}
		targs := &dynamodb.TableArgs{
			Name:                      pulumi.String(tableName),
			BillingMode:               pulumi.String(spec.BillingMode),
			HashKey:                   pulumi.String(schema.HashKey),
			PointInTimeRecovery:       dynamodb.TablePointInTimeRecoveryArgs{Enabled: pulumi.Bool(true)},
			ServerSideEncryption:      dynamodb.TableServerSideEncryptionArgs{Enabled: pulumi.Bool(true), KmsKeyArn: args.KeyArn},
			DeletionProtectionEnabled: pulumi.Bool(args.DeletionProtection),
			StreamEnabled:             pulumi.Bool(false),
			Tags:                      args.Tags.For(tableName, schema.Purpose),
		}
		if schema.RangeKey != "" {
			targs.RangeKey = pulumi.String(schema.RangeKey)
			attrs = append(attrs, dynamodb.TableAttributeArgs{Name: pulumi.String(schema.RangeKey), Type: pulumi.String(spec.AttributeTypeString)})
		}
		if ix := schema.Index; ix != nil {
			attrs = append(attrs,
				dynamodb.TableAttributeArgs{Name: pulumi.String(ix.HashKey), Type: pulumi.String(spec.AttributeTypeString)},
				dynamodb.TableAttributeArgs{Name: pulumi.String(ix.RangeKey), Type: pulumi.String(spec.AttributeTypeString)})
			targs.GlobalSecondaryIndexes = dynamodb.TableGlobalSecondaryIndexArray{
				dynamodb.TableGlobalSecondaryIndexArgs{
					Name: pulumi.String(ix.Name), HashKey: pulumi.String(ix.HashKey),
					RangeKey: pulumi.String(ix.RangeKey), ProjectionType: pulumi.String(spec.ProjectionAll),
				},
			}
		}
		targs.Attributes = attrs
		if schema.TTLAttribute != "" {
			targs.Ttl = dynamodb.TableTtlArgs{Enabled: pulumi.Bool(true), AttributeName: pulumi.String(schema.TTLAttribute)}
		}
		t, err := dynamodb.NewTable(ctx, schema.Suffix, targs, pulumi.Parent(c), pulumi.Protect(!args.Ephemeral))
		if err != nil {
			return nil, fmt.Errorf("declaring table %s: %w", tableName, err)
		}
		c.Tables[schema.Suffix] = t
		outputs[schema.Suffix+"Arn"] = t.Arn
	}
	if err := ctx.RegisterResourceOutputs(c, outputs); err != nil {
		return nil, fmt.Errorf("registering outputs of %s: %w", name, err)
	}
	return c, nil
}
