package provider

import (
	"context"
	"slices"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
)

const table = "aws:dynamodb/table:Table"

func TestDiffReplacesExactlyForceNew(t *testing.T) {
	old := map[string]any{"name": "t", "hashKey": "pk", "deletionProtectionEnabled": true, "policy": `{"a":1,"b":2}`}
	tests := []struct {
		name             string
		change           map[string]any
		changed, replace []string
	}{
		{"no change", map[string]any{"policy": `{"b":2, "a":1}`}, nil, nil},
		{"in place", map[string]any{"deletionProtectionEnabled": false}, []string{"deletionProtectionEnabled"}, nil},
		{"ForceNew", map[string]any{"rangeKey": "sk"}, []string{"rangeKey"}, []string{"rangeKey"}},
		{"unknown ForceNew", map[string]any{"name": Unknown{}}, []string{"name"}, []string{"name"}},
	}
	p := New(nil, nil, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			news := map[string]any{}
			for k, v := range old {
				news[k] = v
			}
			for k, v := range tt.change {
				news[k] = v
			}
			d, err := p.Diff(context.Background(), plugin.DiffRequest{Type: table, OldInputs: Props(old, nil), NewInputs: Props(news, nil)})
			if err != nil {
				t.Fatal(err)
			}
			if got := keys(d.ChangedKeys); !slices.Equal(got, tt.changed) {
				t.Errorf("changed %v, want %v", got, tt.changed)
			}
			if got := keys(d.ReplaceKeys); !slices.Equal(got, tt.replace) {
				t.Errorf("replaces %v, want %v", got, tt.replace)
			}
		})
	}
}

func keys(ks []resource.PropertyKey) []string {
	var out []string
	for _, k := range ks {
		out = append(out, string(k))
	}
	return out
}

func TestCheckMergesDefaultTagsAndPreviewLeavesComputedUnknown(t *testing.T) {
	ctx := context.Background()
	p := New(nil, nil, nil)
	if _, err := p.Configure(ctx, plugin.ConfigureRequest{Inputs: Props(map[string]any{"defaultTags": `{"tags":{"Team":"ops","Name":"x"}}`}, nil)}); err != nil {
		t.Fatal(err)
	}
	res, err := p.Check(ctx, plugin.CheckRequest{Type: table, News: Props(map[string]any{"name": "t", "tags": map[string]any{"Name": "t"}}, nil)})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := Plain(res.Properties)
	if !Equal(got["tagsAll"], map[string]any{"Team": "ops", "Name": "t"}) {
		t.Errorf("tagsAll = %v, want the tags over the default tags", got["tagsAll"])
	}
	cr, err := p.Create(ctx, plugin.CreateRequest{Type: table, Name: "t", Properties: res.Properties, Preview: true})
	if err != nil {
		t.Fatal(err)
	}
	if !cr.Properties["arn"].IsComputed() {
		t.Errorf("arn in a preview = %v, want unknown", cr.Properties["arn"])
	}
	if _, err := p.Check(ctx, plugin.CheckRequest{Type: "aws:ec2/instance:Instance"}); err == nil {
		t.Error("a type the stand-in does not serve was accepted")
	}
}
