package awsclient

import (
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// ErrBound is wrapped by every BoundError: a run hit one of its bounds.
var ErrBound = errors.New("bound exceeded")

// BoundError says which bound a run hit. The SDK never retries it.
type BoundError struct {
	// Bound names it: "response size", "request budget", "pages".
	Bound string
	Limit int64
	Unit  string
	// What was being done (a listing's name), when known.
	What string
	Hint string
}

func (e *BoundError) Error() string {
	s := fmt.Sprintf("the %s bound of %d %s was exceeded", e.Bound, e.Limit, e.Unit)
	if e.What != "" {
		s = e.What + ": " + s
	}
	if e.Hint != "" {
		s += " (" + e.Hint + ")"
	}
	return s
}

func (e *BoundError) Unwrap() error { return ErrBound }

// RetryableError tells the SDK's retryer not to try again.
func (e *BoundError) RetryableError() bool { return false }

// cappedClient caps the body of every response its inner client returns.
type cappedClient struct {
	inner aws.HTTPClient
	max   int64
}

func (c *cappedClient) Do(req *http.Request) (*http.Response, error) {
	resp, err := c.inner.Do(req)
	if err != nil || resp.Body == nil {
		return resp, err
	}
	if resp.ContentLength > c.max {
		resp.Body.Close()
		return nil, sizeError(c.max)
	}
	resp.Body = &cappedBody{rc: resp.Body, left: c.max, max: c.max}
	return resp, nil
}

func sizeError(max int64) *BoundError {
	return &BoundError{Bound: "response size", Limit: max, Unit: "bytes",
		Hint: fmt.Sprintf("%d MiB is far above any legitimate AWS answer; the endpoint is broken or hostile", max>>20)}
}

// cappedBody fails a read past max bytes instead of handing them on.
type cappedBody struct {
	rc        io.ReadCloser
	left, max int64
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One byte more tells a body of exactly max from a longer one.
		var one [1]byte
		if n, _ := b.rc.Read(one[:]); n > 0 {
			return 0, sizeError(b.max)
		}
		return b.rc.Read(p)
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *cappedBody) Close() error { return b.rc.Close() }

// Pages bounds one listing: call Next before fetching each page.
type Pages struct {
	// What names the listing in the error, e.g. "ssm:GetParametersByPath /guardian/staging".
	What string
	// Max is the bound; 0 means DefaultMaxPages.
	Max  int
	seen int
}

// Next counts a page and fails once more than Max pages were asked for.
func (p *Pages) Next() error {
	p.seen++
	max := p.Max
	if max <= 0 {
		max = DefaultMaxPages
	}
	if p.seen > max {
		return &BoundError{Bound: "pages", Limit: int64(max), Unit: "pages", What: p.What,
			Hint: "the endpoint keeps returning a next-page token"}
	}
	return nil
}
