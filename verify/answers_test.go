package verify

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/verify/target"
)

// errorBody200 answers every request with HTTP 200 and an AWS error as the
// body, as a broken proxy or endpoint may: the SDK parses it as an empty
// answer.
type errorBody200 struct{}

func (errorBody200) Do(r *http.Request) (*http.Response, error) {
	body := `{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException","message":"Requested resource not found"}`
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") || r.Header.Get("X-Amz-Target") == "" {
		body = `<ErrorResponse><Error><Code>InternalFailure</Code><Message>boom</Message></Error></ErrorResponse>`
	}
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/x-amz-json-1.0"}},
		Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
}

// TestAnswerWithoutWhatTheAPIGuarantees: an answer that parses but lacks
// what the API guarantees (a DescribeTable without a Table) is an
// infrastructure failure naming the operation, never a panic or a finding
// about the resource.
func TestAnswerWithoutWhatTheAPIGuarantees(t *testing.T) {
	cfg := aws.Config{Region: "us-east-1", HTTPClient: errorBody200{}, BaseEndpoint: aws.String("http://127.0.0.1:1"),
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""), RetryMaxAttempts: 1}
	tgt := target.Env{Environment: "staging", TopicArn: "arn:aws:sns:us-east-1:111122223333:mirror-dissonance-staging-ops", OIDCProviderArn: "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"}
	ops := map[string]string{IDTables: "DescribeTable", IDSSE: "DescribeTable", IDTTL: "DescribeTimeToLive", IDPITR: "DescribeContinuousBackups",
		IDKMS: "DescribeKey", IDSNS: "GetTopicAttributes", IDOIDC: "GetOpenIDConnectProvider"}
	for id, op := range ops {
		t.Run(id, func(t *testing.T) {
			c := RunCheck(context.Background(), NewClients(cfg), tgt, id, Options{Timeout: 20 * time.Second})
			if c.Status != report.Fail || !c.Infra || !strings.Contains(c.Reason, op) || strings.Contains(c.Reason, "panicked") {
				t.Errorf("%s: %s infra=%v %q; want an infrastructure FAIL naming %s", id, c.Status, c.Infra, c.Reason, op)
			}
		})
	}
}
