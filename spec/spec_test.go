package spec

import (
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestTableSchemasFollowTableSuffixes(t *testing.T) {
	if len(TableSchemas) != len(TableSuffixes) {
		t.Fatalf("%d schemas for %d tables", len(TableSchemas), len(TableSuffixes))
	}
	for i, s := range TableSchemas {
		if s.Suffix != TableSuffixes[i] {
			t.Errorf("schema %d is %q, want %q", i, s.Suffix, TableSuffixes[i])
		}
		got, ok := Schema(s.Suffix)
		if !ok || got.HashKey != s.HashKey {
			t.Errorf("Schema(%q) = %+v, %v", s.Suffix, got, ok)
		}
	}
	fp, _ := Schema(TableFPEvents)
	if got, want := fp.AttributeNames(), []string{"pk", "sk", "gsi1pk", "gsi1sk"}; !reflect.DeepEqual(got, want) {
		t.Errorf("fp-events attributes %v, want %v", got, want)
	}
	if _, ok := Schema("audit"); ok {
		t.Error("Schema found a table SPEC 2.2 does not have")
	}
}

func TestThrottleAlarmsMatchAlarmNames(t *testing.T) {
	n := For("staging")
	as := n.ThrottleAlarms()
	if len(as) != 6 {
		t.Fatalf("%d alarms, want 6", len(as))
	}
	for i, a := range as {
		if a.Name != n.Alarms()[i] {
			t.Errorf("alarm %d %q, Alarms() says %q", i, a.Name, n.Alarms()[i])
		}
		wantMetric := MetricReadThrottle
		if a.Op == "write" {
			wantMetric = MetricWriteThrottle
		}
		if a.Metric != wantMetric || a.TableName != n.Table(a.Table) || !strings.HasPrefix(a.Name, a.TableName+"-"+a.Op) {
			t.Errorf("alarm %+v is inconsistent", a)
		}
	}
}

func TestParsePolicy(t *testing.T) {
	doc := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"kms:Decrypt","Resource":"*"}}`
	cases := []struct {
		name    string
		in      any
		wantErr bool
		check   func(t *testing.T, p PolicyDocument)
	}{
		{"single statement object, string fields", doc, false, func(t *testing.T, p PolicyDocument) {
			if len(p.Statement) != 1 || !reflect.DeepEqual(p.Statement[0].Action, Strings{"kms:Decrypt"}) {
				t.Errorf("statements %+v", p.Statement)
			}
			if got := p.Statement[0].Principals("AWS"); !reflect.DeepEqual(got, []string{"*"}) {
				t.Errorf("Principal \"*\" read as %v, want AWS *", got)
			}
		}},
		{"URL-encoded as IAM returns it", url.QueryEscape(doc), false, func(t *testing.T, p PolicyDocument) {
			if len(p.Statement) != 1 || p.Statement[0].Effect != "Allow" {
				t.Errorf("statements %+v", p.Statement)
			}
		}},
		{"decoded object as plans carry it", map[string]any{"Statement": []any{map[string]any{"Effect": "Deny", "Action": []any{"a", "b"}}}}, false, func(t *testing.T, p PolicyDocument) {
			if len(p.Statement) != 1 || len(p.Statement[0].Action) != 2 {
				t.Errorf("statements %+v", p.Statement)
			}
		}},
		{"built document round-trips", mustJSON(t, KeyPolicy(Account{ID: "1", Region: "us-east-1"})), false, func(t *testing.T, p PolicyDocument) {
			if !reflect.DeepEqual(p.Statement[0].Action, KeyPolicy(Account{ID: "1"}).Statement[0].Action) || len(p.Statement) != 5 {
				t.Errorf("round trip lost statements: %+v", p.Statement)
			}
		}},
		{"not JSON", "{", true, nil},
		{"nil", nil, true, nil},
		{"action of the wrong type", `{"Statement":[{"Action":3}]}`, true, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := ParsePolicy(c.in)
			if (err != nil) != c.wantErr {
				t.Fatalf("err = %v, want error %v", err, c.wantErr)
			}
			if c.check != nil {
				c.check(t, p)
			}
		})
	}
}

func mustJSON(t *testing.T, p PolicyDocument) string {
	t.Helper()
	s, err := p.JSON()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestKeyPolicyLetsAlarmNotificationsThrough(t *testing.T) {
	p := KeyPolicy(Account{ID: "123456789012", Region: "eu-west-1"})
	for _, svc := range []string{CloudWatchPrincipal, SNSPrincipal} {
		if !p.AllowsService(svc, AlarmDeliveryActions...) {
			t.Errorf("key policy does not let %s use the key", svc)
		}
	}
	// The original's policy (SPEC 9) is this one without the statements.
	orig := p.Without(SidKeyCloudWatchAlarms, SidKeySNSDelivery)
	if orig.AllowsService(CloudWatchPrincipal, AlarmDeliveryActions...) || len(orig.Statement) != 3 {
		t.Errorf("Without left %d statements, CloudWatch allowed: %v", len(orig.Statement), orig.AllowsService(CloudWatchPrincipal, AlarmDeliveryActions...))
	}
	st := p.Statements("AWS", "*")
	if len(st) != 2 || st[0].ConditionValues("StringEquals", "kms:ViaService")[0] != "dynamodb.eu-west-1.amazonaws.com" {
		t.Errorf("ViaService statements %+v", st)
	}
}

func TestStatementAllows(t *testing.T) {
	cases := []struct {
		effect  string
		actions Strings
		action  string
		want    bool
	}{
		{"Allow", Strings{"kms:GenerateDataKey*"}, "kms:GenerateDataKey", true},
		{"Allow", Strings{"kms:GenerateDataKey*"}, "kms:generatedatakeywithoutplaintext", true},
		{"Allow", Strings{"kms:*"}, "kms:Decrypt", true},
		{"Allow", Strings{"*"}, "sns:Publish", true},
		{"Allow", Strings{"kms:Decrypt"}, "kms:Encrypt", false},
		{"Deny", Strings{"*"}, "kms:Decrypt", false},
	}
	for _, c := range cases {
		if got := (Statement{Effect: c.effect, Action: c.actions}).Allows(c.action); got != c.want {
			t.Errorf("%s %v allows %s = %v, want %v", c.effect, c.actions, c.action, got, c.want)
		}
	}
}

func TestTrustPolicyIsExact(t *testing.T) {
	p := TrustPolicy("arn:aws:iam::1:oidc-provider/x", []string{"repo:o/r:ref:refs/heads/main", "repo:o/r:pull_request"})
	st := p.Statement[0]
	if got := st.ConditionValues("StringEquals", OIDCAudienceKey); !reflect.DeepEqual(got, []string{GitHubOIDCAudience}) {
		t.Errorf("audience %v", got)
	}
	if ops := st.HasCondition(OIDCSubjectKey); !reflect.DeepEqual(ops, []string{"StringEquals"}) {
		t.Errorf("subject operators %v", ops)
	}
	subs := st.ConditionValues("StringEquals", OIDCSubjectKey)
	if len(subs) != 2 || IsPullRequestSubject(subs[0]) || !IsPullRequestSubject(subs[1]) {
		t.Errorf("subjects %v", subs)
	}
}

func TestNonceVersionOf(t *testing.T) {
	prefix := For("staging").NoncePrefix()
	cases := map[string]int{
		prefix + "1":   1,
		prefix + "12":  12,
		prefix + "0":   0,
		prefix + "01":  0, // one version, one name
		prefix + "":    0,
		prefix + "1a":  0,
		prefix + "-1":  0,
		"/other/x_v1":  0,
		prefix + "1/x": 0,
	}
	for name, want := range cases {
		got, ok := NonceVersionOf(prefix, name)
		if got != want || ok != (want > 0) {
			t.Errorf("NonceVersionOf(%q) = %d, %v; want %d", name, got, ok, want)
		}
	}
	if NoncePathOf(prefix) != "/guardian/staging/" {
		t.Errorf("NoncePathOf = %q", NoncePathOf(prefix))
	}
}

func TestValidNonceVersions(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	at := func(ago time.Duration) time.Time { return now.Add(-ago) }
	cases := []struct {
		name string
		vs   []NonceVersion
		want []int
	}{
		{"none", nil, nil},
		{"only v1, however old", []NonceVersion{{1, at(1000 * time.Hour)}}, []int{1}},
		{"v1 in grace", []NonceVersion{{1, at(48 * time.Hour)}, {2, at(59 * time.Minute)}}, []int{2, 1}},
		{"v1 past grace", []NonceVersion{{1, at(48 * time.Hour)}, {2, at(time.Hour)}}, []int{2}},
		{"unsorted input, chain in grace", []NonceVersion{{3, at(time.Minute)}, {1, at(3 * time.Hour)}, {2, at(30 * time.Minute)}}, []int{3, 2, 1}},
		{"a young successor does not revive an older version", []NonceVersion{{1, at(5 * time.Hour)}, {2, at(2 * time.Hour)}, {3, at(time.Minute)}}, []int{3, 2}},
	}
	for _, c := range cases {
		if got := ValidNonceVersions(c.vs, now, DefaultNonceGrace); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

func TestValidNonceValue(t *testing.T) {
	for v, want := range map[string]bool{
		strings.Repeat("ab", 32):               true,
		strings.Repeat("AB", 32):               false,
		strings.Repeat("ab", 31):               false,
		"3f2b8c1e-9a4d-4e7f-b6c5-0d1e2f3a4b5c": false,
	} {
		if ValidNonceValue(v) != want {
			t.Errorf("ValidNonceValue(%q) != %v", v, want)
		}
	}
}

func TestRotationPolicy(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	if RotationDue(now.Add(-89*day), now, DefaultNonceRotationDays*day) {
		t.Error("an 89-day-old nonce is due at 90 days")
	}
	if !RotationDue(now.Add(-90*day), now, DefaultNonceRotationDays*day) {
		t.Error("a 90-day-old nonce is not due")
	}
	at := func(ago time.Duration) time.Time { return now.Add(-ago) }
	five := []NonceVersion{{1, at(400 * day)}, {2, at(300 * day)}, {3, at(200 * day)}, {4, at(100 * day)}, {5, at(30 * time.Minute)}}
	cases := []struct {
		name  string
		vs    []NonceVersion
		grace time.Duration
		keep  int
		want  []int
	}{
		{"keep 3 of 5, v4 in grace", five, time.Hour, 3, []int{2, 1}},
		{"keep 1: v4 is still valid, so it stays", five, time.Hour, 1, []int{3, 2, 1}},
		{"keep 0 never deletes the newest", five, time.Hour, 0, []int{3, 2, 1}},
		{"a long grace keeps everything valid", five, 1000 * day, 0, nil},
		{"nothing to prune", five[:2], time.Hour, 3, nil},
	}
	for _, c := range cases {
		if got := PrunableNonceVersions(c.vs, now, c.grace, c.keep); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}
