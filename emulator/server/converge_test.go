package server_test

import (
	"context"
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
// a shape the SDK refuses; engine:adopt stopped at each in turn.
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
