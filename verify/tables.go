package verify

import (
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/mirror-dissonance/mirror-infra/spec"
)

// TTLAttribute is the TTL attribute of fp-events and block-counter.
//
// Deprecated: use spec.TTLAttribute.
const TTLAttribute = spec.TTLAttribute

const fixDeploy = "deploy the environment's stack again so the program's settings apply (in mirror-infra: go run ./automation <stack>)"

// fixMissing is the fix of a resource the target names but the account
// lacks: first what the caller set (the target field, its MD_* variable,
// the aws.Config's region), then the deploy.
func (s *session) fixMissing(field, variable string) string {
	return fmt.Sprintf("check target.Env.%s (%s) and the region %s (the aws.Config's, or target.Env.Region); if they are right, %s",
		field, variable, s.tgt.Region, fixDeploy)
}

// eachTable calls describe for each table of schemas and fn with what it
// returned. A missing table is a FAIL when missingIsFail (the tables
// check), elsewhere a WARN that it was not checked, so it is reported once;
// any other error is a call failure.
func eachTable[T any](s *session, f *findings, schemas []spec.TableSchema, missingIsFail bool, what string,
	describe func(name string) (T, error), fn func(ts spec.TableSchema, name string, out T)) {
	tables := s.tgt.Tables()
	for _, ts := range schemas {
		name := tables[ts.Suffix]
		out, err := describe(name)
		switch {
		case isNotFound(err) && missingIsFail:
			f.fail(s.fixMissing("FPEventsTable, ConsentTable, BlockCounterTable", "MD_FP_EVENTS_TABLE, MD_CONSENT_TABLE, MD_BLOCK_COUNTER_TABLE"), "table %s does not exist", name)
		case isNotFound(err):
			f.warn("", "%s not checked: the table does not exist (see the tables check)", name)
		case err != nil:
			f.err(what+" "+name, err)
		default:
			fn(ts, name, out)
		}
	}
}

// eachDescription is eachTable over the run's shared DescribeTable calls.
func (s *session) eachDescription(f *findings, missingIsFail bool, fn func(ts spec.TableSchema, name string, d *types.TableDescription)) {
	describe := func(name string) (*dynamodb.DescribeTableOutput, error) { return s.tables[name]() }
	eachTable(s, f, spec.TableSchemas, missingIsFail, "describing table", describe,
		func(ts spec.TableSchema, name string, out *dynamodb.DescribeTableOutput) { fn(ts, name, out.Table) })
}

func keyOf(ks []types.KeySchemaElement, kt types.KeyType) string {
	for _, k := range ks {
		if k.KeyType == kt {
			return aws.ToString(k.AttributeName)
		}
	}
	return ""
}
