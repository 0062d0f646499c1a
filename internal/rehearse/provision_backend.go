package rehearse

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/mirror-dissonance/mirror-infra/internal/gate"
	"github.com/mirror-dissonance/mirror-infra/internal/provider"
)

// The Provisioner is also the stand-in AWS provider's backend (package
// provider): the same mapping of each type's inputs to AWS calls serves
// the mock rehearsal (Create) and the engine (CreateResource and the
// read, update and delete below), strictly: an input it cannot apply is an
// error naming it.
var _ provider.Backend = (*Provisioner)(nil)

// asyncWait bounds each wait for AWS to finish an asynchronous change (a
// table ACTIVE, PITR enabled, a table gone), as the real provider waits.
const asyncWait = 2 * time.Minute

// CreateResource implements provider.Backend.
func (p *Provisioner) CreateResource(ctx context.Context, typ, name string, in map[string]any) (string, map[string]any, error) {
	if _, ok := readers[typ]; !ok {
		return "", nil, fmt.Errorf("resource type %s is not served by the stand-in AWS provider", typ)
	}
	id, out, left, err := p.apply(ctx, typ, name, in)
	if err != nil {
		return "", nil, err
	}
	if len(left) > 0 {
		// The resource exists but is not what was declared: remove it, so
		// the engine's record (no resource) stays true.
		_ = p.DeleteResource(context.WithoutCancel(ctx), typ, id, in)
		return "", nil, fmt.Errorf("creating %s %s: the stand-in AWS provider cannot apply %s", typ, name, strings.Join(left, ", "))
	}
	// Remembered for Teardown: an in-process emulator keeps its state as
	// long as the process, so a rehearsal removes what the engine left.
	p.mu.Lock()
	p.created = append(p.created, created{typ: typ, id: id, in: in})
	p.mu.Unlock()
	return id, out, nil
}

// reader reads one type's properties as they are in AWS.
type reader func(p *Provisioner, ctx context.Context, id string, state map[string]any) (map[string]any, error)

// updater applies changed inputs of one type in place; it returns the
// changed keys it did not apply.
type updater func(p *Provisioner, ctx context.Context, id string, old, new map[string]any, changed []string) ([]string, error)

var (
	readers = map[string]reader{
		gate.TypeTable: (*Provisioner).readTable, gate.TypeKey: (*Provisioner).readKey, gate.TypeAlias: (*Provisioner).readAlias,
		gate.TypeTopic: (*Provisioner).readTopic, gate.TypeTopicPolicy: (*Provisioner).readTopicPolicy,
		gate.TypeSubscription: (*Provisioner).readSubscription, gate.TypeAlarm: (*Provisioner).readAlarm,
		gate.TypeDashboard: (*Provisioner).readDashboard, gate.TypeOIDCProvider: (*Provisioner).readOIDCProvider,
		gate.TypeRole: (*Provisioner).readRole, gate.TypeRolePolicy: (*Provisioner).readRolePolicy, gate.TypePolicy: (*Provisioner).readPolicy,
		gate.TypeQueue: (*Provisioner).readQueue, gate.TypeQueuePolicy: (*Provisioner).readQueuePolicy,
		gate.TypeBucket: (*Provisioner).readBucket, gate.TypeBucketVersioning: (*Provisioner).readBucketVersioning,
		gate.TypeBucketEncryption: (*Provisioner).readBucketEncryption, gate.TypeBucketPublicAccessBlock: (*Provisioner).readPublicAccessBlock,
		gate.TypeBucketPolicy: (*Provisioner).readBucketPolicy, gate.TypeBucketLifecycle: (*Provisioner).readBucketLifecycle,
	}
	updaters = map[string]updater{
		gate.TypeTable: (*Provisioner).updateTable, gate.TypeKey: (*Provisioner).updateKey, gate.TypeAlias: (*Provisioner).updateAlias,
		gate.TypeTopic: (*Provisioner).updateTopic, gate.TypeTopicPolicy: (*Provisioner).updateTopicPolicy,
		gate.TypeSubscription: (*Provisioner).updateSubscription, gate.TypeAlarm: (*Provisioner).updateAlarm,
		gate.TypeDashboard: (*Provisioner).updateDashboard, gate.TypeOIDCProvider: (*Provisioner).updateOIDCProvider,
		gate.TypeRole: (*Provisioner).updateRole, gate.TypeRolePolicy: (*Provisioner).updateRolePolicy, gate.TypePolicy: (*Provisioner).updatePolicy,
		gate.TypeQueue: (*Provisioner).updateQueue, gate.TypeQueuePolicy: (*Provisioner).updateQueuePolicy,
		gate.TypeBucket: (*Provisioner).updateBucket, gate.TypeBucketVersioning: bucketConfigUpdater(gate.TypeBucketVersioning),
		gate.TypeBucketEncryption: bucketConfigUpdater(gate.TypeBucketEncryption), gate.TypeBucketPublicAccessBlock: bucketConfigUpdater(gate.TypeBucketPublicAccessBlock),
		gate.TypeBucketPolicy: bucketConfigUpdater(gate.TypeBucketPolicy), gate.TypeBucketLifecycle: bucketConfigUpdater(gate.TypeBucketLifecycle),
	}
)

// ReadResource implements provider.Backend.
func (p *Provisioner) ReadResource(ctx context.Context, typ, id string, state map[string]any) (map[string]any, error) {
	r, ok := readers[typ]
	if !ok {
		return nil, fmt.Errorf("resource type %s is not served by the stand-in AWS provider", typ)
	}
	out, err := r(p, ctx, id, state)
	if isNotFound(err) {
		return nil, provider.ErrNotFound
	}
	return out, err
}

// UpdateResource implements provider.Backend.
func (p *Provisioner) UpdateResource(ctx context.Context, typ, id string, old, new map[string]any, changed []string) (map[string]any, error) {
	u, ok := updaters[typ]
	if !ok {
		return nil, fmt.Errorf("resource type %s is not served by the stand-in AWS provider", typ)
	}
	left, err := u(p, ctx, id, old, new, changed)
	if err != nil {
		return nil, fmt.Errorf("updating %s %s: %w", typ, id, err)
	}
	if len(left) > 0 {
		return nil, fmt.Errorf("updating %s %s: the stand-in AWS provider cannot change %s in place", typ, id, strings.Join(left, ", "))
	}
	return map[string]any{}, nil
}

// DeleteResource implements provider.Backend. Unlike Teardown it lifts
// no protection: a table with deletion protection is refused by AWS.
func (p *Provisioner) DeleteResource(ctx context.Context, typ, id string, state map[string]any) error {
	if _, ok := readers[typ]; !ok {
		return fmt.Errorf("resource type %s is not served by the stand-in AWS provider", typ)
	}
	err := p.deleteOne(ctx, typ, id, state)
	if err == nil || isNotFound(err) {
		p.mu.Lock()
		p.created = slices.DeleteFunc(p.created, func(c created) bool { return c.typ == typ && c.id == id })
		p.mu.Unlock()
	}
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("deleting %s %s: %w", typ, id, err)
	}
	return nil
}

// Invoke implements provider.Backend: the program's data sources.
func (p *Provisioner) Invoke(ctx context.Context, token string, args map[string]any) (map[string]any, error) {
	switch token {
	case "aws:index/getCallerIdentity:getCallerIdentity":
		res, err := p.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			return nil, err
		}
		acct := aws.ToString(res.Account)
		return map[string]any{"accountId": acct, "arn": aws.ToString(res.Arn), "userId": aws.ToString(res.UserId), "id": acct}, nil
	case "aws:index/getPartition:getPartition":
		// Derived from the region, as the provider does: no AWS call.
		return map[string]any{"partition": "aws", "dnsSuffix": "amazonaws.com", "reverseDnsPrefix": "com.amazonaws", "id": "aws"}, nil
	case "aws:iam/getOpenIdConnectProvider:getOpenIdConnectProvider":
		return p.lookupOIDCProvider(ctx, args)
	}
	return nil, fmt.Errorf("invoke %s is not served by the stand-in AWS provider", token)
}

// isNotFound reports an AWS error that means the resource does not exist.
func isNotFound(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, provider.ErrNotFound) {
		return true
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "ResourceNotFoundException", "NotFoundException", "NotFound", "NoSuchEntity", "NoSuchBucket",
			"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist", "ResourceNotFound", "NoSuchBucketPolicy",
			"NoSuchLifecycleConfiguration", "ServerSideEncryptionConfigurationNotFoundError", "NoSuchPublicAccessBlockConfiguration":
			return true
		}
	}
	return false
}

// unchanged returns the changed keys not in handled, for an updater's
// "cannot change in place" list.
func unchanged(changed []string, handled ...string) []string {
	var out []string
	for _, k := range changed {
		if !slices.Contains(handled, k) {
			out = append(out, k)
		}
	}
	return out
}

// tagChanges splits a tag change into the tags to set and the keys to
// remove.
func tagChanges(old, new map[string]any) (set map[string]any, remove []string) {
	oldT, _ := old["tags"].(map[string]any)
	newT, _ := new["tags"].(map[string]any)
	set = map[string]any{}
	for k, v := range newT {
		if ov, ok := oldT[k]; !ok || ov != v {
			set[k] = v
		}
	}
	for k := range oldT {
		if _, ok := newT[k]; !ok {
			remove = append(remove, k)
		}
	}
	sort.Strings(remove)
	return set, remove
}

// anyTags converts tags read from AWS to a property value.
func anyTags[T any](list []T, kv func(T) (*string, *string)) map[string]any {
	out := map[string]any{}
	for _, t := range list {
		k, v := kv(t)
		out[aws.ToString(k)] = aws.ToString(v)
	}
	return out
}

// keepSpelling returns the recorded document when the one read means the
// same (IAM returns policies URL-encoded and reformatted).
func keepSpelling(state map[string]any, key, read string) string {
	if dec, err := url.QueryUnescape(read); err == nil && strings.HasPrefix(strings.TrimSpace(dec), "{") {
		read = dec
	}
	if old, ok := state[key].(string); ok && provider.Equal(old, read) {
		return old
	}
	return read
}

// waitFor polls check until it reports done, bounded by asyncWait.
func waitFor(ctx context.Context, what string, check func(context.Context) (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, asyncWait)
	defer cancel()
	for delay := 20 * time.Millisecond; ; delay = min(2*delay, 2*time.Second) {
		done, err := check(ctx)
		if err != nil {
			return fmt.Errorf("waiting for %s: %w", what, err)
		}
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: gave up after %s", what, asyncWait)
		case <-time.After(delay):
		}
	}
}

func num(v any) float64 { f, _ := v.(float64); return f }

func str(v any) string { s, _ := v.(string); return s }

func obj(v any) map[string]any { m, _ := v.(map[string]any); return m }

// noteUnreadable records a property the endpoint cannot read back (Read
// keeps the recorded value), for the report.
func (p *Provisioner) noteUnreadable(typ, prop string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := typ + " " + prop
	if !slices.Contains(p.unreadable, k) {
		p.unreadable = append(p.unreadable, k)
		sort.Strings(p.unreadable)
	}
}

// Unreadable lists the properties ("type property") the endpoint could
// not read back, so refresh and import cannot see them change.
func (p *Provisioner) Unreadable() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.unreadable)
}
