package rehearse

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/mirror-dissonance/mirror-infra/emulator"
	"github.com/mirror-dissonance/mirror-infra/internal/adopt"
	"github.com/mirror-dissonance/mirror-infra/internal/gate"
	"github.com/mirror-dissonance/mirror-infra/internal/mockrun"
	"github.com/mirror-dissonance/mirror-infra/internal/postdeploy"
	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/stacks/stackconfig"
	"github.com/mirror-dissonance/mirror-infra/verify/target"
)

// FromTerraform is the --from value that starts the rehearsal from an
// environment the original Terraform modules made.
const FromTerraform = "terraform"

// AdoptionDefect is a --break defect of a rehearsal from Terraform.
type AdoptionDefect struct {
	Name        string
	Description string
	// Expect says what the adoption must do about it.
	Expect string
}

// AdoptionDefects lists the defects --from terraform --break takes.
func AdoptionDefects() []AdoptionDefect {
	return []AdoptionDefect{
		{string(emulator.TFKeySchema), emulator.TerraformDefects[emulator.TFKeySchema], "adopt stops before importing anything (exit 1) and explains why"},
		{string(emulator.TFMissing), emulator.TerraformDefects[emulator.TFMissing], "adopt imports the rest; the deploy creates the missing table"},
		{string(emulator.TFForeign), emulator.TerraformDefects[emulator.TFForeign], "adopt stops before importing anything (exit 1) naming the foreign owner"},
	}
}

// FindAdoptionDefect returns the adoption defect called name.
func FindAdoptionDefect(name string) (AdoptionDefect, error) {
	d, names, ok := findNamed(AdoptionDefects(), func(d AdoptionDefect) string { return d.Name }, name)
	if !ok {
		return d, fmt.Errorf("no adoption defect %q (with --from terraform: %s)", name, strings.Join(names, ", "))
	}
	return d, nil
}

// runFromTerraform rehearses SPEC 3.2: an environment seeded as the
// original modules declare it, with items in its tables; the pre-flight a
// plain deploy would stop at; discovery and the adoption plan; the import
// (the program under mocks with the import ids) with the in-place updates
// applied; the gate with the adoption rule; the post-deploy stage; and the
// proof that every item written before is still there and no table was
// recreated.
func runFromTerraform(ctx context.Context, cfg stackconfig.Config, opts Options, log *slog.Logger) (*Result, error) {
	var defects []emulator.TerraformDefect
	if opts.Break != "" {
		d, err := FindAdoptionDefect(opts.Break)
		if err != nil {
			return nil, err
		}
		defects = append(defects, emulator.TerraformDefect(d.Name))
	}
	start := time.Now()
	rep := &report.Report{Command: "rehearse", Stack: cfg.Stack, Started: start}
	e, awsCfg, err := startEmulator(ctx)
	if err != nil {
		return nil, err
	}
	defer e.Close()
	tf, err := emulator.SeedTerraform(ctx, awsCfg, emulator.TerraformOptions{Env: cfg.Environment, Defects: defects})
	if err != nil {
		return nil, err
	}
	p := NewProvisioner(awsCfg, emulator.AccountID)
	defer func() {
		cleanCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if err := p.Teardown(cleanCtx); err != nil {
			log.Warn("removing the rehearsal's new resources from the emulator", "err", err)
		}
		if err := tf.Teardown(cleanCtx); err != nil {
			log.Warn("removing the Terraform-made environment from the emulator", "err", err)
		}
		if err := removeExtras(cleanCtx, awsCfg, cfg); err != nil {
			log.Warn("removing the rehearsal's nonce versions and queue", "err", err)
		}
	}()
	items := 0
	for _, k := range tf.Items {
		items += len(k)
	}
	rep.Add(report.Check{ID: "rehearse:terraform", Status: report.Pass,
		Reason: fmt.Sprintf("seeded %s as reference/terraform declares it: %d tables holding %d items, the key, topic, alarms, dashboards, roles, nonce and baselines bucket", cfg.Environment, len(tf.Tables), items)})
	log.Info("Terraform-made environment seeded", "tables", len(tf.Tables), "items", items)
	before, err := tableTimes(ctx, awsCfg, tf.Tables)
	if err != nil {
		return nil, err
	}

	// What a plain deploy would do: the pre-flight stops it.
	planned, err := mockrun.Run(ctx, cfg, nil)
	if err != nil {
		return nil, err
	}
	coll, err := adopt.Preflight(ctx, awsCfg, cfg, planned.Resources)
	if err != nil {
		return nil, fmt.Errorf("pre-flight against the emulator: %w", err)
	}
	rep.Add(preflightRehearsed(coll))

	plan, err := adopt.Discover(ctx, awsCfg, cfg, log)
	if err != nil {
		return nil, fmt.Errorf("discovering the Terraform-made environment: %w", err)
	}
	rep.Add(planCheck(plan))
	res := &Result{Report: rep}
	if len(plan.Conflicts) > 0 {
		// Stopped before the import: prove nothing changed.
		rep.Add(preservedCheck(ctx, awsCfg, tf, before))
		rep.Elapsed = time.Since(start).Round(time.Millisecond).String()
		return res, nil
	}

	ad := &adopter{p: p, cfg: awsCfg}
	run, err := mockrun.RunOpts(ctx, cfg, ad, mockrun.RunOptions{Imports: plan.ImportIDs()})
	if err != nil {
		return nil, err
	}
	rep.Add(importCheck(plan, run))
	preview := afterImport(plan, run)
	rep.Add(gate.Checks(gate.Adoption(preview, plan.ImportedNames()), gate.RuleAdoption)...)
	rep.Add(inPlaceCheck(plan))
	findings := gate.Evaluate(run.Resources, gate.Options{Environment: cfg.Environment, DeletionProtection: cfg.DeletionProtection})
	for _, c := range gate.Checks(findings) {
		if c.ID != "gate:"+gate.RuleAdoption {
			rep.Add(c)
		}
	}
	log.Info("adopted", "imported", len(plan.Imports()), "created", len(plan.Creates()))

	tgt, err := target.FromOutputs(run.Outputs)
	if err != nil {
		return nil, fmt.Errorf("reading the adopted stack's outputs: %w", err)
	}
	if queue, err := subscribeVerifier(ctx, awsCfg, tgt); err != nil {
		rep.Add(report.Check{ID: "rehearse:subscriber", Status: report.Fail, Reason: err.Error(), Infra: true})
	} else {
		tgt.VerifyQueueURL = queue
	}
	rep.Add(postdeploy.Run(ctx, awsCfg, tgt, postdeployOptions(cfg))...)
	rep.Add(preservedCheck(ctx, awsCfg, tf, before))
	finishReport(rep, start, run)
	res.Resources, res.Outputs, res.Unapplied = run.Resources, run.Outputs, p.Unapplied()
	return res, nil
}

func preflightRehearsed(coll []adopt.Collision) report.Check {
	c := report.Check{ID: "rehearse:preflight", Status: report.Pass, Details: map[string]string{}}
	if len(coll) == 0 {
		c.Reason = "no planned create collides with an existing name"
		return c
	}
	var names []string
	for _, x := range coll {
		names = append(names, x.Physical)
		c.Details[x.Type+" "+x.Name] = x.Physical + " (" + x.Where + ")"
	}
	c.Reason = fmt.Sprintf("a plain deploy stops here (exit 1, nothing applied): %d planned creates already exist, e.g. %s; adopting instead", len(coll), strings.Join(names[:min(3, len(names))], ", "))
	return c
}

func planCheck(plan *adopt.Plan) report.Check {
	c := report.Check{ID: "adopt:plan", Status: report.Pass,
		Reason: fmt.Sprintf("%d resources to import, %d to create, %d left alone; %d `terraform state rm` commands for the hand-off",
			len(plan.Imports()), len(plan.Creates()), len(plan.LeftAlone), len(plan.StateRm))}
	if len(plan.Creates()) > 0 {
		var names []string
		for _, e := range plan.Creates() {
			names = append(names, e.Physical)
		}
		c.Reason += "; created: " + strings.Join(names, ", ")
	}
	if len(plan.Conflicts) > 0 {
		var msgs []string
		for _, x := range plan.Conflicts {
			msgs = append(msgs, fmt.Sprintf("%s %s: %s", x.Type, x.Physical, x.Reason))
		}
		c.Status = report.Fail
		c.Reason = "stopped before importing anything: " + strings.Join(msgs, "; ")
		c.Fix = plan.Conflicts[0].Fix
	}
	return c
}

// importCheck proves the import ids reached the program as pulumi.Import.
func importCheck(plan *adopt.Plan, run mockrun.Result) report.Check {
	want := plan.ImportIDs()
	got := 0
	for urn, id := range run.Imported {
		for k, v := range want {
			if v == id && strings.HasSuffix(urn, "::"+k[strings.LastIndex(k, "::")+2:]) {
				got++
				break
			}
		}
	}
	c := report.Check{ID: "adopt:import", Status: report.Pass,
		Reason: fmt.Sprintf("imported %d resources under their components (each import id reached the program), created %d", got, len(plan.Creates()))}
	if got != len(want) {
		c.Status, c.Reason = report.Fail, fmt.Sprintf("%d of %d import ids reached the program", got, len(want))
	}
	return c
}

// afterImport is the preview that follows the import: imported resources
// update in place (or stay), the rest is created.
func afterImport(plan *adopt.Plan, run mockrun.Result) []gate.Resource {
	upd := map[string][]string{}
	for _, e := range plan.Imports() {
		upd[mockrun.ImportKey(e.Type, e.Name)] = e.Updates
	}
	out := make([]gate.Resource, 0, len(run.Resources))
	for _, r := range run.Resources {
		if d, ok := upd[mockrun.ImportKey(r.Type, r.Name)]; ok {
			r.Op, r.Diffs = gate.OpSame, d
			if len(d) > 0 {
				r.Op = gate.OpUpdate
			}
		}
		out = append(out, r)
	}
	return out
}

func inPlaceCheck(plan *adopt.Plan) report.Check {
	c := report.Check{ID: "adopt:in-place", Status: report.Pass, Details: map[string]string{}}
	n := 0
	for _, e := range plan.Imports() {
		if len(e.Updates) > 0 {
			n++
			c.Details[e.Type+" "+e.Name] = strings.Join(e.Updates, ", ")
		}
	}
	c.Reason = fmt.Sprintf("%d imported resources updated in place (the original's known defects among them: alarms' missing-data treatment and OK actions, the key policy's CloudWatch statement, the deploy role's trust)", n)
	return c
}

// tableTimes reads each table's creation time.
func tableTimes(ctx context.Context, cfg aws.Config, tables []string) (map[string]time.Time, error) {
	c := dynamodb.NewFromConfig(cfg)
	out := map[string]time.Time{}
	for _, t := range tables {
		d, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(t)})
		if err != nil {
			return nil, fmt.Errorf("reading the creation time of %s: %w", t, err)
		}
		out[t] = aws.ToTime(d.Table.CreationDateTime)
	}
	return out, nil
}

// preservedCheck proves every item written before the adoption is still
// there and no table was recreated (same creation time).
func preservedCheck(ctx context.Context, cfg aws.Config, tf *emulator.TerraformSeeded, before map[string]time.Time) report.Check {
	c := dynamodb.NewFromConfig(cfg)
	var missing, recreated []string
	found := 0
	tables := make([]string, 0, len(tf.Items))
	for t := range tf.Items {
		tables = append(tables, t)
	}
	sort.Strings(tables)
	for _, t := range tables {
		for _, k := range tf.Items[t] {
			out, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(t), Key: k, ConsistentRead: aws.Bool(true)})
			if err != nil || len(out.Item) == 0 {
				missing = append(missing, t+" "+keyString(k))
				continue
			}
			found++
		}
	}
	after, err := tableTimes(ctx, cfg, tf.Tables)
	if err != nil {
		return report.Check{ID: "rehearse:preserved", Status: report.Fail, Reason: err.Error()}
	}
	for _, t := range tf.Tables {
		if !after[t].Equal(before[t]) {
			recreated = append(recreated, fmt.Sprintf("%s (created %s, now %s)", t, before[t].Format(time.RFC3339), after[t].Format(time.RFC3339)))
		}
	}
	ch := report.Check{ID: "rehearse:preserved", Status: report.Pass,
		Reason: fmt.Sprintf("all %d items written before the adoption are still there; no table was recreated (%d creation times unchanged)", found, len(tf.Tables))}
	if len(missing) > 0 || len(recreated) > 0 {
		ch.Status = report.Fail
		ch.Reason = fmt.Sprintf("lost items: %v; recreated tables: %v", missing, recreated)
		ch.Fix = "an adoption must never recreate a table: check the adoption gate rule and the import ids"
	}
	return ch
}

func keyString(k map[string]ddbtypes.AttributeValue) string {
	var parts []string
	for n, v := range k {
		if s, ok := v.(*ddbtypes.AttributeValueMemberS); ok {
			parts = append(parts, n+"="+s.Value)
		}
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

// adopter is the rehearsal's import: a resource with an import id is taken
// over as it exists and the program's settings are applied to it in place
// (what the deploy after `adopt` does); any other is created.
type adopter struct {
	p   *Provisioner
	cfg aws.Config
}

func (a *adopter) Account() string { return a.p.Account() }

func (a *adopter) Create(ctx context.Context, typ, name string, in map[string]any) (string, map[string]any, error) {
	return a.p.Create(ctx, typ, name, in)
}

// Import implements mockrun.Importer.
func (a *adopter) Import(ctx context.Context, typ, name, id string, raw map[string]any) (string, map[string]any, error) {
	in := &inputs{m: raw, used: map[string]bool{}}
	p := a.p
	var out map[string]any
	var err error
	switch typ {
	case gate.TypeTable:
		var d *dynamodb.DescribeTableOutput
		if _, err = p.ddb.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String(id), DeletionProtectionEnabled: aws.Bool(in.boolean("deletionProtectionEnabled"))}); err != nil {
			break
		}
		if d, err = p.ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(id)}); err != nil {
			break
		}
		arn := aws.ToString(d.Table.TableArn)
		_, err = p.ddb.TagResource(ctx, &dynamodb.TagResourceInput{ResourceArn: aws.String(arn), Tags: ddbTags(in.obj("tags"))})
		out = map[string]any{"arn": arn}
	case gate.TypeKey:
		if _, err = p.kms.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: aws.String(id), PolicyName: aws.String("default"), Policy: aws.String(in.str("policy"))}); err != nil {
			break
		}
		if in.boolean("enableKeyRotation") {
			if _, err = p.kms.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: aws.String(id)}); err != nil {
				break
			}
		}
		var d *kms.DescribeKeyOutput
		if d, err = p.kms.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(id)}); err == nil {
			_, err = p.kms.TagResource(ctx, &kms.TagResourceInput{KeyId: aws.String(id), Tags: kmsTags(in.obj("tags"))})
			out = map[string]any{"arn": aws.ToString(d.KeyMetadata.Arn), "keyId": id}
		}
	case gate.TypeAlias:
		// Only when it points elsewhere (the emulator has no UpdateAlias):
		// re-point it by deleting and creating it.
		var d *kms.DescribeKeyOutput
		if d, err = p.kms.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(id)}); err == nil && aws.ToString(d.KeyMetadata.KeyId) != in.str("targetKeyId") {
			if _, err = p.kms.DeleteAlias(ctx, &kms.DeleteAliasInput{AliasName: aws.String(id)}); err == nil {
				_, err = p.kms.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String(id), TargetKeyId: aws.String(in.str("targetKeyId"))})
			}
		}
		out = map[string]any{"arn": p.account().KeyAliasArn(id)}
	case gate.TypeTopic:
		if k := in.str("kmsMasterKeyId"); k != "" {
			_, err = p.sns.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{TopicArn: aws.String(id), AttributeName: aws.String("KmsMasterKeyId"), AttributeValue: aws.String(k)})
		}
		if err == nil {
			if _, terr := p.sns.TagResource(ctx, &sns.TagResourceInput{ResourceArn: aws.String(id), Tags: snsTags(in.obj("tags"))}); terr != nil {
				// The emulator answers SNS TagResource in a shape the SDK
				// cannot read; listed as not applied, never dropped.
				p.mu.Lock()
				p.unapplied[typ+" "+name] = append(p.unapplied[typ+" "+name], "tags")
				p.mu.Unlock()
			}
		}
		out = map[string]any{"arn": id}
	case gate.TypeRole:
		if _, err = p.iam.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String(id), PolicyDocument: aws.String(in.str("assumeRolePolicy"))}); err != nil {
			break
		}
		if _, err = p.iam.UpdateRole(ctx, &iam.UpdateRoleInput{RoleName: aws.String(id), Description: aws.String(in.str("description")),
			MaxSessionDuration: aws.Int32(int32(in.num("maxSessionDuration")))}); err != nil {
			break
		}
		var r *iam.GetRoleOutput
		if r, err = p.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(id)}); err == nil {
			_, err = p.iam.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String(id), Tags: iamTags(in.obj("tags"))})
			out = map[string]any{"arn": aws.ToString(r.Role.Arn), "uniqueId": aws.ToString(r.Role.RoleId)}
		}
	case gate.TypeOIDCProvider, gate.TypeSubscription:
		out = map[string]any{"arn": id}
	case gate.TypeBucket:
		if t := in.obj("tags"); len(t) > 0 {
			_, err = p.s3.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: aws.String(id), Tagging: &s3types.Tagging{TagSet: s3Tags(t)}})
		}
		out = map[string]any{"arn": "arn:aws:s3:::" + id, "bucket": id}
	default:
		// Settings whose create is a put (policies, alarms, dashboards,
		// bucket configuration): applying the declared inputs updates the
		// existing one in place; the adopted owner removes it later.
		return p.create(ctx, typ, name, raw, false)
	}
	if err != nil {
		return "", nil, fmt.Errorf("applying the program's settings to the adopted %s %s in the emulator: %w", typ, id, err)
	}
	return id, out, nil
}
