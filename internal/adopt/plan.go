package adopt

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/mirror-dissonance/mirror-infra/internal/gate"
	"github.com/mirror-dissonance/mirror-infra/internal/mockrun"
	"github.com/mirror-dissonance/mirror-infra/stacks"
	"github.com/mirror-dissonance/mirror-infra/stacks/stackconfig"
)

// ActionConflict marks an entry a Conflict stops.
const ActionConflict = "conflict"

// lookupOrder finds a topic before its policy and subscription and the
// bucket before its configuration.
func lookupOrder(typ string) int {
	switch typ {
	case gate.TypeTopic, gate.TypeBucket, gate.TypeRole:
		return 0
	}
	return 1
}

// Discover builds the adoption plan of the stack cfg describes against the
// account awsCfg reaches, with read-only calls only. The program runs twice
// under mocks: first for the names it declares, then with the import ids
// found (the mocks receive them as pulumi.Import would pass them) and the
// account's real ids, so the declared inputs compare with what exists.
func Discover(ctx context.Context, awsCfg aws.Config, cfg stackconfig.Config, log *slog.Logger) (*Plan, error) {
	f, err := newFinder(ctx, awsCfg, cfg.Stack, cfg.Environment, log)
	if err != nil {
		return nil, err
	}
	// The first run already answers with the discovered account: names
	// built from ARNs (the verification subscription's endpoint, the
	// queue's ARN) must be the account's, never the mocks' 123456789012.
	first, err := mockrun.Run(ctx, cfg, &accountProvisioner{region: f.region, account: f.account, found: map[string]*found{}})
	if err != nil {
		return nil, err
	}
	planned := FromMockRun(first)
	plan := &Plan{Stack: cfg.Stack, Environment: cfg.Environment, Account: f.account, Region: f.region}
	byKey := map[string]*found{}
	byType := map[string]*found{}
	var custom []Planned
	for _, p := range planned {
		if p.Custom {
			custom = append(custom, p)
		} else {
			plan.components = append(plan.components, p)
		}
	}
	sort.SliceStable(custom, func(i, j int) bool { return lookupOrder(custom[i].Type) < lookupOrder(custom[j].Type) })
	for _, p := range custom {
		fd, err := f.lookup(ctx, p, byType)
		if err != nil {
			return nil, err
		}
		e := Entry{Type: p.Type, Name: p.Name, Component: p.ParentType + "::" + p.ParentName, Physical: physical(p, cfg),
			Action: ActionCreate, Terraform: terraformAddress(p.Type, p.Name), parentType: p.ParentType, parentName: p.ParentName}
		if fd != nil {
			f.log.Info("found", "type", p.Type, "name", e.Physical, "id", fd.id)
			byType[p.Type] = fd
			byKey[mockrun.ImportKey(p.Type, p.Name)] = fd
			e.Action, e.ImportID, e.Where, e.outputs = ActionImport, fd.id, fd.where, fd.outputs
			if c := conflict(p, fd, cfg.Stack); c != nil {
				e.Action, e.ImportID = ActionConflict, ""
				c.Physical = e.Physical
				plan.Conflicts = append(plan.Conflicts, *c)
			}
		} else {
			f.log.Info("not found", "type", p.Type, "name", e.Physical)
		}
		plan.Entries = append(plan.Entries, e)
	}
	second, err := mockrun.RunOpts(ctx, cfg, &accountProvisioner{region: f.region, account: f.account, found: byKey},
		mockrun.RunOptions{Imports: plan.ImportIDs()})
	if err != nil {
		return nil, fmt.Errorf("running the program with the import ids: %w", err)
	}
	declared := map[string]map[string]any{}
	for _, r := range second.Resources {
		declared[mockrun.ImportKey(r.Type, r.Name)] = r.Inputs
	}
	for i, e := range plan.Entries {
		if e.Action == ActionImport {
			plan.Entries[i].Updates = updates(declared[mockrun.ImportKey(e.Type, e.Name)], byKey[mockrun.ImportKey(e.Type, e.Name)])
		}
	}
	if err := plan.finish(cfg.CreateOIDCProvider); err != nil {
		return nil, err
	}
	return plan, nil
}

// physical is the name a planned resource has in the account.
func physical(p Planned, cfg stackconfig.Config) string {
	in := inputs(p.Inputs)
	switch p.Type {
	case gate.TypeKey:
		return "key behind " + cfg.Names().KeyAlias()
	case gate.TypeDashboard:
		return in.str("dashboardName")
	case gate.TypeOIDCProvider:
		return in.str("url")
	case gate.TypeRolePolicy:
		return in.str("role") + ":" + in.str("name")
	case gate.TypeTopicPolicy:
		return "policy of " + cfg.Names().Topic()
	case gate.TypeSubscription:
		return in.str("protocol") + ":" + in.str("endpoint")
	case gate.TypeBucketVersioning, gate.TypeBucketEncryption, gate.TypeBucketPublicAccessBlock, gate.TypeBucketPolicy, gate.TypeBucketLifecycle:
		return in.str("bucket") + " (" + p.Name + ")"
	}
	for _, k := range []string{"name", "bucket"} {
		if v := in.str(k); v != "" {
			return v
		}
	}
	return p.Name
}

// conflict says whether a found resource must not be imported: a table
// whose key schema differs (it cannot change in place: Pulumi would
// replace the table and lose its items and PITR history), or a resource
// that another project or another Pulumi stack owns.
func conflict(p Planned, fd *found, stack string) *Conflict {
	if p.Type == gate.TypeTable {
		in := inputs(p.Inputs)
		wantH, wantR := in.str("hashKey"), in.str("rangeKey")
		haveH, _ := fd.observed["hashKey"].(string)
		haveR, _ := fd.observed["rangeKey"].(string)
		if wantH != haveH || wantR != haveR {
			return &Conflict{Type: p.Type, Name: p.Name, Kind: ConflictKeySchema,
				Reason: fmt.Sprintf("the table's key schema is hash %q range %q; the program declares hash %q range %q. A key schema cannot change in place: importing it would make the next deploy replace the table and lose its items and point-in-time-recovery history",
					haveH, haveR, wantH, wantR),
				Fix: "nothing was imported. Copy the items into a table with the program's key schema by hand (or restore a backup into one), or keep this table out of the stack; then run adopt again"}
		}
		if !sameValue(indexes(p.Inputs["globalSecondaryIndexes"]), indexes(fd.observed["globalSecondaryIndexes"])) {
			return &Conflict{Type: p.Type, Name: p.Name, Kind: ConflictKeySchema,
				Reason: fmt.Sprintf("the table's global secondary indexes %v differ from the program's %v", indexes(fd.observed["globalSecondaryIndexes"]), indexes(p.Inputs["globalSecondaryIndexes"])),
				Fix:    "nothing was imported; align the indexes by hand (an index can be added or removed without replacing the table), then run adopt again"}
		}
	}
	if proj := fd.tags["Project"]; proj != "" && proj != stacks.TagProject {
		return &Conflict{Type: p.Type, Name: p.Name, Kind: ConflictForeign,
			Reason: fmt.Sprintf("the name is taken by a resource of another project (tag Project=%s), not one the original modules made (Project=%s)", proj, stacks.TagProject),
			Fix:    "nothing was imported; find its owner, then rename or remove it by hand (adopt never deletes), and run adopt again"}
	}
	if fd.tags["ManagedBy"] == stacks.TagManagedBy && fd.tags["Stack"] != "" && fd.tags["Stack"] != stack {
		return &Conflict{Type: p.Type, Name: p.Name, Kind: ConflictForeign,
			Reason: fmt.Sprintf("the resource belongs to Pulumi stack %s, not %s", fd.tags["Stack"], stack),
			Fix:    "nothing was imported; adopt it from its own stack, or move it with `pulumi state` commands"}
	}
	return nil
}

// indexes renders declared or observed global secondary indexes as
// "name(hash,range)", sorted, so both sides compare alike.
func indexes(v any) []any {
	l, _ := v.([]any)
	var out []string
	for _, x := range l {
		m, _ := x.(map[string]any)
		out = append(out, fmt.Sprintf("%v(%v,%v)", m["name"], m["hashKey"], m["rangeKey"]))
	}
	sort.Strings(out)
	res := make([]any, len(out))
	for i, s := range out {
		res[i] = s
	}
	return res
}

// accountProvisioner answers the mocks with the account's real ids: an
// imported resource gets what discovery read, a created one a synthetic
// id in the real account.
type accountProvisioner struct {
	region, account string
	found           map[string]*found
}

func (a *accountProvisioner) Account() string { return a.account }

func (a *accountProvisioner) Create(ctx context.Context, typ, name string, in map[string]any) (string, map[string]any, error) {
	id, outs, err := mockrun.Synthetic{Region: a.region}.Create(ctx, typ, name, in)
	for k, v := range outs {
		if s, ok := v.(string); ok {
			outs[k] = strings.ReplaceAll(s, ":"+mockrun.Account+":", ":"+a.account+":")
		}
	}
	return id, outs, err
}

func (a *accountProvisioner) Import(_ context.Context, typ, name, id string, _ map[string]any) (string, map[string]any, error) {
	fd := a.found[mockrun.ImportKey(typ, name)]
	if fd == nil {
		return "", nil, fmt.Errorf("import id %s for %s %s was not discovered", id, typ, name)
	}
	return id, fd.outputs, nil
}

// Collision is a resource a plan would create whose name already exists.
type Collision struct {
	Type     string `json:"type"`
	Name     string `json:"name"`
	Physical string `json:"physical"`
	Where    string `json:"where"`
}

// Preflight finds, read-only, each resource planned as a create whose
// physical name already exists in the account awsCfg reaches.
func Preflight(ctx context.Context, awsCfg aws.Config, cfg stackconfig.Config, planned []gate.Resource) ([]Collision, error) {
	f, err := newFinder(ctx, awsCfg, cfg.Stack, cfg.Environment, nil)
	if err != nil {
		return nil, err
	}
	var creates []Planned
	for _, r := range planned {
		if r.Op == gate.OpCreate && strings.HasPrefix(r.Type, "aws:") && !attachedTo(r.Type) {
			creates = append(creates, Planned{Type: r.Type, Name: r.Name, Inputs: r.Inputs, Custom: true})
		}
	}
	sort.SliceStable(creates, func(i, j int) bool { return lookupOrder(creates[i].Type) < lookupOrder(creates[j].Type) })
	byType := map[string]*found{}
	var out []Collision
	for _, p := range creates {
		fd, err := f.lookup(ctx, p, byType)
		if err != nil {
			return nil, err
		}
		if fd == nil {
			continue
		}
		byType[p.Type] = fd
		out = append(out, Collision{Type: p.Type, Name: p.Name, Physical: physical(p, cfg), Where: fd.where})
	}
	return out, nil
}

// attachedTo is true for a resource that is a setting of another one (a
// topic's policy, a bucket's configuration): its parent's collision says it.
func attachedTo(typ string) bool {
	switch typ {
	case gate.TypeTopicPolicy, gate.TypeBucketVersioning, gate.TypeBucketEncryption, gate.TypeBucketPublicAccessBlock,
		gate.TypeBucketPolicy, gate.TypeBucketLifecycle:
		return true
	}
	return false
}
