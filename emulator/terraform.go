package emulator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/mirror-dissonance/mirror-infra/spec"
)

// TerraformDefect is a deviation of a Terraform-made environment that an
// adoption must handle (rehearse --from terraform --break).
type TerraformDefect string

const (
	// TFKeySchema: the consent table is keyed pk/sk (the shape the
	// original Oracle wrote), not orgId: adopt must stop before importing.
	TFKeySchema TerraformDefect = "tf-key-schema"
	// TFMissing: the block-counter table was deleted by hand: adopt
	// imports the rest and the deploy creates it.
	TFMissing TerraformDefect = "tf-missing"
	// TFForeign: the ops topic's name is taken by another project's topic
	// (and the original's topic is gone): adopt must stop.
	TFForeign TerraformDefect = "tf-foreign"
)

// TerraformDefects lists the defects with what each one means.
var TerraformDefects = map[TerraformDefect]string{
	TFKeySchema: "the consent table is keyed pk/sk instead of orgId (the original Oracle's shape)",
	TFMissing:   "the block-counter table was deleted by hand",
	TFForeign:   "the ops topic's name is taken by another project's topic",
}

// TerraformOptions configure SeedTerraform.
type TerraformOptions struct {
	// Env is the environment (the Terraform workspace), e.g. staging.
	Env string
	// GitHubOrg and GitHubRepo as in the original's tfvars.
	GitHubOrg, GitHubRepo string
	Defects               []TerraformDefect
	// WriterZone is the time zone the original Oracle ran in when it
	// counted blocks (it keys hours by the local hour); nil is UTC+5:30.
	WriterZone *time.Location
}

// TerraformSeeded is an environment as the original modules made it.
type TerraformSeeded struct {
	Env    string
	KeyID  string
	KeyArn string
	// Items are the keys of the items written into each table (by table
	// name), to prove later that they survived.
	Items map[string][]map[string]ddbtypes.AttributeValue
	// Tables are the tables created, in order.
	Tables []string

	cfg  aws.Config
	undo []func(context.Context) error
}

// SeedTerraform makes, through cfg, the environment the original Terraform
// modules (reference/terraform) declare for o.Env, with their names,
// settings and known defects: the key policy without CloudWatch, alarms
// without missing-data treatment or OK actions, a deploy role trusting
// pull_request and develop, tables without deletion protection, the topic
// encrypted by key id; plus what this program leaves alone (the governance
// cache table, the logs and SNS keys, the infrastructure dashboard, the
// Terraform role, the nonce), and items in every table in the original
// TypeScript Oracle's shapes (see tsItems). Audit trail,
// backup plan and Lambda are not made: the emulator has no such services.
func SeedTerraform(ctx context.Context, cfg aws.Config, o TerraformOptions) (*TerraformSeeded, error) {
	if o.Env == "" {
		return nil, errors.New("seeding a Terraform-made environment: Env is empty")
	}
	if o.GitHubOrg == "" {
		o.GitHubOrg, o.GitHubRepo = "MultiplicityFoundation", "Phase-Mirror"
	}
	for _, d := range o.Defects {
		if _, ok := TerraformDefects[d]; !ok {
			return nil, fmt.Errorf("seeding a Terraform-made environment: no defect %q", d)
		}
	}
	t := &tfSeeder{o: o, cfg: cfg, s: &TerraformSeeded{Env: o.Env, cfg: cfg, Items: map[string][]map[string]ddbtypes.AttributeValue{}},
		ddb: dynamodb.NewFromConfig(cfg), kms: kms.NewFromConfig(cfg), sns: sns.NewFromConfig(cfg), cw: cloudwatch.NewFromConfig(cfg),
		iam: iam.NewFromConfig(cfg), ssm: ssm.NewFromConfig(cfg),
		s3: NewS3Client(cfg)}
	if what, err := runSteps(ctx, []seedStep{
		{"module.kms", t.keys},
		{"module.dynamodb", t.tables},
		{"module.ssm", t.nonce},
		{"module.cloudwatch", t.monitoring},
		{"the baselines bucket", t.bucket},
		{"the OIDC provider and module.iam", t.iamRoles},
		{"the items", t.items},
	}); err != nil {
		_ = t.s.Teardown(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("seeding %s of the Terraform-made %s: %w", what, o.Env, err)
	}
	return t.s, nil
}

// Has reports whether d was seeded.
func (o TerraformOptions) Has(d TerraformDefect) bool {
	for _, x := range o.Defects {
		if x == d {
			return true
		}
	}
	return false
}

// Teardown deletes what SeedTerraform made (and whatever was adopted from
// it), newest first; resources already gone are fine.
func (s *TerraformSeeded) Teardown(ctx context.Context) error {
	var errs []error
	for i := len(s.undo) - 1; i >= 0; i-- {
		if err := s.undo[i](ctx); err != nil && !gone(err) {
			errs = append(errs, err)
		}
	}
	s.undo = nil
	return errors.Join(errs...)
}

func gone(err error) bool {
	m := err.Error()
	return strings.Contains(m, "NotFound") || strings.Contains(m, "NoSuch") || strings.Contains(m, "does not exist") || strings.Contains(m, "404")
}

type tfSeeder struct {
	o   TerraformOptions
	cfg aws.Config
	s   *TerraformSeeded
	ddb *dynamodb.Client
	kms *kms.Client
	sns *sns.Client
	cw  *cloudwatch.Client
	iam *iam.Client
	ssm *ssm.Client
	s3  *s3.Client
}

func (t *tfSeeder) names() spec.Names { return spec.For(t.o.Env) }

// tags are the provider's default_tags merged with a resource's own.
func (t *tfSeeder) tags(extra ...string) map[string]string {
	m := map[string]string{"Project": "MirrorDissonance", "ManagedBy": "Terraform", "Environment": t.o.Env, "Workspace": t.o.Env}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i]] = extra[i+1]
	}
	return m
}

func (t *tfSeeder) onUndo(f func(context.Context) error) { t.s.undo = append(t.s.undo, f) }

func policyJSON(stmts ...map[string]any) string {
	b, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": stmts})
	return string(b)
}
