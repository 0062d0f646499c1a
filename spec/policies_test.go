package spec

import (
	"strings"
	"testing"
)

func TestTLSOnlyProblem(t *testing.T) {
	const bucket = "mirror-dissonance-staging-baselines"
	arn := Account{}.BucketArn(bucket)
	good := BaselinesBucketPolicy(arn)
	withStatement := func(f func(*Statement)) PolicyDocument {
		p := BaselinesBucketPolicy(arn)
		f(&p.Statement[0])
		return p
	}
	cases := []struct {
		name string
		doc  PolicyDocument
		want string // substring of the problem; empty: TLS-only
	}{
		{"the builder's policy", good, ""},
		{"read back from JSON (Principal \"*\", one statement object)", mustParse(t,
			`{"Version":"2012-10-17","Statement":{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws-cn:s3:::`+bucket+`","arn:aws-cn:s3:::`+bucket+`/*"],"Condition":{"Bool":{"aws:SecureTransport":false}}}}`), ""},
		{"resource *", withStatement(func(s *Statement) { s.Resource = Strings{"*"} }), ""},
		{"no policy statements", Policy(), "no statement denies"},
		{"an Allow instead of a Deny", withStatement(func(s *Statement) { s.Effect = "Allow" }), "no statement denies"},
		{"only some principals", withStatement(func(s *Statement) { s.Principal = map[string]any{"AWS": "arn:aws:iam::1:root"} }), "no statement denies"},
		{"only GetObject", withStatement(func(s *Statement) { s.Action = Strings{"s3:GetObject"} }), "no statement denies"},
		{"SecureTransport true", withStatement(func(s *Statement) { s.Condition["Bool"][SecureTransportKey] = "true" }), "no statement denies"},
		{"narrowed by another condition", withStatement(func(s *Statement) {
			s.Condition["StringEquals"] = map[string]any{"aws:PrincipalAccount": "1"}
		}), "no statement denies"},
		{"objects not covered", withStatement(func(s *Statement) { s.Resource = Strings{arn} }), "not its objects"},
		{"bucket not covered", withStatement(func(s *Statement) { s.Resource = Strings{arn + "/*"} }), "not the bucket"},
		{"another bucket", withStatement(func(s *Statement) {
			s.Resource = Strings{"arn:aws:s3:::other", "arn:aws:s3:::other/*"}
		}), "no statement denies"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := TLSOnlyProblem(tc.doc, bucket)
			switch {
			case tc.want == "" && got != "":
				t.Errorf("want TLS-only, got %q", got)
			case tc.want != "" && !strings.Contains(got, tc.want):
				t.Errorf("problem %q, want one containing %q", got, tc.want)
			}
		})
	}
}

func mustParse(t *testing.T, doc string) PolicyDocument {
	t.Helper()
	p, err := ParsePolicy(doc)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
