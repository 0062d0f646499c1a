package server_test

import (
	"context"
	"net/url"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/mirror-dissonance/mirror-infra/emulator"
)

// TestInPlaceFixesAfterAdoption: the calls the converging deploy after an
// adoption makes to bring Terraform's settings to the program's. kumo
// lacks UpdateKeyDescription and UntagRole and answers SNS TagResource in
// a shape the SDK refuses (engine:adopt stopped at each in turn), and it
// drops a role's permissions boundary (engine:endpoint warned that a
// refresh could not see one removed).
func TestInPlaceFixesAfterAdoption(t *testing.T) {
	ctx := context.Background()
	e := emulator.Start()
	t.Cleanup(e.Close)
	cfg, err := e.Config(ctx)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("kms UpdateKeyDescription", func(t *testing.T) {
		km := kms.NewFromConfig(cfg)
		k, err := km.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("terraform")})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := km.UpdateKeyDescription(ctx, &kms.UpdateKeyDescriptionInput{KeyId: k.KeyMetadata.KeyId, Description: aws.String("mirror-dissonance staging")}); err != nil {
			t.Fatal(err)
		}
		d, err := km.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: k.KeyMetadata.Arn})
		if err != nil {
			t.Fatal(err)
		}
		if got := aws.ToString(d.KeyMetadata.Description); got != "mirror-dissonance staging" {
			t.Errorf("description %q after the update", got)
		}
		if _, err := km.UpdateKeyDescription(ctx, &kms.UpdateKeyDescriptionInput{KeyId: aws.String("no-such-key"), Description: aws.String("x")}); err == nil {
			t.Error("updating a key that does not exist succeeded")
		}
	})

	t.Run("iam UntagRole", func(t *testing.T) {
		im := iam.NewFromConfig(cfg)
		role := "converge-untag"
		if _, err := im.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(role), AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[]}`),
			Tags: []iamtypes.Tag{{Key: aws.String("ManagedBy"), Value: aws.String("terraform")}, {Key: aws.String("Owner"), Value: aws.String("a&b")}}}); err != nil {
			t.Fatal(err)
		}
		keys := func() []string {
			t.Helper()
			var out []string
			g, err := im.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(role)})
			if err != nil {
				t.Fatal(err)
			}
			for _, tg := range g.Role.Tags {
				out = append(out, aws.ToString(tg.Key))
			}
			slices.Sort(out)
			return out
		}
		if _, err := im.UntagRole(ctx, &iam.UntagRoleInput{RoleName: aws.String(role), TagKeys: []string{"ManagedBy"}}); err != nil {
			t.Fatal(err)
		}
		if got := keys(); !slices.Equal(got, []string{"Owner"}) {
			t.Errorf("tags %v after untagging ManagedBy, want [Owner]", got)
		}
		l, err := im.ListRoles(ctx, &iam.ListRolesInput{})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range l.Roles {
			if aws.ToString(r.RoleName) == role && len(r.Tags) > 1 {
				t.Errorf("ListRoles still shows %d tags", len(r.Tags))
			}
		}
		if _, err := im.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String(role), Tags: []iamtypes.Tag{{Key: aws.String("ManagedBy"), Value: aws.String("pulumi")}}}); err != nil {
			t.Fatal(err)
		}
		if got := keys(); !slices.Equal(got, []string{"ManagedBy", "Owner"}) {
			t.Errorf("tags %v after tagging ManagedBy again", got)
		}
		if _, err := im.UntagRole(ctx, &iam.UntagRoleInput{RoleName: aws.String("no-such-role"), TagKeys: []string{"x"}}); err == nil {
			t.Error("untagging a role that does not exist succeeded")
		}
	})

	t.Run("iam role permissions boundary", func(t *testing.T) {
		im := iam.NewFromConfig(cfg)
		role := "converge-bounded"
		first := "arn:aws:iam::" + emulator.AccountID + ":policy/first-boundary"
		boundary := func() string {
			t.Helper()
			g, err := im.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(role)})
			if err != nil {
				t.Fatal(err)
			}
			if g.Role.PermissionsBoundary == nil {
				return ""
			}
			return aws.ToString(g.Role.PermissionsBoundary.PermissionsBoundaryArn)
		}
		if _, err := im.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(role), AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[]}`),
			PermissionsBoundary: aws.String(first)}); err != nil {
			t.Fatal(err)
		}
		if got := boundary(); got != first {
			t.Errorf("boundary %q after CreateRole, want %q", got, first)
		}
		if _, err := im.DeleteRolePermissionsBoundary(ctx, &iam.DeleteRolePermissionsBoundaryInput{RoleName: aws.String(role)}); err != nil {
			t.Fatal(err)
		}
		if got := boundary(); got != "" {
			t.Errorf("boundary %q after deleting it (a refresh must see it gone)", got)
		}
		second := "arn:aws:iam::" + emulator.AccountID + ":policy/second-boundary"
		if _, err := im.PutRolePermissionsBoundary(ctx, &iam.PutRolePermissionsBoundaryInput{RoleName: aws.String(role), PermissionsBoundary: aws.String(second)}); err != nil {
			t.Fatal(err)
		}
		if got := boundary(); got != second {
			t.Errorf("boundary %q after putting %q", got, second)
		}
		if _, err := im.PutRolePermissionsBoundary(ctx, &iam.PutRolePermissionsBoundaryInput{RoleName: aws.String("no-such-role"), PermissionsBoundary: aws.String(second)}); err == nil {
			t.Error("a boundary on a role that does not exist was accepted")
		}
	})

	t.Run("iam policy versions", func(t *testing.T) {
		im := iam.NewFromConfig(cfg)
		doc := func(action string) string {
			return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"` + action + `","Resource":"arn:aws:sqs:us-east-1:` + emulator.AccountID + `:q"}]}`
		}
		p, err := im.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("converge-boundary"), PolicyDocument: aws.String(doc("sqs:SendMessage"))})
		if err != nil {
			t.Fatal(err)
		}
		arn := p.Policy.Arn
		current := func() (string, string) {
			t.Helper()
			g, err := im.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: arn})
			if err != nil {
				t.Fatal(err)
			}
			v, err := im.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: arn, VersionId: g.Policy.DefaultVersionId})
			if err != nil {
				t.Fatal(err)
			}
			d, err := url.QueryUnescape(aws.ToString(v.PolicyVersion.Document))
			if err != nil {
				t.Fatal(err)
			}
			return aws.ToString(g.Policy.DefaultVersionId), d
		}
		if id, d := current(); id != "v1" || d != doc("sqs:SendMessage") {
			t.Errorf("default %s %s, want v1 with the created document", id, d)
		}
		if _, err := im.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: arn, PolicyDocument: aws.String(doc("*")), SetAsDefault: true}); err != nil {
			t.Fatal(err)
		}
		if id, d := current(); id != "v2" || d != doc("*") {
			t.Errorf("default %s %s, want v2 with the widened document", id, d)
		}
		if _, err := im.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: arn, VersionId: aws.String("v2")}); err == nil {
			t.Error("deleting the default version succeeded")
		}
		if _, err := im.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: arn, VersionId: aws.String("v1")}); err != nil {
			t.Fatal(err)
		}
		l, err := im.ListPolicyVersions(ctx, &iam.ListPolicyVersionsInput{PolicyArn: arn})
		if err != nil {
			t.Fatal(err)
		}
		if len(l.Versions) != 1 || aws.ToString(l.Versions[0].VersionId) != "v2" || !l.Versions[0].IsDefaultVersion {
			t.Errorf("versions %+v, want only v2, the default", l.Versions)
		}
		for range 4 {
			if _, err := im.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: arn, PolicyDocument: aws.String(doc("sqs:GetQueueUrl"))}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := im.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: arn, PolicyDocument: aws.String(doc("sqs:GetQueueUrl"))}); err == nil {
			t.Error("a sixth version was accepted")
		}
	})

	t.Run("sns TagResource and UntagResource", func(t *testing.T) {
		sn := sns.NewFromConfig(cfg)
		tp, err := sn.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("converge-topic")})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sn.TagResource(ctx, &sns.TagResourceInput{ResourceArn: tp.TopicArn, Tags: []snstypes.Tag{{Key: aws.String("Environment"), Value: aws.String("staging")}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := sn.UntagResource(ctx, &sns.UntagResourceInput{ResourceArn: tp.TopicArn, TagKeys: []string{"Environment"}}); err != nil {
			t.Fatal(err)
		}
		l, err := sn.ListTagsForResource(ctx, &sns.ListTagsForResourceInput{ResourceArn: tp.TopicArn})
		if err != nil {
			t.Fatal(err)
		}
		if len(l.Tags) != 0 {
			t.Errorf("tags %v after untagging", l.Tags)
		}
	})
}
