package nonce_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/mirror-dissonance/mirror-infra/awsclient"
	"github.com/mirror-dissonance/mirror-infra/oracle/nonce"
)

// endlessPages answers every listing with one more (empty) page.
type endlessPages struct{ calls int }

func (e *endlessPages) GetParametersByPath(context.Context, *ssm.GetParametersByPathInput, ...func(*ssm.Options)) (*ssm.GetParametersByPathOutput, error) {
	e.calls++
	return &ssm.GetParametersByPathOutput{NextToken: aws.String("again")}, nil
}

func (e *endlessPages) PutParameter(context.Context, *ssm.PutParameterInput, ...func(*ssm.Options)) (*ssm.PutParameterOutput, error) {
	return nil, errors.New("not expected")
}

// Issue 21, finding 3: a GetParametersByPath that always returns a
// NextToken ends the listing with an error naming the page bound (the
// store is unavailable), after a bounded number of requests.
func TestListingStopsAtThePageBound(t *testing.T) {
	fake := &endlessPages{}
	s := nonce.New(fake, "staging", "/guardian/staging/redaction_nonce_v", "alias/mirror-dissonance-staging", time.Hour)
	done := make(chan error, 1)
	go func() { _, err := s.Versions(context.Background()); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, awsclient.ErrBound) || !errors.Is(err, nonce.ErrUnavailable) {
			t.Fatalf("error %v, want the page bound and ErrUnavailable", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("still listing after 20s")
	}
	if fake.calls != awsclient.DefaultMaxPages {
		t.Errorf("%d requests, want %d", fake.calls, awsclient.DefaultMaxPages)
	}
}
