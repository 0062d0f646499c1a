package server

import (
	"net/http"
	"net/url"
	"strings"
)

// Protocol is the wire protocol of a request, which decides how an injected
// error must look for the SDK to recognise it.
type Protocol int

const (
	ProtoUnknown Protocol = iota
	ProtoJSON             // AWS JSON 1.0/1.1 (X-Amz-Target): DynamoDB, KMS, SSM, SQS
	ProtoQuery            // form-encoded Action=, XML answers: SNS, IAM, STS
	ProtoCBOR             // Smithy RPC v2 CBOR: CloudWatch
	ProtoRESTXML          // REST with XML answers, the operation in method, path and query: S3
)

// Operation identifies one AWS request.
type Operation struct {
	// Service is the SigV4 signing name (dynamodb, kms, ssm, sqs, sns, iam,
	// sts, monitoring, s3).
	Service   string
	Operation string
	Protocol  Protocol
}

// String is "service.Operation".
func (o Operation) String() string { return o.Service + "." + o.Operation }

func identify(r *http.Request, body []byte) Operation {
	op := Operation{Service: signingName(r.Header.Get("Authorization"))}
	if op.Service == "s3" {
		op.Operation, op.Protocol = s3Operation(r), ProtoRESTXML
		return op
	}
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		prefix, name, _ := strings.Cut(t, ".")
		op.Operation, op.Protocol = name, ProtoJSON
		if op.Service == "" {
			op.Service = strings.ToLower(prefix)
		}
		return op
	}
	if rest, ok := strings.CutPrefix(r.URL.Path, "/service/"); ok {
		if _, name, ok := strings.Cut(rest, "/operation/"); ok {
			op.Operation, op.Protocol = name, ProtoCBOR
			return op
		}
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		if v, err := url.ParseQuery(string(body)); err == nil {
			op.Operation, op.Protocol = v.Get("Action"), ProtoQuery
			return op
		}
	}
	op.Operation = r.Method + " " + r.URL.Path
	return op
}

// signingName reads the service from a SigV4 Authorization header's
// credential scope (AKID/date/region/service/aws4_request).
func signingName(auth string) string {
	_, cred, ok := strings.Cut(auth, "Credential=")
	if !ok {
		return ""
	}
	if i := strings.IndexAny(cred, ", "); i >= 0 {
		cred = cred[:i]
	}
	parts := strings.Split(cred, "/")
	if len(parts) != 5 {
		return ""
	}
	return parts[3]
}
