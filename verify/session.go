package verify

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/mirror-dissonance/mirror-infra/spec"
	"github.com/mirror-dissonance/mirror-infra/verify/target"
)

// session is one run: the clients, the target and lookups several checks
// share (a table's description, the CMK, the account), each made once.
type session struct {
	// ctx is the run's context: memoised lookups outlive the interest of
	// the check that happened to call them first.
	ctx  context.Context
	c    Clients
	tgt  target.Env
	opts Options
	log  *slog.Logger

	tables   map[string]func() (*dynamodb.DescribeTableOutput, error)
	cmk      func() (keyInfo, error)
	account  func() (string, error)
	keysMu   sync.Mutex
	keyCache map[string]func() (keyInfo, error)

	// alarmsRead is closed when the alarms check has read the alarm
	// states; the alert check waits for it before firing an alarm, so the
	// alarms check never sees the test's own ALARM state.
	alarmsRead     chan struct{}
	closeAlarmRead func()

	// nonceWrites keeps rotation and the E2E cycle apart: a version
	// created while the cycle signs would make it verify against a stale
	// set.
	nonceWrites sync.Mutex
}

type keyInfo struct {
	Arn, ID string
	meta    *kms.DescribeKeyOutput
}

func newSession(ctx context.Context, c Clients, tgt target.Env, opts Options) *session {
	s := &session{ctx: ctx, c: c, tgt: tgt, opts: opts, log: opts.Logger, keyCache: map[string]func() (keyInfo, error){}}
	s.alarmsRead = make(chan struct{})
	s.closeAlarmRead = sync.OnceFunc(func() { close(s.alarmsRead) })
	if !slices.Contains(opts.Checks, IDAlarms) {
		s.closeAlarmRead()
	}
	s.tables = map[string]func() (*dynamodb.DescribeTableOutput, error){}
	for _, name := range tgt.Tables() {
		s.tables[name] = sync.OnceValues(func() (*dynamodb.DescribeTableOutput, error) {
			out, err := c.DynamoDB.DescribeTable(s.ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
			if err == nil && (out == nil || out.Table == nil) {
				return nil, incomplete("dynamodb:DescribeTable of "+name, "a Table")
			}
			return out, err
		})
	}
	s.cmk = sync.OnceValues(func() (keyInfo, error) {
		// The alias usually names the same key: one DescribeKey of the
		// alias then serves both the key and the alias check.
		if tgt.KMSAlias != "" && tgt.KMSAlias != tgt.KMSKey {
			if k, err := s.key(tgt.KMSAlias); err == nil && (k.Arn == tgt.KMSKey || k.ID == tgt.KMSKey) {
				return k, nil
			}
		}
		return s.key(tgt.KMSKey)
	})
	s.account = sync.OnceValues(func() (string, error) {
		out, err := c.STS.GetCallerIdentity(s.ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			return "", fmt.Errorf("finding the account with sts:GetCallerIdentity: %w", err)
		}
		return aws.ToString(out.Account), nil
	})
	return s
}

// key describes a KMS key by id, ARN or alias, once per run.
func (s *session) key(id string) (keyInfo, error) {
	s.keysMu.Lock()
	f, ok := s.keyCache[id]
	if !ok {
		f = sync.OnceValues(func() (keyInfo, error) {
			out, err := s.c.KMS.DescribeKey(s.ctx, &kms.DescribeKeyInput{KeyId: aws.String(id)})
			if err != nil {
				return keyInfo{}, fmt.Errorf("describing KMS key %s: %w", id, err)
			}
			if out == nil || out.KeyMetadata == nil {
				return keyInfo{}, incomplete("kms:DescribeKey of "+id, "KeyMetadata")
			}
			return keyInfo{Arn: aws.ToString(out.KeyMetadata.Arn), ID: aws.ToString(out.KeyMetadata.KeyId), meta: out}, nil
		})
		s.keyCache[id] = f
	}
	s.keysMu.Unlock()
	return f()
}

// fromAccount returns given, or, when the target lacks it, the ARN build
// makes from the account the run found.
func (s *session) fromAccount(given string, build func(spec.Account) string) (string, error) {
	if given != "" {
		return given, nil
	}
	acct, err := s.account()
	if err != nil {
		return "", err
	}
	return build(spec.Account{ID: acct, Region: s.tgt.Region}), nil
}

// topicArn is the ops topic ARN, from the target or built from the account.
func (s *session) topicArn() (string, error) {
	return s.fromAccount(s.tgt.TopicArn, func(a spec.Account) string { return a.TopicArn(s.tgt.TopicName) })
}

// keyMatches reports whether a key reference (id, ARN, alias or alias ARN)
// names the CMK, resolving it with DescribeKey only when it is not
// obviously the same.
func (s *session) keyMatches(ref string, cmk keyInfo) (bool, error) {
	if ref == "" {
		return false, nil
	}
	if ref == cmk.Arn || ref == cmk.ID || ref == s.tgt.KMSAlias || strings.HasSuffix(ref, ":"+s.tgt.KMSAlias) {
		// An alias only matches if it points at the CMK, which the kms
		// check proves.
		return true, nil
	}
	k, err := s.key(ref)
	if isNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return k.Arn == cmk.Arn, nil
}
