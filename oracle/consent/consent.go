// Package consent records, per organisation and resource, whether the
// organisation consented to the Oracle processing it (SPEC 7): granted,
// revoked, expired or pending, with when and under which policy version.
// Items are keyed by the SHA-256 of the organisation, the grantor is stored
// hashed, and every change is a conditional write on a version attribute,
// so concurrent grants and revokes never lose an update. Check reports an
// error rather than guessing; the Oracle treats any error as "no consent".
package consent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/mirror-dissonance/mirror-infra/oracle/internal/clock"
	"github.com/mirror-dissonance/mirror-infra/spec"
)

// API is the part of the DynamoDB client the store uses.
type API interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

// State of consent for one resource.
type State string

// States of SPEC 7.
const (
	Granted State = "granted"
	Revoked State = "revoked"
	Expired State = "expired"
	Pending State = "pending"
	// None means no record exists for the resource.
	None State = "none"
)

var (
	// ErrContention means a change lost the race MaxAttempts times.
	ErrContention = errors.New("consent update contention")
	// ErrInvalid means an argument is empty or malformed.
	ErrInvalid = errors.New("invalid consent request")
)

// Resource is the consent state of one resource.
type Resource struct {
	State State `dynamodbav:"state"`
	// Times are epoch seconds; zero when not applicable.
	GrantedAt int64 `dynamodbav:"grantedAt,omitempty"`
	ExpiresAt int64 `dynamodbav:"expiresAt,omitempty"`
	RevokedAt int64 `dynamodbav:"revokedAt,omitempty"`
	// GrantedBy is the SHA-256 hex of who granted it.
	GrantedBy     string `dynamodbav:"grantedBy,omitempty"`
	PolicyVersion string `dynamodbav:"policyVersion,omitempty"`
}

// record is one item of the consent table.
type record struct {
	OrgID     string              `dynamodbav:"orgId"`
	Resources map[string]Resource `dynamodbav:"resources"`
	// Version increases with every write; writes are conditional on it.
	Version   int64 `dynamodbav:"version"`
	UpdatedAt int64 `dynamodbav:"updatedAt"`
	// E2ERunID is the E2E marker (fpevents.MarkerAttribute) of a record an
	// E2E run wrote; empty on Oracle data.
	E2ERunID string `dynamodbav:"e2eRunId,omitempty"`
	// oracleSK is set when the item read was the Oracle's pk/sk-shaped
	// consent record; the next write replaces it, conditional on its sk.
	oracleSK string `dynamodbav:"-"`
}

// OrgID is the table key of an organisation: SHA-256 hex of the org id
// exactly as passed, as the Oracle's consent store hashes it (hashId), so
// that both implementations key one organisation alike. Callers pass the
// org as GitHub spells it (repository.owner.login).
func OrgID(org string) string { return Hash(org) }

// Hash is the SHA-256 hex of s.
func Hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// Store reads and writes one consent table.
type Store struct {
	Client API
	Table  string
	// Now is the clock (time.Now if nil).
	Now func() time.Time
	// MaxAttempts bounds retries of a conditional write (default 64).
	MaxAttempts int
	// Marker, when set, is written as the E2E marker (attribute e2eRunId)
	// on every record this store writes, so a sweep can find what an E2E
	// run left behind. The Oracle leaves it empty.
	Marker string
}

// New returns a store on table.
func New(client API, table string) *Store { return &Store{Client: client, Table: table} }

func key(orgID string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{spec.AttrOrgID: &types.AttributeValueMemberS{Value: orgID}}
}

// Grant options.
type Grant struct {
	// By is who granted consent; only its hash is stored.
	By string
	// For is how long the consent lasts (0: until revoked).
	For time.Duration
	// PolicyVersion is the consent policy the grant was made under.
	PolicyVersion string
}

// Grant records consent of org for resource.
func (s *Store) Grant(ctx context.Context, org, resource string, g Grant) error {
	if g.By == "" || g.PolicyVersion == "" {
		return fmt.Errorf("granting %s: grantor and policy version are required: %w", resource, ErrInvalid)
	}
	return s.update(ctx, org, resource, func(r *Resource, now time.Time) {
		*r = Resource{State: Granted, GrantedAt: now.Unix(), GrantedBy: Hash(g.By), PolicyVersion: g.PolicyVersion}
		if g.For > 0 {
			r.ExpiresAt = now.Add(g.For).Unix()
		}
	})
}

// Revoke withdraws consent of org for resource.
func (s *Store) Revoke(ctx context.Context, org, resource string) error {
	return s.update(ctx, org, resource, func(r *Resource, now time.Time) {
		r.State, r.RevokedAt = Revoked, now.Unix()
	})
}

// Expire marks consent of org for resource expired now.
func (s *Store) Expire(ctx context.Context, org, resource string) error {
	return s.update(ctx, org, resource, func(r *Resource, now time.Time) {
		r.State, r.ExpiresAt = Expired, now.Unix()
	})
}

// Request records that consent was asked for and not yet given.
func (s *Store) Request(ctx context.Context, org, resource, policyVersion string) error {
	return s.update(ctx, org, resource, func(r *Resource, _ time.Time) {
		*r = Resource{State: Pending, PolicyVersion: policyVersion}
	})
}

// update applies change to one resource with optimistic concurrency: read
// the record, change it, write it on the condition that its version is
// still the one read; on a lost race, re-read and retry.
//
// Retry safety: when the answer to a put is lost and the SDK retries it,
// the retry fails its condition on the version our own put advanced, and
// the loop re-reads and applies change again. Every change is a
// "set to" (grant, revoke, expire, request), never "add to", so the
// second application writes the same state with a later timestamp and a
// version two ahead: no update is lost and none is doubled.
func (s *Store) update(ctx context.Context, org, resource string, change func(*Resource, time.Time)) error {
	if org == "" || resource == "" {
		return fmt.Errorf("organisation and resource are required: %w", ErrInvalid)
	}
	id := OrgID(org)
	attempts := s.MaxAttempts
	if attempts <= 0 {
		attempts = 64
	}
	for attempt := range attempts {
		rec, found, err := s.get(ctx, id)
		if err != nil {
			return err
		}
		now := clock.Now(s.Now)
		r := rec.Resources[resource]
		change(&r, now)
		rec.Resources[resource] = r
		prev := rec.Version
		rec.Version++
		if s.Marker != "" {
			rec.E2ERunID = s.Marker
		}
		rec.UpdatedAt = now.Unix()
		av, err := attributevalue.MarshalMap(rec)
		if err != nil {
			return fmt.Errorf("encoding consent of %s: %w", resource, err)
		}
		in := &dynamodb.PutItemInput{TableName: aws.String(s.Table), Item: av}
		switch {
		case rec.oracleSK != "":
			// The Oracle's item has no version; its sk changes with
			// every write it makes (a random UUID), so it stands in.
			in.ConditionExpression = aws.String("attribute_not_exists(#ver) AND sk = :sk")
			in.ExpressionAttributeNames = map[string]string{"#ver": "version"}
			in.ExpressionAttributeValues = map[string]types.AttributeValue{":sk": &types.AttributeValueMemberS{Value: rec.oracleSK}}
		case found:
			in.ConditionExpression = aws.String("#ver = :ver")
			in.ExpressionAttributeNames = map[string]string{"#ver": "version"}
			in.ExpressionAttributeValues = map[string]types.AttributeValue{":ver": &types.AttributeValueMemberN{Value: fmt.Sprint(prev)}}
		default:
			in.ConditionExpression = aws.String("attribute_not_exists(orgId)")
		}
		_, err = s.Client.PutItem(ctx, in)
		var ccf *types.ConditionalCheckFailedException
		if errors.As(err, &ccf) {
			// Another writer got there first; back off a little, with
			// jitter so that the losers do not collide again in step.
			d := time.Duration(rand.Int64N(int64(time.Millisecond) << min(attempt, 5)))
			select {
			case <-ctx.Done():
				return fmt.Errorf("updating consent of %s: %w", resource, ctx.Err())
			case <-time.After(d):
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("writing consent of %s to %s: %w", resource, s.Table, err)
		}
		return nil
	}
	return fmt.Errorf("updating consent of %s: %d attempts lost the race: %w", resource, attempts, ErrContention)
}

func (s *Store) get(ctx context.Context, id string) (record, bool, error) {
	out, err := s.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.Table), Key: key(id), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return record{}, false, fmt.Errorf("reading consent from %s: %w", s.Table, err)
	}
	rec := record{OrgID: id}
	switch Classify(out.Item) {
	case ShapeNone:
	case ShapeOracle:
		// Read, not fail: the grant it holds is honoured as a record of
		// its scope (the data check reports the item).
		rec = fromOracleItem(out.Item)
	default:
		if err := attributevalue.UnmarshalMap(out.Item, &rec); err != nil {
			return record{}, false, fmt.Errorf("decoding consent from %s: %w", s.Table, err)
		}
	}
	if rec.Resources == nil {
		rec.Resources = map[string]Resource{}
	}
	return rec, len(out.Item) > 0, nil
}

// Status is the answer of Check.
type Status struct {
	Resource
	// Allowed is true only for a granted, unexpired consent.
	Allowed bool
	Reason  string
}

// Check says whether org consented to resource now. A grant past its
// expiry reads as Expired. An error means the answer is unknown: callers
// must treat it as no consent.
func (s *Store) Check(ctx context.Context, org, resource string) (Status, error) {
	rec, found, err := s.get(ctx, OrgID(org))
	if err != nil {
		return Status{}, err
	}
	r, ok := rec.Resources[resource]
	if !found || !ok {
		return Status{Resource: Resource{State: None}, Reason: "no consent recorded for " + resource}, nil
	}
	now := clock.Now(s.Now).Unix()
	switch {
	case r.State == Granted && r.ExpiresAt != 0 && now >= r.ExpiresAt:
		r.State = Expired
		return Status{Resource: r, Reason: fmt.Sprintf("consent for %s expired at %s", resource, time.Unix(r.ExpiresAt, 0).UTC().Format(time.RFC3339))}, nil
	case r.State == Granted:
		return Status{Resource: r, Allowed: true, Reason: fmt.Sprintf("consent for %s granted under policy %s", resource, r.PolicyVersion)}, nil
	default:
		return Status{Resource: r, Reason: fmt.Sprintf("consent for %s is %s", resource, r.State)}, nil
	}
}

// Resources returns every resource's record of org and the item version.
func (s *Store) Resources(ctx context.Context, org string) (map[string]Resource, int64, error) {
	rec, _, err := s.get(ctx, OrgID(org))
	if err != nil {
		return nil, 0, err
	}
	return rec.Resources, rec.Version, nil
}

// Delete removes org's record (for runs that clean up after themselves).
func (s *Store) Delete(ctx context.Context, org string) error {
	if _, err := s.Client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.Table), Key: key(OrgID(org))}); err != nil {
		return fmt.Errorf("deleting consent from %s: %w", s.Table, err)
	}
	return nil
}
