package emulator

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// What the tests of the Oracle layer need of a TestEnv beyond Seeded's
// Config and Target: clients that see an injected fault once, faults set
// and cleared in one call, and reads of the whole environment.

// NoRetries is the environment's client config with SDK retries off, so an
// injected fault is seen once.
func (e *TestEnv) NoRetries() aws.Config {
	cfg := e.Config
	cfg.RetryMaxAttempts = 1
	return cfg
}

// DynamoDB is a DynamoDB client of NoRetries.
func (e *TestEnv) DynamoDB() *dynamodb.Client { return dynamodb.NewFromConfig(e.NoRetries()) }

// SSM is an SSM client of NoRetries.
func (e *TestEnv) SSM() *ssm.Client { return ssm.NewFromConfig(e.NoRetries()) }

// Fail makes every request a rule matches fail (by default as an
// unreachable endpoint would), replacing earlier faults, until Heal or the
// end of t, whose cleanup then tears the environment down unhindered.
func (e *TestEnv) Fail(t TB, rules ...FaultRule) {
	t.Cleanup(e.Heal)
	e.Emulator.SetFaults(Faults{Rules: rules})
}

// Heal turns every fault off.
func (e *TestEnv) Heal() { e.Emulator.SetFaults(Faults{}) }

// NonceParameters reads (decrypted) every parameter under the nonce path.
func (e *TestEnv) NonceParameters(t TB) []ssmtypes.Parameter {
	t.Helper()
	out, err := e.SSM().GetParametersByPath(context.Background(), &ssm.GetParametersByPathInput{
		Path: aws.String(e.Target().NonceParameterPath()), WithDecryption: aws.Bool(true), MaxResults: aws.Int32(10),
	})
	if err != nil {
		t.Fatalf("reading the nonce parameters: %v", err)
	}
	return out.Parameters
}

// Snapshot returns every item of the three tables, rendered canonically
// and keyed by table name, so a test can assert a run left them as it
// found them.
func (e *TestEnv) Snapshot(ctx context.Context) (map[string][]string, error) {
	db := e.DynamoDB()
	tgt := e.Target()
	out := map[string][]string{}
	for _, name := range []string{tgt.FPEventsTable, tgt.ConsentTable, tgt.BlockCounterTable} {
		p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: aws.String(name)})
		var items []string
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("scanning %s: %w", name, err)
			}
			for _, it := range page.Items {
				var m map[string]any
				if err := attributevalue.UnmarshalMap(it, &m); err != nil {
					return nil, fmt.Errorf("decoding an item of %s: %w", name, err)
				}
				b, err := json.Marshal(m)
				if err != nil {
					return nil, fmt.Errorf("encoding an item of %s: %w", name, err)
				}
				items = append(items, string(b))
			}
		}
		sort.Strings(items)
		out[name] = items
	}
	return out, nil
}
