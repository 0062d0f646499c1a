// Package mockrun runs the stack program under Pulumi mocks, offline: it
// records every planned resource with its inputs (for the gate) and the
// stack outputs, and lets a Provisioner decide what each resource becomes
// (synthetic ARNs for `check`, real emulator resources for `rehearse`).
package mockrun

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/mirror-dissonance/mirror-infra/internal/gate"
	"github.com/mirror-dissonance/mirror-infra/spec"
	"github.com/mirror-dissonance/mirror-infra/stacks"
	"github.com/mirror-dissonance/mirror-infra/stacks/stackconfig"
)

// Account is the account id mocks report.
const Account = "123456789012"

// Provisioner turns a declared resource into an id and output properties.
// Outputs returned are merged over the inputs.
type Provisioner interface {
	Create(ctx context.Context, typ, name string, inputs map[string]any) (id string, outputs map[string]any, err error)
	// Account is the AWS account the resources live in.
	Account() string
}

// Result is what a mock run produced.
type Result struct {
	Resources []gate.Resource
	Outputs   map[string]any
	// Parents maps a recorded resource's URN to its parent's URN as the
	// program declared it (the stack's URN for top-level components).
	Parents map[string]string
	// Imported maps a recorded resource's URN to the import id the mocks
	// received for it (RunOptions.Imports).
	Imported map[string]string
}

// ImportKey is the key of RunOptions.Imports: a type token and a logical
// name.
func ImportKey(typ, name string) string { return typ + "::" + name }

// Importer is a Provisioner that can also take over an existing resource:
// the mocks call Import instead of Create for a resource declared with an
// import id.
type Importer interface {
	Import(ctx context.Context, typ, name, id string, inputs map[string]any) (outID string, outputs map[string]any, err error)
}

// RunOptions configure RunOpts.
type RunOptions struct {
	// Mutate changes declared inputs (see Mutator); nil for none.
	Mutate Mutator
	// Imports gives resources (ImportKey) the import id the program would
	// declare them with (pulumi.Import), as `adopt` imports them; the
	// program itself is unchanged: a stack transformation adds the option.
	Imports map[string]string
}

// AWSResources returns the planned resources of the AWS provider only.
func (r Result) AWSResources() []gate.Resource {
	var out []gate.Resource
	for _, x := range r.Resources {
		if strings.HasPrefix(x.Type, "aws:") {
			out = append(out, x)
		}
	}
	return out
}

// Mutator changes a resource's declared inputs before anything sees them;
// the rehearsal uses it to inject a defect as if the program had it.
type Mutator func(typ, name string, inputs map[string]any)

// Run runs the program for cfg under mocks with p (Synthetic when nil).
func Run(ctx context.Context, cfg stackconfig.Config, p Provisioner) (Result, error) {
	return RunWith(ctx, cfg, p, nil)
}

// RunWith is Run with a mutator applied to every declared resource.
func RunWith(ctx context.Context, cfg stackconfig.Config, p Provisioner, mutate Mutator) (Result, error) {
	return RunOpts(ctx, cfg, p, RunOptions{Mutate: mutate})
}

// RunOpts is Run with options.
func RunOpts(ctx context.Context, cfg stackconfig.Config, p Provisioner, o RunOptions) (Result, error) {
	if p == nil {
		p = Synthetic{Region: cfg.Region}
	}
	m := &monitor{ctx: ctx, p: p, region: cfg.Region, mutate: o.Mutate, parents: map[string]string{}, imported: map[string]string{}}
	var outputs map[string]any
	var outMu sync.Mutex
	prog := func(pctx *pulumi.Context) error {
		if len(o.Imports) > 0 {
			err := pctx.RegisterStackTransformation(func(a *pulumi.ResourceTransformationArgs) *pulumi.ResourceTransformationResult {
				id, ok := o.Imports[ImportKey(a.Type, a.Name)]
				if !ok {
					return nil
				}
				return &pulumi.ResourceTransformationResult{Props: a.Props, Opts: append(a.Opts, pulumi.Import(pulumi.ID(id)))}
			})
			if err != nil {
				return fmt.Errorf("registering the import transformation: %w", err)
			}
		}
		env, err := stacks.DeclareEnvironment(pctx, cfg)
		if err != nil {
			return err
		}
		env.Outputs(cfg).ToMapOutput().ApplyT(func(v map[string]any) error {
			outMu.Lock()
			outputs = v
			outMu.Unlock()
			return nil
		})
		return nil
	}
	err := pulumi.RunErr(prog, pulumi.WithMocks(spec.Project, cfg.Stack, m))
	if err != nil {
		return Result{}, fmt.Errorf("running the program for stack %s under mocks: %w", cfg.Stack, err)
	}
	if m.err != nil {
		return Result{}, m.err
	}
	outMu.Lock()
	defer outMu.Unlock()
	sort.SliceStable(m.res, func(i, j int) bool { return m.res[i].URN < m.res[j].URN })
	return Result{Resources: m.res, Outputs: outputs, Parents: m.parents, Imported: m.imported}, nil
}

type monitor struct {
	ctx      context.Context
	p        Provisioner
	region   string
	mutate   Mutator
	mu       sync.Mutex
	res      []gate.Resource
	parents  map[string]string
	imported map[string]string
	err      error
}

func (m *monitor) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	inputs := args.Inputs.Mappable()
	if m.mutate != nil && args.Custom {
		m.mutate(args.TypeToken, args.Name, inputs)
	}
	r := gate.Resource{Type: args.TypeToken, Name: args.Name, Op: gate.OpCreate, Inputs: inputs}
	if rpc := args.RegisterRPC; rpc != nil {
		r.Protect = rpc.GetProtect()
		r.URN = fmt.Sprintf("urn:pulumi:%s::%s::%s::%s", "mock", spec.Project, args.TypeToken, args.Name)
		m.mu.Lock()
		m.parents[r.URN] = rpc.GetParent()
		if args.ID != "" {
			m.imported[r.URN] = args.ID
		}
		m.mu.Unlock()
	}
	if !args.Custom {
		// Component resources hold no AWS state.
		m.record(r)
		return args.Name, args.Inputs, nil
	}
	var (
		id   string
		outs map[string]any
		err  error
	)
	if imp, ok := m.p.(Importer); ok && args.ID != "" {
		id, outs, err = imp.Import(m.ctx, args.TypeToken, args.Name, args.ID, inputs)
	} else {
		id, outs, err = m.p.Create(m.ctx, args.TypeToken, args.Name, inputs)
	}
	if err != nil {
		m.mu.Lock()
		if m.err == nil {
			m.err = fmt.Errorf("creating %s (%s): %w", args.Name, args.TypeToken, err)
		}
		m.mu.Unlock()
		return "", nil, err
	}
	m.record(r)
	state := resource.NewPropertyMapFromMap(inputs)
	for k, v := range outs {
		state[resource.PropertyKey(k)] = resource.NewPropertyValue(v)
	}
	return id, state, nil
}

func (m *monitor) record(r gate.Resource) {
	m.mu.Lock()
	m.res = append(m.res, r)
	m.mu.Unlock()
}

func (m *monitor) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	switch args.Token {
	case "aws:index/getCallerIdentity:getCallerIdentity":
		acct := m.p.Account()
		return resource.NewPropertyMapFromMap(map[string]any{
			"accountId": acct, "arn": "arn:aws:iam::" + acct + ":user/mock", "userId": "mock", "id": acct,
		}), nil
	case "aws:index/getPartition:getPartition":
		return resource.NewPropertyMapFromMap(map[string]any{"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"}), nil
	case "aws:iam/getOpenIdConnectProvider:getOpenIdConnectProvider":
		arn := "arn:aws:iam::" + m.p.Account() + ":oidc-provider/token.actions.githubusercontent.com"
		return resource.NewPropertyMapFromMap(map[string]any{
			"arn": arn, "url": "token.actions.githubusercontent.com", "clientIdLists": []any{spec.GitHubOIDCAudience},
			"thumbprintLists": []any{}, "tags": map[string]any{}, "id": arn,
		}), nil
	}
	return nil, fmt.Errorf("mock has no answer for invoke %s", args.Token)
}

// Synthetic provisions nothing: ids and ARNs are made up from the inputs, as
// AWS would form them. It is what `check` uses.
type Synthetic struct{ Region string }

// Account implements Provisioner.
func (s Synthetic) Account() string { return Account }

// Create implements Provisioner.
func (s Synthetic) Create(_ context.Context, typ, name string, in map[string]any) (string, map[string]any, error) {
	str := func(k string) string { v, _ := in[k].(string); return v }
	region, acct := s.Region, Account
	switch typ {
	case gate.TypeKey:
		id := "mock-key-" + name
		return id, map[string]any{"arn": fmt.Sprintf("arn:aws:kms:%s:%s:key/%s", region, acct, id), "keyId": id}, nil
	case gate.TypeAlias:
		return str("name"), map[string]any{"arn": fmt.Sprintf("arn:aws:kms:%s:%s:%s", region, acct, str("name"))}, nil
	case gate.TypeTable:
		return str("name"), map[string]any{"arn": fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", region, acct, str("name"))}, nil
	case gate.TypeTopic:
		arn := fmt.Sprintf("arn:aws:sns:%s:%s:%s", region, acct, str("name"))
		return arn, map[string]any{"arn": arn}, nil
	case gate.TypeAlarm:
		return str("name"), map[string]any{"arn": fmt.Sprintf("arn:aws:cloudwatch:%s:%s:alarm:%s", region, acct, str("name"))}, nil
	case gate.TypeDashboard:
		return str("dashboardName"), map[string]any{"dashboardArn": fmt.Sprintf("arn:aws:cloudwatch::%s:dashboard/%s", acct, str("dashboardName"))}, nil
	case gate.TypeOIDCProvider:
		arn := fmt.Sprintf("arn:aws:iam::%s:oidc-provider/%s", acct, strings.TrimPrefix(str("url"), "https://"))
		return arn, map[string]any{"arn": arn}, nil
	case gate.TypeRole:
		return str("name"), map[string]any{"arn": fmt.Sprintf("arn:aws:iam::%s:role/%s", acct, str("name"))}, nil
	case gate.TypePolicy:
		arn := fmt.Sprintf("arn:aws:iam::%s:policy/%s", acct, str("name"))
		return arn, map[string]any{"arn": arn}, nil
	case gate.TypeQueue:
		url := fmt.Sprintf("https://sqs.%s.amazonaws.com/%s/%s", region, acct, str("name"))
		return url, map[string]any{"url": url, "arn": fmt.Sprintf("arn:aws:sqs:%s:%s:%s", region, acct, str("name"))}, nil
	case gate.TypeSubscription:
		arn := fmt.Sprintf("%s:mock-subscription", str("topic"))
		return arn, map[string]any{"arn": arn}, nil
	case gate.TypeBucket:
		// A bucket's id is its name; S3 ARNs have no region or account.
		return str("bucket"), map[string]any{"arn": "arn:aws:s3:::" + str("bucket"), "bucket": str("bucket")}, nil
	default:
		return name + "-id", map[string]any{}, nil
	}
}
