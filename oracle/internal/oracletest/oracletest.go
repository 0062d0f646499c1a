// Package oracletest provisions what the oracle packages' tests need in the
// in-process AWS emulator: the three SPEC 2.2 tables under unique names, a KMS
// key, and HTTP transports that count or fail requests on the real SDK path.
// kumo keeps its state per process, so every Env gets names of its own.
package oracletest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/sethvargo/go-envconfig"

	"github.com/mirror-dissonance/mirror-infra/emulator"
	"github.com/mirror-dissonance/mirror-infra/verify/target"
)

// Env is one test's view of the emulator.
type Env struct {
	Config  aws.Config
	Target  target.Env
	DB      *dynamodb.Client
	SSM     *ssm.Client
	Counter *Counter
	Faults  *Faults
}

// New returns a fresh environment: unique table names and nonce path, the
// tables created as SPEC 2.2 describes, and a KMS key. Requests go through a
// counting and fault-injecting transport; SDK retries are off so that an
// injected failure is seen once.
func New(tb testing.TB) *Env {
	tb.Helper()
	em := emulator.Start()
	tb.Cleanup(em.Close)
	ctx := context.Background()
	cfg, err := em.Config(ctx)
	if err != nil {
		tb.Fatalf("emulator config: %v", err)
	}
	counter := &Counter{}
	faults := &Faults{}
	cfg.HTTPClient = &http.Client{Transport: counter.Wrap(faults.Wrap(http.DefaultTransport))}
	cfg.RetryMaxAttempts = 1

	id := RandomID()
	t, err := target.FromEnv(ctx, "staging", envconfig.MapLookuper(nil))
	if err != nil {
		tb.Fatalf("target: %v", err)
	}
	t.FPEventsTable += "-" + id
	t.ConsentTable += "-" + id
	t.BlockCounterTable += "-" + id
	t.NoncePrefix = "/guardian/t" + id + "/redaction_nonce_v"

	e := &Env{Config: cfg, Target: t, DB: dynamodb.NewFromConfig(cfg), SSM: ssm.NewFromConfig(cfg), Counter: counter, Faults: faults}
	key, err := kms.NewFromConfig(cfg).CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("oracle test key " + id)})
	if err != nil {
		tb.Fatalf("creating the KMS key: %v", err)
	}
	e.Target.KMSKey = aws.ToString(key.KeyMetadata.Arn)
	if err := CreateTables(ctx, e.DB, e.Target); err != nil {
		tb.Fatal(err)
	}
	counter.Reset()
	return e
}

// RandomID is 12 hex characters.
func RandomID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// CreateTables creates the three tables of SPEC 2.2 under t's names.
func CreateTables(ctx context.Context, db *dynamodb.Client, t target.Env) error {
	s := func(n string) types.AttributeDefinition {
		return types.AttributeDefinition{AttributeName: aws.String(n), AttributeType: types.ScalarAttributeTypeS}
	}
	k := func(n string, kt types.KeyType) types.KeySchemaElement {
		return types.KeySchemaElement{AttributeName: aws.String(n), KeyType: kt}
	}
	inputs := []*dynamodb.CreateTableInput{
		{
			TableName:            aws.String(t.FPEventsTable),
			BillingMode:          types.BillingModePayPerRequest,
			AttributeDefinitions: []types.AttributeDefinition{s("pk"), s("sk"), s("gsi1pk"), s("gsi1sk")},
			KeySchema:            []types.KeySchemaElement{k("pk", types.KeyTypeHash), k("sk", types.KeyTypeRange)},
			GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
				IndexName:  aws.String("FindingIndex"),
				KeySchema:  []types.KeySchemaElement{k("gsi1pk", types.KeyTypeHash), k("gsi1sk", types.KeyTypeRange)},
				Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
			}},
		},
		{
			TableName:            aws.String(t.ConsentTable),
			BillingMode:          types.BillingModePayPerRequest,
			AttributeDefinitions: []types.AttributeDefinition{s("orgId")},
			KeySchema:            []types.KeySchemaElement{k("orgId", types.KeyTypeHash)},
		},
		{
			TableName:            aws.String(t.BlockCounterTable),
			BillingMode:          types.BillingModePayPerRequest,
			AttributeDefinitions: []types.AttributeDefinition{s("bucketKey")},
			KeySchema:            []types.KeySchemaElement{k("bucketKey", types.KeyTypeHash)},
		},
	}
	for _, in := range inputs {
		if _, err := db.CreateTable(ctx, in); err != nil {
			return fmt.Errorf("creating table %s: %w", aws.ToString(in.TableName), err)
		}
	}
	for _, name := range []string{t.FPEventsTable, t.BlockCounterTable} {
		if _, err := db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
			TableName:               aws.String(name),
			TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String("expiresAt"), Enabled: aws.Bool(true)},
		}); err != nil {
			return fmt.Errorf("enabling TTL on %s: %w", name, err)
		}
	}
	return nil
}

// Snapshot returns every item of the three tables, rendered canonically, so
// that a test can assert a run left them as it found them.
func Snapshot(ctx context.Context, db *dynamodb.Client, t target.Env) (map[string][]string, error) {
	out := map[string][]string{}
	for _, name := range []string{t.FPEventsTable, t.ConsentTable, t.BlockCounterTable} {
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
			sort.Strings(items)
		}
		out[name] = items
	}
	return out, nil
}

// Counter counts the AWS requests that pass through it, by operation.
type Counter struct {
	total atomic.Int64
	mu    sync.Mutex
	ops   map[string]int
}

// Wrap returns a transport that counts requests and forwards them to next.
func (c *Counter) Wrap(next http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		c.total.Add(1)
		op := r.Header.Get("X-Amz-Target")
		if i := strings.LastIndexByte(op, '.'); i >= 0 {
			op = op[i+1:]
		}
		c.mu.Lock()
		if c.ops == nil {
			c.ops = map[string]int{}
		}
		c.ops[op]++
		c.mu.Unlock()
		return next.RoundTrip(r)
	})
}

// Total is the number of requests since the last Reset.
func (c *Counter) Total() int64 { return c.total.Load() }

// Ops returns the request count per operation since the last Reset.
func (c *Counter) Ops() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := make(map[string]int, len(c.ops))
	for k, v := range c.ops {
		m[k] = v
	}
	return m
}

// Reset zeroes the counts.
func (c *Counter) Reset() {
	c.total.Store(0)
	c.mu.Lock()
	c.ops = nil
	c.mu.Unlock()
}

// ErrInjected is the transport error an injected fault returns.
var ErrInjected = errors.New("injected fault: endpoint unreachable")

// Faults fails requests that match a rule, as an unreachable endpoint would.
type Faults struct {
	mu    sync.Mutex
	rules []Fault
}

// Fault matches requests by operation (the X-Amz-Target suffix, e.g.
// "PutItem"; empty for any) and by a substring of the body (e.g. a table
// name; empty for any).
type Fault struct {
	Operation    string
	BodyContains string
}

// Set replaces the active faults.
func (f *Faults) Set(rules ...Fault) {
	f.mu.Lock()
	f.rules = rules
	f.mu.Unlock()
}

// Wrap returns a transport that fails matching requests and forwards others.
func (f *Faults) Wrap(next http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		f.mu.Lock()
		rules := f.rules
		f.mu.Unlock()
		if len(rules) == 0 {
			return next.RoundTrip(r)
		}
		var body []byte
		if r.Body != nil {
			b, err := io.ReadAll(r.Body)
			if err != nil {
				return nil, fmt.Errorf("reading the request body: %w", err)
			}
			_ = r.Body.Close()
			body = b
			r.Body = io.NopCloser(bytes.NewReader(b))
		}
		target := r.Header.Get("X-Amz-Target")
		for _, rule := range rules {
			if rule.Operation != "" && !strings.HasSuffix(target, "."+rule.Operation) {
				continue
			}
			if rule.BodyContains != "" && !bytes.Contains(body, []byte(rule.BodyContains)) {
				continue
			}
			return nil, ErrInjected
		}
		return next.RoundTrip(r)
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
