// Package provider is a stand-in for the Pulumi AWS provider: it speaks the
// provider gRPC protocol for the resource types and invokes stacks.Program
// uses (pulumi-aws v6.83.4 property names), diffs and replaces as the real
// provider's schema says, leaves computed outputs unknown in a preview, and
// creates, reads, updates and deletes the real resources through a Backend
// (internal/rehearse's Provisioner, which calls the AWS SDK against
// whatever endpoint the SDK configuration names). The engine attaches to it
// through PULUMI_DEBUG_PROVIDERS=aws:<port>.
package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/blang/semver"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
)

// Version is the pulumi-aws version the stand-in answers for (the SDK the
// program is compiled with).
const Version = "6.83.4"

// ErrNotFound is what a Backend's ReadResource returns for a resource that
// no longer exists.
var ErrNotFound = errors.New("resource not found")

// Backend makes the AWS calls. Inputs and outputs are plain values (see
// Plain) in the SDK's property names; tags are the merged tags (tagsAll).
type Backend interface {
	// CreateResource creates a resource and returns its id and the
	// outputs AWS computed; an input it cannot apply is an error naming it.
	CreateResource(ctx context.Context, typ, name string, inputs map[string]any) (string, map[string]any, error)
	// ReadResource returns the properties as they are in AWS (ErrNotFound
	// when the resource is gone); state is the recorded state, empty on
	// import.
	ReadResource(ctx context.Context, typ, id string, state map[string]any) (map[string]any, error)
	// UpdateResource applies the changed inputs in place.
	UpdateResource(ctx context.Context, typ, id string, old, new map[string]any, changed []string) (map[string]any, error)
	// DeleteResource deletes the resource.
	DeleteResource(ctx context.Context, typ, id string, state map[string]any) error
	// Invoke answers a data source.
	Invoke(ctx context.Context, token string, args map[string]any) (map[string]any, error)
}

// Provider is the stand-in. Serve it with Serve.
type Provider struct {
	plugin.UnimplementedProvider

	backend Backend
	calls   *Calls
	log     *slog.Logger

	mu          sync.Mutex
	defaultTags map[string]string
	region      string
	configured  bool
	// notKept are properties ("type property") the endpoint accepted but
	// does not return when read: Read keeps the recorded value for them.
	notKept []string
}

// NotKept lists the properties ("type property") the endpoint accepted
// on create but did not return when read back, sorted: refresh cannot see
// them change there.
func (p *Provider) NotKept() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.notKept)
}

func (p *Provider) kept(typ, key string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return !slices.Contains(p.notKept, typ+" "+key)
}

// readBack reads a resource just made or changed, as the real provider
// ends every create and update with a read: computed outputs come from
// AWS, and a declared property AWS does not return is noted as not kept.
func (p *Provider) readBack(ctx context.Context, s Schema, typ, id string, applied, out map[string]any) error {
	got, err := p.backend.ReadResource(p.label(ctx, typ, "Read"), typ, id, out)
	if err != nil {
		return fmt.Errorf("reading back %s %s: %w", typ, id, err)
	}
	for k, v := range got {
		_, declared := applied[k]
		switch {
		case s.computed(k) || !declared:
			if !declared || s.computed(k) {
				out[k] = v
			}
		case !Equal(applied[k], v):
			p.noteNotKept(typ, k)
		}
	}
	if s.Tagged {
		// tagsAll is what AWS holds, tags the declared ones.
		if !Equal(applied["tags"], got["tags"]) {
			p.noteNotKept(typ, "tags")
		}
	}
	return nil
}

func (p *Provider) noteNotKept(typ, key string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if k := typ + " " + key; !slices.Contains(p.notKept, k) {
		p.notKept = append(p.notKept, k)
		sort.Strings(p.notKept)
	}
}

// New returns a provider on backend; calls (may be nil) records the AWS
// calls, once Calls.Attach was applied to the backend's AWS config.
func New(backend Backend, calls *Calls, log *slog.Logger) *Provider {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Provider{backend: backend, calls: calls, log: log}
}

// Server is a running provider on a loopback port.
type Server struct {
	Port int
	srv  *grpc.Server
	done chan struct{}
}

// DebugProviders is the PULUMI_DEBUG_PROVIDERS value that makes the
// engine attach to this server for the aws package.
func (s *Server) DebugProviders() string { return fmt.Sprintf("aws:%d", s.Port) }

// Close stops the server.
func (s *Server) Close() {
	s.srv.Stop()
	<-s.done
}

// Serve listens on addr (e.g. "127.0.0.1:0") and serves p until Close.
func Serve(p *Provider, addr string) (*Server, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening on %s for the stand-in AWS provider: %w", addr, err)
	}
	g := grpc.NewServer(grpc.MaxRecvMsgSize(64 << 20))
	pulumirpc.RegisterResourceProviderServer(g, plugin.NewProviderServer(p))
	s := &Server{Port: l.Addr().(*net.TCPAddr).Port, srv: g, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		_ = g.Serve(l)
	}()
	return s, nil
}

// Attach is called by the engine when it attaches to a debug provider.
func (p *Provider) Attach(string) error { return nil }

func (p *Provider) Close() error { return nil }

func (p *Provider) Handshake(context.Context, plugin.ProviderHandshakeRequest) (*plugin.ProviderHandshakeResponse, error) {
	return &plugin.ProviderHandshakeResponse{AcceptSecrets: true, AcceptResources: true}, nil
}

func (p *Provider) GetPluginInfo(context.Context) (plugin.PluginInfo, error) {
	v := semver.MustParse(Version)
	return plugin.PluginInfo{Version: &v}, nil
}

func (p *Provider) GetSchema(context.Context, plugin.GetSchemaRequest) (plugin.GetSchemaResponse, error) {
	return plugin.GetSchemaResponse{Schema: []byte("{}")}, nil
}

func (p *Provider) SignalCancellation(context.Context) error { return nil }

// configKeys are the provider settings the stand-in accepts; the endpoint
// and credentials come from the standard SDK configuration.
var configKeys = []string{"region", "defaultTags", "version", "skipCredentialsValidation", "skipRequestingAccountId",
	"skipMetadataApiCheck", "skipRegionValidation"}

func (p *Provider) CheckConfig(_ context.Context, req plugin.CheckConfigRequest) (plugin.CheckConfigResponse, error) {
	news, _ := Plain(req.News)
	var failures []plugin.CheckFailure
	for _, k := range slices.Sorted(maps.Keys(news)) {
		if !slices.Contains(configKeys, k) {
			failures = append(failures, plugin.CheckFailure{Property: resource.PropertyKey(k),
				Reason: fmt.Sprintf("aws:%s is not served by the stand-in AWS provider (it serves %s)", k, strings.Join(configKeys, ", "))})
		}
	}
	return plugin.CheckConfigResponse{Properties: req.News, Failures: failures}, nil
}

func (p *Provider) DiffConfig(_ context.Context, req plugin.DiffConfigRequest) (plugin.DiffConfigResponse, error) {
	old, _ := Plain(req.OldInputs)
	news, _ := Plain(req.NewInputs)
	delete(old, "version")
	delete(news, "version")
	ch := changedKeys(old, news)
	if len(ch) == 0 {
		return plugin.DiffResult{Changes: plugin.DiffNone}, nil
	}
	keys := make([]resource.PropertyKey, len(ch))
	for i, k := range ch {
		keys[i] = resource.PropertyKey(k)
	}
	return plugin.DiffResult{Changes: plugin.DiffSome, ChangedKeys: keys}, nil
}

func (p *Provider) Configure(_ context.Context, req plugin.ConfigureRequest) (plugin.ConfigureResponse, error) {
	in, _ := Plain(req.Inputs)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.configured = true
	if r, ok := in["region"].(string); ok {
		p.region = r
	}
	tags, err := defaultTagsOf(in["defaultTags"])
	if err != nil {
		return plugin.ConfigureResponse{}, err
	}
	p.defaultTags = tags
	return plugin.ConfigureResponse{}, nil
}

// defaultTagsOf reads aws:defaultTags: {"tags": {...}}, as an object or a
// JSON string (stack configuration passes objects as JSON).
func defaultTagsOf(v any) (map[string]string, error) {
	if s, ok := v.(string); ok && s != "" {
		var m map[string]any
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			return nil, fmt.Errorf("reading aws:defaultTags: %w", err)
		}
		v = m
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, nil
	}
	return stringMap(m["tags"]), nil
}

func (p *Provider) defaults() map[string]string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.defaultTags)
}

func schemaOf(typ string) (Schema, error) {
	s, ok := Schemas[typ]
	if !ok {
		return Schema{}, fmt.Errorf("resource type %s is not served by the stand-in AWS provider", typ)
	}
	return s, nil
}

// Check returns the inputs as the real provider does: tagsAll is the tags
// merged over the default tags.
func (p *Provider) Check(_ context.Context, req plugin.CheckRequest) (plugin.CheckResponse, error) {
	s, err := schemaOf(string(req.Type))
	if err != nil {
		return plugin.CheckResponse{}, err
	}
	news, secret := Plain(req.News)
	if s.Tagged {
		if all := mergeTags(p.defaults(), news["tags"]); all == nil {
			news["tagsAll"] = Unknown{}
		} else {
			news["tagsAll"] = all
		}
	}
	return plugin.CheckResponse{Properties: Props(news, secret)}, nil
}

// Diff reports the changed inputs; a change of a ForceNew property is a
// replacement.
func (p *Provider) Diff(_ context.Context, req plugin.DiffRequest) (plugin.DiffResponse, error) {
	s, err := schemaOf(string(req.Type))
	if err != nil {
		return plugin.DiffResult{}, err
	}
	old, _ := Plain(req.OldInputs)
	if len(old) == 0 {
		old, _ = Plain(req.OldOutputs)
	}
	news, _ := Plain(req.NewInputs)
	for _, k := range req.IgnoreChanges {
		news[k] = old[k]
	}
	ch := changedKeys(old, news)
	if len(ch) == 0 {
		return plugin.DiffResult{Changes: plugin.DiffNone}, nil
	}
	d := plugin.DiffResult{Changes: plugin.DiffSome, DetailedDiff: map[string]plugin.PropertyDiff{}}
	for _, k := range ch {
		kind := plugin.DiffUpdate
		switch {
		case isEmpty(old[k]):
			kind = plugin.DiffAdd
		case isEmpty(news[k]) && !hasUnknown(news[k]):
			kind = plugin.DiffDelete
		}
		if s.forceNew(k) {
			kind = kind.AsReplace()
			d.ReplaceKeys = append(d.ReplaceKeys, resource.PropertyKey(k))
		}
		d.ChangedKeys = append(d.ChangedKeys, resource.PropertyKey(k))
		d.DetailedDiff[k] = plugin.PropertyDiff{Kind: kind, InputDiff: true}
	}
	return d, nil
}

// applied is what the backend applies: the merged tags in place of tags.
func applied(s Schema, in map[string]any) map[string]any {
	out := maps.Clone(in)
	if s.Tagged {
		if all, ok := out["tagsAll"].(map[string]any); ok {
			if len(all) > 0 {
				out["tags"] = all
			} else {
				delete(out, "tags")
			}
		}
		delete(out, "tagsAll")
	}
	return out
}

func (p *Provider) label(ctx context.Context, typ, op string) context.Context {
	if p.calls == nil {
		return ctx
	}
	return withCall(ctx, typ, op)
}

func (p *Provider) Create(ctx context.Context, req plugin.CreateRequest) (plugin.CreateResponse, error) {
	typ := string(req.Type)
	s, err := schemaOf(typ)
	if err != nil {
		return plugin.CreateResponse{}, err
	}
	in, secret := Plain(req.Properties)
	out := maps.Clone(in)
	if req.Preview {
		// What AWS assigns is unknown until it has made the resource.
		for _, k := range s.Computed {
			out[k] = Unknown{}
		}
		return plugin.CreateResponse{Properties: Props(out, secret)}, nil
	}
	for k, v := range in {
		if hasUnknown(v) {
			return plugin.CreateResponse{}, fmt.Errorf("creating %s %s: input %s is still unknown at apply", typ, req.Name, k)
		}
	}
	app := applied(s, in)
	id, computed, err := p.backend.CreateResource(p.label(ctx, typ, "Create"), typ, req.Name, app)
	if err != nil {
		return plugin.CreateResponse{}, err
	}
	maps.Copy(out, computed)
	if err := p.readBack(ctx, s, typ, id, app, out); err != nil {
		return plugin.CreateResponse{}, err
	}
	p.log.Debug("created", "type", typ, "name", req.Name, "id", id)
	return plugin.CreateResponse{ID: resource.ID(id), Properties: Props(out, secret), Status: resource.StatusOK}, nil
}

// Read returns what is really there: the recorded state with every
// property the backend read replaced by the value read. With no state (an
// import) the inputs are the properties read, less the computed ones.
func (p *Provider) Read(ctx context.Context, req plugin.ReadRequest) (plugin.ReadResponse, error) {
	typ := string(req.Type)
	s, err := schemaOf(typ)
	if err != nil {
		return plugin.ReadResponse{}, err
	}
	if req.ID == "" {
		return plugin.ReadResponse{}, fmt.Errorf("reading %s %s: no id", typ, req.Name)
	}
	state, secret := Plain(req.State)
	inputs, _ := Plain(req.Inputs)
	got, err := p.backend.ReadResource(p.label(ctx, typ, "Read"), typ, string(req.ID), state)
	if errors.Is(err, ErrNotFound) {
		return plugin.ReadResponse{ReadResult: plugin.ReadResult{ID: ""}}, nil
	}
	if err != nil {
		return plugin.ReadResponse{}, fmt.Errorf("reading %s %s (%s): %w", typ, req.Name, req.ID, err)
	}
	outs := maps.Clone(state)
	if outs == nil {
		outs = map[string]any{}
	}
	for k, v := range got {
		// A JSON document read back keeps the recorded spelling when it
		// means the same, as the real provider suppresses such diffs.
		if Equal(outs[k], v) && outs[k] != nil || len(state) > 0 && !p.kept(typ, k) {
			continue
		}
		outs[k] = v
	}
	if s.Tagged && (len(state) == 0 || p.kept(typ, "tags")) {
		actual := stringMap(got["tags"])
		defaults := p.defaults()
		own := map[string]string{}
		for k, v := range actual {
			if dv, ok := defaults[k]; !ok || dv != v {
				own[k] = v
			} else if _, declared := stringMap(inputs["tags"])[k]; declared {
				own[k] = v
			}
		}
		outs["tagsAll"] = anyMap(actual)
		outs["tags"] = anyMap(own)
		if len(own) == 0 {
			delete(outs, "tags")
		}
	}
	newInputs := map[string]any{}
	if len(inputs) == 0 {
		for k, v := range outs {
			if !s.computed(k) {
				newInputs[k] = v
			}
		}
	} else {
		newInputs = maps.Clone(inputs)
		for k := range inputs {
			if v, ok := outs[k]; ok && !s.computed(k) {
				newInputs[k] = v
			}
		}
		if s.Tagged {
			if t, ok := outs["tags"]; ok {
				newInputs["tags"] = t
			} else {
				delete(newInputs, "tags")
			}
			newInputs["tagsAll"] = outs["tagsAll"]
		}
	}
	return plugin.ReadResponse{ReadResult: plugin.ReadResult{ID: req.ID, Inputs: Props(newInputs, secret), Outputs: Props(outs, secret)},
		Status: resource.StatusOK}, nil
}

func (p *Provider) Update(ctx context.Context, req plugin.UpdateRequest) (plugin.UpdateResponse, error) {
	typ := string(req.Type)
	s, err := schemaOf(typ)
	if err != nil {
		return plugin.UpdateResponse{}, err
	}
	oldOut, _ := Plain(req.OldOutputs)
	oldIn, _ := Plain(req.OldInputs)
	news, secret := Plain(req.NewInputs)
	for _, k := range req.IgnoreChanges {
		news[k] = oldIn[k]
	}
	changed := changedKeys(oldIn, news)
	out := maps.Clone(news)
	for _, k := range s.Computed {
		if v, ok := oldOut[k]; ok {
			out[k] = v
		}
	}
	if req.Preview {
		return plugin.UpdateResponse{Properties: Props(out, secret)}, nil
	}
	for _, k := range changed {
		if s.forceNew(k) {
			return plugin.UpdateResponse{}, fmt.Errorf("updating %s %s: %s can only change by replacement", typ, req.Name, k)
		}
	}
	got, err := p.backend.UpdateResource(p.label(ctx, typ, "Update"), typ, string(req.ID), applied(s, oldOut), applied(s, news), appliedKeys(s, changed))
	if err != nil {
		return plugin.UpdateResponse{}, err
	}
	maps.Copy(out, got)
	if err := p.readBack(ctx, s, typ, string(req.ID), applied(s, news), out); err != nil {
		return plugin.UpdateResponse{}, err
	}
	return plugin.UpdateResponse{Properties: Props(out, secret), Status: resource.StatusOK}, nil
}

// appliedKeys maps changed keys onto what the backend sees: tagsAll is
// applied as tags.
func appliedKeys(s Schema, changed []string) []string {
	var out []string
	for _, k := range changed {
		if k == "tagsAll" && s.Tagged {
			k = "tags"
		}
		if !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func (p *Provider) Delete(ctx context.Context, req plugin.DeleteRequest) (plugin.DeleteResponse, error) {
	typ := string(req.Type)
	s, err := schemaOf(typ)
	if err != nil {
		return plugin.DeleteResponse{}, err
	}
	outs, _ := Plain(req.Outputs)
	if err := p.backend.DeleteResource(p.label(ctx, typ, "Delete"), typ, string(req.ID), applied(s, outs)); err != nil {
		return plugin.DeleteResponse{}, err
	}
	return plugin.DeleteResponse{Status: resource.StatusOK}, nil
}

func (p *Provider) Invoke(ctx context.Context, req plugin.InvokeRequest) (plugin.InvokeResponse, error) {
	tok := string(req.Tok)
	if !slices.Contains(Invokes, tok) {
		return plugin.InvokeResponse{}, fmt.Errorf("invoke %s is not served by the stand-in AWS provider (it serves %s)", tok, strings.Join(Invokes, ", "))
	}
	args, _ := Plain(req.Args)
	out, err := p.backend.Invoke(p.label(ctx, tok, "Invoke"), tok, args)
	if err != nil {
		return plugin.InvokeResponse{}, fmt.Errorf("invoking %s: %w", tok, err)
	}
	return plugin.InvokeResponse{Properties: Props(out, nil)}, nil
}
