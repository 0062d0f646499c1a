package stacks_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/mirror-dissonance/mirror-infra/internal/gate"
	"github.com/mirror-dissonance/mirror-infra/internal/mockrun"
	"github.com/mirror-dissonance/mirror-infra/spec"
	"github.com/mirror-dissonance/mirror-infra/stacks"
	"github.com/mirror-dissonance/mirror-infra/stacks/stackconfig"
)

// declared is one resource as the program registered it.
type declared struct {
	typ, name      string
	custom         bool
	inputs         map[string]any
	protect        bool
	retainOnDelete bool
	parent         string
}

// recorder is a mock monitor that keeps every registration and answers with
// synthetic ARNs (the same ones `check` uses).
type recorder struct {
	mu      sync.Mutex
	res     []declared
	invokes []string
	syn     mockrun.Synthetic
}

func (r *recorder) NewResource(a pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	in := a.Inputs.Mappable()
	d := declared{typ: a.TypeToken, name: a.Name, custom: a.Custom, inputs: in}
	if rpc := a.RegisterRPC; rpc != nil {
		d.protect = rpc.GetProtect()
		d.retainOnDelete = rpc.GetRetainOnDelete()
		d.parent = rpc.GetParent()
	}
	r.mu.Lock()
	r.res = append(r.res, d)
	r.mu.Unlock()
	if !a.Custom {
		return a.Name, a.Inputs, nil
	}
	id, outs, err := r.syn.Create(context.Background(), a.TypeToken, a.Name, in)
	if err != nil {
		return "", nil, err
	}
	state := a.Inputs.Copy()
	for k, v := range outs {
		state[resource.PropertyKey(k)] = resource.NewPropertyValue(v)
	}
	return id, state, nil
}

func (r *recorder) Call(a pulumi.MockCallArgs) (resource.PropertyMap, error) {
	r.mu.Lock()
	r.invokes = append(r.invokes, a.Token)
	r.mu.Unlock()
	switch a.Token {
	case "aws:index/getCallerIdentity:getCallerIdentity":
		return resource.NewPropertyMapFromMap(map[string]any{"accountId": mockrun.Account, "arn": "arn:aws:iam::123456789012:user/t", "userId": "t"}), nil
	case "aws:index/getPartition:getPartition":
		return resource.NewPropertyMapFromMap(map[string]any{"partition": "aws", "dnsSuffix": "amazonaws.com"}), nil
	case "aws:iam/getOpenIdConnectProvider:getOpenIdConnectProvider":
		return resource.NewPropertyMapFromMap(map[string]any{"arn": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com", "url": "token.actions.githubusercontent.com"}), nil
	}
	return nil, fmt.Errorf("unexpected invoke %s", a.Token)
}

func (r *recorder) ofType(typ string) []declared {
	var out []declared
	for _, d := range r.res {
		if d.typ == typ {
			out = append(out, d)
		}
	}
	return out
}

func (r *recorder) one(t *testing.T, typ string) declared {
	t.Helper()
	ds := r.ofType(typ)
	if len(ds) != 1 {
		t.Fatalf("want exactly one %s, got %d", typ, len(ds))
	}
	return ds[0]
}

func loadStack(t *testing.T, stack string) stackconfig.Config {
	t.Helper()
	cfg, err := stackconfig.Load("..", stack)
	if err != nil {
		t.Fatalf("loading %s: %v", stack, err)
	}
	return cfg
}

func runProgram(t *testing.T, cfg stackconfig.Config) *recorder {
	t.Helper()
	rec := &recorder{syn: mockrun.Synthetic{Region: cfg.Region}}
	if err := pulumi.RunErr(stacks.NewProgram(cfg), pulumi.WithMocks(spec.Project, cfg.Stack, rec)); err != nil {
		t.Fatalf("program for %s: %v", cfg.Stack, err)
	}
	return rec
}

var stackNames = []string{"staging", "production"}

func keyArn(region string) string {
	return fmt.Sprintf("arn:aws:kms:%s:%s:key/mock-key-kms", region, mockrun.Account)
}

func TestResourceCountsAndTypes(t *testing.T) {
	forEachStack(t, func(t *testing.T, cfg stackconfig.Config, rec *recorder) {
		counts := map[string]int{}
		aws := 0
		for _, d := range rec.res {
			if d.custom {
				aws++
				counts[d.typ]++
			}
		}
		if aws < gate.DefaultMinResources || aws > gate.DefaultMaxResources {
			t.Errorf("%d AWS resources, want %d to %d", aws, gate.DefaultMinResources, gate.DefaultMaxResources)
		}
		want := map[string]int{
			gate.TypeKey: 1, gate.TypeAlias: 1, gate.TypeTable: 3, gate.TypeTopic: 1, gate.TypeTopicPolicy: 1,
			gate.TypeAlarm: 6, gate.TypeDashboard: 1, gate.TypeRole: 4, gate.TypeRolePolicy: 4, gate.TypePolicy: 1,
			gate.TypeBucket: 1, gate.TypeBucketVersioning: 1, gate.TypeBucketEncryption: 1,
			gate.TypeBucketPublicAccessBlock: 1, gate.TypeBucketPolicy: 1, gate.TypeBucketLifecycle: 1,
		}
		if cfg.AlertEmail != "" {
			want[gate.TypeSubscription]++
		}
		if cfg.VerificationQueue {
			want[gate.TypeSubscription]++
			want[gate.TypeQueue], want[gate.TypeQueuePolicy] = 1, 1
		}
		if cfg.CreateOIDCProvider {
			want[gate.TypeOIDCProvider] = 1
		}
		for typ, n := range want {
			if counts[typ] != n {
				t.Errorf("%s: %d declared, want %d", typ, counts[typ], n)
			}
		}
		for typ, n := range counts {
			if _, ok := want[typ]; !ok {
				t.Errorf("unexpected resource type %s (%d)", typ, n)
			}
		}
		// Every AWS resource sits inside a typed component.
		for _, d := range rec.res {
			if d.custom && !strings.Contains(d.parent, "mirror-dissonance:stacks:") {
				t.Errorf("%s %s is not parented by a component (parent %q)", d.typ, d.name, d.parent)
			}
		}
	})
}

func TestTables(t *testing.T) {
	type want struct {
		hash, rng, ttl string
		index          bool
	}
	wants := map[string]want{
		spec.TableFPEvents:     {"pk", "sk", "expiresAt", true},
		spec.TableConsent:      {"orgId", "", "", false},
		spec.TableBlockCounter: {"bucketKey", "", "expiresAt", false},
	}
	forEachStack(t, func(t *testing.T, cfg stackconfig.Config, rec *recorder) {
		tables := rec.ofType(gate.TypeTable)
		if len(tables) != 3 {
			t.Fatalf("%d tables, want 3", len(tables))
		}
		seen := map[string]bool{}
		for _, d := range tables {
			name, _ := d.inputs["name"].(string)
			suffix := strings.TrimPrefix(name, spec.For(cfg.Environment).Prefix())
			w, ok := wants[suffix]
			if !ok {
				t.Errorf("unexpected table %q", name)
				continue
			}
			seen[suffix] = true
			check := func(path string, wantV any) {
				t.Helper()
				if got := gate.Input(d.inputs, path); fmt.Sprint(got) != fmt.Sprint(wantV) {
					t.Errorf("%s: %s = %v, want %v", name, path, got, wantV)
				}
			}
			check("billingMode", "PAY_PER_REQUEST")
			check("hashKey", w.hash)
			if w.rng != "" {
				check("rangeKey", w.rng)
			} else if d.inputs["rangeKey"] != nil {
				t.Errorf("%s has a range key %v, want none", name, d.inputs["rangeKey"])
			}
			check("pointInTimeRecovery.enabled", true)
			check("serverSideEncryption.enabled", true)
			// The tables use the stack's own CMK, not any key.
			check("serverSideEncryption.kmsKeyArn", keyArn(cfg.Region))
			check("deletionProtectionEnabled", true)
			check("streamEnabled", false)
			if !d.protect {
				t.Errorf("%s: Pulumi protect is off", name)
			}
			if w.ttl != "" {
				check("ttl.enabled", true)
				check("ttl.attributeName", w.ttl)
			} else if d.inputs["ttl"] != nil {
				t.Errorf("%s has TTL %v, want none", name, d.inputs["ttl"])
			}
			attrs, _ := d.inputs["attributes"].([]any)
			var got []string
			for _, a := range attrs {
				m := a.(map[string]any)
				if m["type"] != "S" {
					t.Errorf("%s: attribute %v is %v, want S", name, m["name"], m["type"])
				}
				got = append(got, m["name"].(string))
			}
			sort.Strings(got)
			wantAttrs := []string{w.hash}
			if w.rng != "" {
				wantAttrs = append(wantAttrs, w.rng)
			}
			gsis, _ := d.inputs["globalSecondaryIndexes"].([]any)
			if w.index {
				wantAttrs = append(wantAttrs, "gsi1pk", "gsi1sk")
				if len(gsis) != 1 {
					t.Fatalf("%s: %d indexes, want FindingIndex only", name, len(gsis))
				}
				g := gsis[0].(map[string]any)
				if g["name"] != "FindingIndex" || g["hashKey"] != "gsi1pk" || g["rangeKey"] != "gsi1sk" || g["projectionType"] != "ALL" {
					t.Errorf("%s: index %v, want FindingIndex gsi1pk/gsi1sk ALL", name, g)
				}
			} else if len(gsis) != 0 {
				t.Errorf("%s: unexpected indexes %v", name, gsis)
			}
			sort.Strings(wantAttrs)
			if !slices.Equal(got, wantAttrs) {
				t.Errorf("%s: attributes %v, want %v", name, got, wantAttrs)
			}
		}
		if len(seen) != 3 {
			t.Errorf("tables seen %v, want all three", seen)
		}
	})
}

func TestDeletionProtectionFollowsConfig(t *testing.T) {
	cfg := loadStack(t, "staging")
	cfg.DeletionProtection = false
	rec := runProgram(t, cfg)
	for _, d := range rec.ofType(gate.TypeTable) {
		if d.inputs["deletionProtectionEnabled"] != false {
			t.Errorf("%s: deletionProtectionEnabled %v, want false as configured", d.name, d.inputs["deletionProtectionEnabled"])
		}
		if !d.protect {
			t.Errorf("%s: protect must stay on even without deletion protection", d.name)
		}
	}
}

func statements(t *testing.T, doc any) []map[string]any {
	t.Helper()
	s, ok := doc.(string)
	if !ok {
		t.Fatalf("policy is %T, want a JSON string", doc)
	}
	var p struct {
		Statement []map[string]any
	}
	if err := json.Unmarshal([]byte(s), &p); err != nil {
		t.Fatalf("policy is not JSON: %v", err)
	}
	return p.Statement
}

func TestKeyAndAlias(t *testing.T) {
	windows := map[string]float64{"staging": 7, "production": 30}
	forEachStack(t, func(t *testing.T, cfg stackconfig.Config, rec *recorder) {
		k := rec.one(t, gate.TypeKey)
		if k.inputs["enableKeyRotation"] != true {
			t.Error("key rotation is off")
		}
		if k.inputs["deletionWindowInDays"] != windows[cfg.Stack] {
			t.Errorf("deletion window %v, want %v", k.inputs["deletionWindowInDays"], windows[cfg.Stack])
		}
		if !k.protect {
			t.Error("key is not protected")
		}
		principals := map[string]map[string]any{}
		for _, s := range statements(t, k.inputs["policy"]) {
			if p, ok := s["Principal"].(map[string]any); ok {
				if svc, ok := p["Service"].(string); ok {
					principals[svc] = s
				}
			}
		}
		for _, svc := range []string{"cloudwatch.amazonaws.com", "sns.amazonaws.com"} {
			s, ok := principals[svc]
			if !ok {
				t.Errorf("key policy does not let %s use the key: alarm notifications would never reach the encrypted topic", svc)
				continue
			}
			acts := fmt.Sprint(s["Action"])
			if !strings.Contains(acts, "kms:Decrypt") || !strings.Contains(acts, "kms:GenerateDataKey*") {
				t.Errorf("%s actions %s, want Decrypt and GenerateDataKey*", svc, acts)
			}
			if gate.Input(s, "Condition.StringEquals.aws:SourceAccount") != mockrun.Account {
				t.Errorf("%s is not restricted to the account: %v", svc, s["Condition"])
			}
		}
		policyText := k.inputs["policy"].(string)
		for _, via := range []string{"dynamodb." + cfg.Region + ".amazonaws.com", "ssm." + cfg.Region + ".amazonaws.com"} {
			if !strings.Contains(policyText, via) {
				t.Errorf("key policy lacks kms:ViaService %s", via)
			}
		}
		a := rec.one(t, gate.TypeAlias)
		if a.inputs["name"] != "alias/mirror-dissonance-"+cfg.Environment {
			t.Errorf("alias %v", a.inputs["name"])
		}
		if a.inputs["targetKeyId"] != "mock-key-kms" {
			t.Errorf("alias targets %v, want the stack's key", a.inputs["targetKeyId"])
		}
	})
}

func TestTopicAndSubscription(t *testing.T) {
	forEachStack(t, func(t *testing.T, cfg stackconfig.Config, rec *recorder) {
		n := cfg.Names()
		topic := rec.one(t, gate.TypeTopic)
		if topic.inputs["name"] != n.Topic() {
			t.Errorf("topic name %v", topic.inputs["name"])
		}
		if topic.inputs["kmsMasterKeyId"] != keyArn(cfg.Region) {
			t.Errorf("topic encrypted with %v, want the stack CMK", topic.inputs["kmsMasterKeyId"])
		}
		topicArn := fmt.Sprintf("arn:aws:sns:%s:%s:%s", cfg.Region, mockrun.Account, n.Topic())
		pol := rec.one(t, gate.TypeTopicPolicy)
		sts := statements(t, pol.inputs["policy"])
		if len(sts) != 1 {
			t.Fatalf("topic policy has %d statements", len(sts))
		}
		s := sts[0]
		if gate.Input(s, "Principal.Service") != "cloudwatch.amazonaws.com" || fmt.Sprint(s["Resource"]) != "["+topicArn+"]" {
			t.Errorf("topic policy statement %v", s)
		}
		if gate.Input(s, "Condition.StringEquals.aws:SourceAccount") != mockrun.Account {
			t.Errorf("topic policy not restricted to the account")
		}
		if src, _ := gate.Input(s, "Condition.ArnLike.aws:SourceArn").(string); !strings.HasSuffix(src, ":alarm:"+n.Prefix()+"*") {
			t.Errorf("topic policy SourceArn %q is not restricted to this environment's alarms", src)
		}
		var subs []declared
		for _, sub := range rec.ofType(gate.TypeSubscription) {
			if sub.inputs["protocol"] != "sqs" { // the verification subscriber has its own test
				subs = append(subs, sub)
			}
		}
		if cfg.AlertEmail == "" {
			if len(subs) != 0 {
				t.Errorf("subscription without alertEmail")
			}
			return
		}
		if len(subs) != 1 || subs[0].inputs["protocol"] != "email" || subs[0].inputs["endpoint"] != cfg.AlertEmail || subs[0].inputs["topic"] != topicArn {
			t.Errorf("subscription %+v", subs)
		}
	})
}

func TestAlarms(t *testing.T) {
	forEachStack(t, func(t *testing.T, cfg stackconfig.Config, rec *recorder) {
		n := cfg.Names()
		topicArn := fmt.Sprintf("arn:aws:sns:%s:%s:%s", cfg.Region, mockrun.Account, n.Topic())
		alarms := rec.ofType(gate.TypeAlarm)
		var names []string
		for _, a := range alarms {
			name := a.inputs["name"].(string)
			names = append(names, name)
			var table, metric string
			for _, suffix := range spec.TableSuffixes {
				switch name {
				case n.ReadThrottleAlarm(suffix):
					table, metric = n.Table(suffix), "ReadThrottleEvents"
				case n.WriteThrottleAlarm(suffix):
					table, metric = n.Table(suffix), "WriteThrottleEvents"
				}
			}
			if table == "" {
				t.Errorf("unexpected alarm %s", name)
				continue
			}
			for path, want := range map[string]any{
				"namespace": "AWS/DynamoDB", "metricName": metric, "dimensions.TableName": table,
				"statistic": "Sum", "period": 300.0, "evaluationPeriods": 2.0,
				"comparisonOperator": "GreaterThanThreshold", "threshold": float64(cfg.ThrottleThreshold),
				"treatMissingData": "notBreaching", "actionsEnabled": true,
			} {
				if got := gate.Input(a.inputs, path); got != want {
					t.Errorf("%s: %s = %v, want %v", name, path, got, want)
				}
			}
			for _, k := range []string{"alarmActions", "okActions"} {
				if got := fmt.Sprint(a.inputs[k]); got != "["+topicArn+"]" {
					t.Errorf("%s: %s = %s, want [%s]", name, k, got, topicArn)
				}
			}
		}
		sort.Strings(names)
		want := n.Alarms()
		sort.Strings(want)
		if !slices.Equal(names, want) {
			t.Errorf("alarms %v, want %v", names, want)
		}
	})
}

func TestThresholdFromConfig(t *testing.T) {
	cfg := loadStack(t, "staging")
	cfg.ThrottleThreshold = 42
	rec := runProgram(t, cfg)
	for _, a := range rec.ofType(gate.TypeAlarm) {
		if a.inputs["threshold"] != 42.0 {
			t.Errorf("%s threshold %v, want 42", a.name, a.inputs["threshold"])
		}
	}
}

func TestDashboard(t *testing.T) {
	cfg := loadStack(t, "staging")
	rec := runProgram(t, cfg)
	n := cfg.Names()
	d := rec.one(t, gate.TypeDashboard)
	if d.inputs["dashboardName"] != n.Dashboard() {
		t.Errorf("dashboard name %v", d.inputs["dashboardName"])
	}
	var body struct {
		Widgets []struct {
			Type       string
			Properties map[string]any
		}
	}
	if err := json.Unmarshal([]byte(d.inputs["dashboardBody"].(string)), &body); err != nil {
		t.Fatal(err)
	}
	var alarmWidgets int
	metricsByTable := map[string][]string{}
	for _, w := range body.Widgets {
		switch w.Type {
		case "alarm":
			alarmWidgets++
			if got := len(w.Properties["alarms"].([]any)); got != 6 {
				t.Errorf("alarm widget lists %d alarms, want 6", got)
			}
		case "metric":
			for _, m := range w.Properties["metrics"].([]any) {
				parts := m.([]any)
				if len(parts) != 4 || parts[2] != "TableName" {
					t.Errorf("metric %v has no TableName dimension", parts)
					continue
				}
				metricsByTable[parts[3].(string)] = append(metricsByTable[parts[3].(string)], parts[1].(string))
			}
		}
	}
	if alarmWidgets != 1 {
		t.Errorf("%d alarm widgets, want 1", alarmWidgets)
	}
	for _, table := range n.Tables() {
		got := metricsByTable[table]
		sort.Strings(got)
		want := []string{"ConsumedReadCapacityUnits", "ConsumedWriteCapacityUnits", "ReadThrottleEvents", "WriteThrottleEvents"}
		if !slices.Equal(got, want) {
			t.Errorf("%s metrics %v, want %v", table, got, want)
		}
	}
}

func TestGitHubOIDC(t *testing.T) {
	forEachStack(t, func(t *testing.T, cfg stackconfig.Config, rec *recorder) {
		n := cfg.Names()
		providers := rec.ofType(gate.TypeOIDCProvider)
		lookedUp := slices.Contains(rec.invokes, "aws:iam/getOpenIdConnectProvider:getOpenIdConnectProvider")
		if cfg.CreateOIDCProvider {
			if len(providers) != 1 || lookedUp {
				t.Fatalf("creating stack: %d providers declared, lookup %t", len(providers), lookedUp)
			}
			p := providers[0]
			if p.inputs["url"] != spec.GitHubOIDCURL || fmt.Sprint(p.inputs["clientIdLists"]) != "[sts.amazonaws.com]" {
				t.Errorf("provider inputs %v", p.inputs)
			}
			if !p.retainOnDelete {
				t.Error("the account-wide provider must be retained when this stack is destroyed")
			}
		} else if len(providers) != 0 || !lookedUp {
			t.Fatalf("non-owning stack: %d providers declared, lookup %t (the provider exists once per account)", len(providers), lookedUp)
		}
		roles := map[string]declared{}
		for _, r := range rec.ofType(gate.TypeRole) {
			roles[r.inputs["name"].(string)] = r
		}
		check := func(roleName string, wantSubs []string) {
			r, ok := roles[roleName]
			if !ok {
				t.Fatalf("no role %s", roleName)
			}
			if r.inputs["maxSessionDuration"] != 3600.0 {
				t.Errorf("%s session %v, want 3600", roleName, r.inputs["maxSessionDuration"])
			}
			sts := statements(t, r.inputs["assumeRolePolicy"])
			if len(sts) != 1 {
				t.Fatalf("%s trust has %d statements", roleName, len(sts))
			}
			s := sts[0]
			if !strings.HasSuffix(fmt.Sprint(gate.Input(s, "Principal.Federated")), ":oidc-provider/token.actions.githubusercontent.com") {
				t.Errorf("%s trusts %v", roleName, s["Principal"])
			}
			if gate.Input(s, "Condition.StringEquals.token.actions.githubusercontent.com:aud") != nil {
				t.Fatal("path helper split the condition key; use the map directly")
			}
			eq := s["Condition"].(map[string]any)["StringEquals"].(map[string]any)
			if eq["token.actions.githubusercontent.com:aud"] != "sts.amazonaws.com" {
				t.Errorf("%s audience %v", roleName, eq["token.actions.githubusercontent.com:aud"])
			}
			var subs []string
			for _, x := range eq["token.actions.githubusercontent.com:sub"].([]any) {
				subs = append(subs, x.(string))
			}
			if !slices.Equal(subs, wantSubs) {
				t.Errorf("%s subjects %v, want exactly %v", roleName, subs, wantSubs)
			}
			if len(s["Condition"].(map[string]any)) != 1 {
				t.Errorf("%s trust uses other operators (StringLike?) %v", roleName, s["Condition"])
			}
		}
		check(n.DeployRole(), cfg.DeploySubjects)
		check(n.PreviewRole(), []string{cfg.PreviewSubject()})
		check(n.DrillRole(), cfg.DeploySubjects)
		for _, sub := range cfg.DeploySubjects {
			if strings.Contains(sub, "pull_request") || strings.ContainsAny(sub, "*?") {
				t.Errorf("deploy subject %q", sub)
			}
		}
	})
}

func TestRolePoliciesAreLeastPrivilege(t *testing.T) {
	forEachStack(t, func(t *testing.T, cfg stackconfig.Config, rec *recorder) {
		n := cfg.Names()
		pols := rec.ofType(gate.TypeRolePolicy)
		if len(pols) != 4 {
			t.Fatalf("%d role policies, want deploy, preview, Oracle and drill", len(pols))
		}
		// Resource "*" only for actions IAM cannot scope. Bucket ARNs
		// carry the environment prefix in the bucket name; keys are scoped
		// by their environment tags (a replacement's ARN is not known).
		unscopable := map[string]bool{"kms:CreateKey": true, "kms:ListAliases": true,
			"ssm:DescribeParameters": true, "iam:ListOpenIDConnectProviders": true,
			// The drill's sweep lists tables; its figures are held to their
			// namespace by a condition.
			"dynamodb:ListTables": true, "cloudwatch:PutMetricData": true}
		for _, p := range pols {
			isPreview := p.inputs["role"] == n.PreviewRole()
			for _, s := range statements(t, p.inputs["policy"]) {
				actions := spec.StringsOf(s["Action"])
				resources := spec.StringsOf(s["Resource"])
				for _, a := range actions {
					if a == "*" || strings.HasSuffix(a, ":*") {
						t.Errorf("%v: action %q is a service wildcard", p.inputs["role"], a)
					}
					verb := a[strings.Index(a, ":")+1:]
					if isPreview && spec.IsWrite(a) && verb != "" {
						t.Errorf("preview role may %s", a)
					}
				}
				for _, r := range resources {
					if r == "*" {
						for _, a := range actions {
							if !unscopable[a] {
								t.Errorf("%v: %s on *", p.inputs["role"], a)
							}
						}
						continue
					}
					scoped := strings.Contains(r, n.Prefix()) || strings.Contains(r, "/mirror-dissonance-"+cfg.Environment) ||
						strings.Contains(r, "/guardian/"+cfg.Environment) || r == keyArn(cfg.Region) || strings.HasSuffix(r, ":key/*") ||
						strings.HasSuffix(r, ":oidc-provider/token.actions.githubusercontent.com")
					if !scoped {
						t.Errorf("%v: resource %s is not scoped to the %s environment", p.inputs["role"], r, cfg.Environment)
					}
				}
			}
		}
	})
}

// forEachStack runs the program of every stack under mocks and hands each
// to a subtest.
func forEachStack(t *testing.T, f func(t *testing.T, cfg stackconfig.Config, rec *recorder)) {
	t.Helper()
	for _, stack := range stackNames {
		t.Run(stack, func(t *testing.T) {
			cfg := loadStack(t, stack)
			f(t, cfg, runProgram(t, cfg))
		})
	}
}

func TestTags(t *testing.T) {
	taggable := map[string]bool{gate.TypeKey: true, gate.TypeTable: true, gate.TypeTopic: true, gate.TypeAlarm: true, gate.TypeRole: true, gate.TypeOIDCProvider: true, gate.TypeBucket: true}
	forEachStack(t, func(t *testing.T, cfg stackconfig.Config, rec *recorder) {
		n := 0
		for _, d := range rec.res {
			if !taggable[d.typ] {
				continue
			}
			n++
			tags, _ := d.inputs["tags"].(map[string]any)
			for k, want := range map[string]string{"Project": "MirrorDissonance", "ManagedBy": "Pulumi", "Environment": cfg.Environment, "Stack": cfg.Stack} {
				if tags[k] != want {
					t.Errorf("%s %s: tag %s = %v, want %s", d.typ, d.name, k, tags[k], want)
				}
			}
			if tags["Name"] == nil || tags["Name"] == "" {
				t.Errorf("%s %s has no Name tag", d.typ, d.name)
			}
		}
		if n < 12 {
			t.Errorf("only %d taggable resources seen", n)
		}
	})
}

func TestOutputs(t *testing.T) {
	for _, stack := range stackNames {
		t.Run(stack, func(t *testing.T) {
			cfg := loadStack(t, stack)
			res, err := mockrun.Run(t.Context(), cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			n := cfg.Names()
			want := map[string]any{
				spec.OutEnvironment:           cfg.Environment,
				spec.OutRegion:                cfg.Region,
				spec.OutFPEventsTableName:     n.Table(spec.TableFPEvents),
				spec.OutConsentTableName:      n.Table(spec.TableConsent),
				spec.OutBlockCounterTableName: n.Table(spec.TableBlockCounter),
				spec.OutFPEventsTableArn:      fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", cfg.Region, mockrun.Account, n.Table(spec.TableFPEvents)),
				spec.OutKMSKeyArn:             keyArn(cfg.Region),
				spec.OutKMSAlias:              n.KeyAlias(),
				spec.OutOpsTopicArn:           fmt.Sprintf("arn:aws:sns:%s:%s:%s", cfg.Region, mockrun.Account, n.Topic()),
				spec.OutDashboardName:         n.Dashboard(),
				spec.OutOIDCProviderArn:       "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com",
				spec.OutDeployRoleArn:         "arn:aws:iam::123456789012:role/" + n.DeployRole(),
				spec.OutPreviewRoleArn:        "arn:aws:iam::123456789012:role/" + n.PreviewRole(),
				spec.OutNoncePrefix:           "/guardian/" + cfg.Environment + "/redaction_nonce_v",
				spec.OutBaselinesBucket:       "mirror-dissonance-" + cfg.Environment + "-baselines",
			}
			for k, v := range want {
				if res.Outputs[k] != v {
					t.Errorf("output %s = %v, want %v", k, res.Outputs[k], v)
				}
			}
			for _, k := range []string{spec.OutConsentTableArn, spec.OutBlockCounterTableArn, spec.OutKMSKeyID} {
				if s, _ := res.Outputs[k].(string); s == "" {
					t.Errorf("output %s missing", k)
				}
			}
			if got := fmt.Sprint(res.Outputs[spec.OutAlarmNames]); got != fmt.Sprint(n.Alarms()) {
				t.Errorf("alarmNames %s, want %v", got, n.Alarms())
			}
		})
	}
}

// TestProgramReadsConfigFromPulumi runs the exported Program the way the
// CLI entry point does, with config from the engine.
func TestProgramReadsConfigFromPulumi(t *testing.T) {
	cases := []struct {
		name    string
		config  map[string]string
		wantErr string
	}{
		{"valid", map[string]string{
			"mirror-dissonance:environment": "staging", "mirror-dissonance:githubRepository": "acme/infra",
			"mirror-dissonance:oracleSubjects":     `["repo:acme/oracle:ref:refs/heads/main"]`,
			"mirror-dissonance:createOidcProvider": "true", "mirror-dissonance:kmsDeletionWindowDays": "7",
		}, ""},
		{"bad threshold stops before any resource", map[string]string{
			"mirror-dissonance:environment": "staging", "mirror-dissonance:githubRepository": "acme/infra",
			"mirror-dissonance:oracleSubjects":    `["repo:acme/oracle:ref:refs/heads/main"]`,
			"mirror-dissonance:throttleThreshold": "0",
		}, "mirror-dissonance:throttleThreshold"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, _ := json.Marshal(tc.config)
			t.Setenv("PULUMI_CONFIG", string(b))
			rec := &recorder{syn: mockrun.Synthetic{Region: "us-east-1"}}
			err := pulumi.RunErr(stacks.Program, pulumi.WithMocks(spec.Project, "staging", rec))
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if got := len(rec.ofType(gate.TypeTable)); got != 3 {
					t.Errorf("%d tables", got)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want one naming %s", err, tc.wantErr)
			}
			for _, d := range rec.res {
				if d.custom {
					t.Errorf("resource %s declared despite invalid config", d.name)
				}
			}
		})
	}
}

// TestBaselinesBucket checks SPEC 2.10 on the declared inputs of the bucket
// and each of its configuration resources.
func TestBaselinesBucket(t *testing.T) {
	forEachStack(t, func(t *testing.T, cfg stackconfig.Config, rec *recorder) {
		name := cfg.Names().BaselinesBucket()
		b := rec.one(t, gate.TypeBucket)
		if b.inputs["bucket"] != name {
			t.Errorf("bucket %v, want %s", b.inputs["bucket"], name)
		}
		if !b.protect {
			t.Error("the baselines bucket is not protected")
		}
		if b.inputs["forceDestroy"] == true {
			t.Error("forceDestroy would let a delete empty the bucket")
		}
		if tags, _ := b.inputs["tags"].(map[string]any); tags["Purpose"] != "DriftBaselines" {
			t.Errorf("Purpose tag %v, want DriftBaselines as the original", tags["Purpose"])
		}
		cases := []struct {
			typ   string
			check func(t *testing.T, in map[string]any)
		}{
			{gate.TypeBucketVersioning, func(t *testing.T, in map[string]any) {
				if got := gate.Input(in, "versioningConfiguration.status"); got != "Enabled" {
					t.Errorf("versioning %v, want Enabled", got)
				}
			}},
			{gate.TypeBucketEncryption, func(t *testing.T, in map[string]any) {
				rules, _ := in["rules"].([]any)
				if len(rules) != 1 {
					t.Fatalf("%d encryption rules, want 1", len(rules))
				}
				r := rules[0].(map[string]any)
				for path, want := range map[string]any{
					"applyServerSideEncryptionByDefault.sseAlgorithm":   "aws:kms",
					"applyServerSideEncryptionByDefault.kmsMasterKeyId": keyArn(cfg.Region),
					"bucketKeyEnabled": true,
				} {
					if got := gate.Input(r, path); got != want {
						t.Errorf("%s = %v, want %v", path, got, want)
					}
				}
			}},
			{gate.TypeBucketPublicAccessBlock, func(t *testing.T, in map[string]any) {
				for _, k := range []string{"blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"} {
					if in[k] != true {
						t.Errorf("%s = %v, want true", k, in[k])
					}
				}
			}},
			{gate.TypeBucketPolicy, func(t *testing.T, in map[string]any) {
				doc, err := spec.ParsePolicy(in["policy"])
				if err != nil {
					t.Fatal(err)
				}
				if p := spec.TLSOnlyProblem(doc, name); p != "" {
					t.Error(p)
				}
				if len(doc.Statement) != 1 || doc.Statement[0].Effect != "Deny" {
					t.Errorf("policy %+v, want the one TLS deny", doc.Statement)
				}
			}},
			{gate.TypeBucketLifecycle, func(t *testing.T, in map[string]any) {
				rules, _ := in["rules"].([]any)
				if len(rules) != 1 {
					t.Fatalf("%d lifecycle rules, want 1", len(rules))
				}
				r := rules[0].(map[string]any)
				if r["status"] != "Enabled" {
					t.Errorf("lifecycle rule status %v", r["status"])
				}
				if got := gate.Input(r, "noncurrentVersionExpiration.noncurrentDays"); got != float64(spec.BaselineNoncurrentDays) {
					t.Errorf("noncurrent versions expire after %v days, want %d", got, spec.BaselineNoncurrentDays)
				}
				if p := gate.Input(r, "filter.prefix"); p != nil && p != "" {
					t.Errorf("the rule is limited to prefix %v; it must cover every baseline", p)
				}
				if r["expiration"] != nil {
					t.Errorf("current baselines must never expire: %v", r["expiration"])
				}
			}},
		}
		for _, tc := range cases {
			d := rec.one(t, tc.typ)
			if d.inputs["bucket"] != name {
				t.Errorf("%s configures bucket %v, want %s", tc.typ, d.inputs["bucket"], name)
			}
			if !strings.Contains(d.parent, "BaselinesBucket") {
				t.Errorf("%s is parented by %s, want the BaselinesBucket component", tc.typ, d.parent)
			}
			tc.check(t, d.inputs)
		}
	})
}

// An ephemeral acceptance stack can be destroyed whole: nothing protected,
// no deletion protection, a bucket destroy may empty, the shortest key
// window, and every taggable resource names the run.
func TestEphemeralStackIsDestroyable(t *testing.T) {
	cfg := loadStack(t, "acc-example")
	rec := runProgram(t, cfg)
	for _, d := range rec.res {
		if d.protect {
			t.Errorf("%s %s is protected in an ephemeral stack", d.typ, d.name)
		}
		if tags, ok := d.inputs["tags"].(map[string]any); ok && tags[stacks.TagRun] != cfg.Stack {
			t.Errorf("%s %s: tag %s = %v, want %s", d.typ, d.name, stacks.TagRun, tags[stacks.TagRun], cfg.Stack)
		}
	}
	for _, tbl := range rec.ofType(gate.TypeTable) {
		if tbl.inputs["deletionProtectionEnabled"] != false {
			t.Errorf("table %s: deletion protection %v", tbl.name, tbl.inputs["deletionProtectionEnabled"])
		}
		if name, _ := tbl.inputs["name"].(string); !strings.Contains(name, "-acc-example-") {
			t.Errorf("table name %q does not carry the run", name)
		}
	}
	if b := rec.one(t, gate.TypeBucket); b.inputs["forceDestroy"] != true {
		t.Errorf("bucket forceDestroy %v, want true", b.inputs["forceDestroy"])
	}
	if k := rec.one(t, gate.TypeKey); k.inputs["deletionWindowInDays"] != float64(7) {
		t.Errorf("key deletion window %v, want 7", k.inputs["deletionWindowInDays"])
	}
}
