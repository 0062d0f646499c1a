package verify_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/sethvargo/go-envconfig"

	"github.com/mirror-dissonance/mirror-infra/emulator"
	"github.com/mirror-dissonance/mirror-infra/report"
	"github.com/mirror-dissonance/mirror-infra/verify"
	"github.com/mirror-dissonance/mirror-infra/verify/target"
)

// fakeT has exactly terratest's testing.TestingT method set and no more:
// if any Assert or Require function needed more (Helper, Cleanup, ...),
// this file would not compile.
type fakeT struct {
	failed bool
	msgs   []string
}

func (f *fakeT) Fail()             { f.failed = true }
func (f *fakeT) FailNow()          { f.failed = true }
func (f *fakeT) Fatal(args ...any) { f.failed = true; f.msgs = append(f.msgs, fmt.Sprint(args...)) }
func (f *fakeT) Fatalf(format string, a ...any) {
	f.failed = true
	f.msgs = append(f.msgs, fmt.Sprintf(format, a...))
}
func (f *fakeT) Error(args ...any) { f.failed = true; f.msgs = append(f.msgs, fmt.Sprint(args...)) }
func (f *fakeT) Errorf(format string, a ...any) {
	f.failed = true
	f.msgs = append(f.msgs, fmt.Sprintf(format, a...))
}
func (f *fakeT) Name() string { return "fake" }

var _ verify.TestingT = (*fakeT)(nil)
var _ verify.TestingT = (*testing.T)(nil)

// TestEveryAssertAndRequireTakesTestingT calls every Assert and Require
// function with the minimal fake against a correct environment: each
// compiles with it and none fails it, except AssertAlert without a
// verification queue, which must.
func TestEveryAssertAndRequireTakesTestingT(t *testing.T) {
	env := emulator.NewTestEnv(t, emulator.SeedOptions{VerifyQueue: true})
	ctx := context.Background()
	c, tgt := verify.NewClients(env.Config), env.Target()
	funcs := map[string]func(verify.TestingT){
		"AssertTables":    func(ft verify.TestingT) { verify.AssertCheck(ft, ctx, c, tgt, verify.IDTables) },
		"AssertSSE":       func(ft verify.TestingT) { verify.AssertCheck(ft, ctx, c, tgt, verify.IDSSE) },
		"AssertTTL":       func(ft verify.TestingT) { verify.AssertCheck(ft, ctx, c, tgt, verify.IDTTL) },
		"AssertPITR":      func(ft verify.TestingT) { verify.AssertCheck(ft, ctx, c, tgt, verify.IDPITR) },
		"AssertKMS":       func(ft verify.TestingT) { verify.AssertCheck(ft, ctx, c, tgt, verify.IDKMS) },
		"AssertAlarms":    func(ft verify.TestingT) { verify.AssertCheck(ft, ctx, c, tgt, verify.IDAlarms) },
		"AssertSNS":       func(ft verify.TestingT) { verify.AssertCheck(ft, ctx, c, tgt, verify.IDSNS) },
		"AssertAlert":     func(ft verify.TestingT) { verify.AssertCheck(ft, ctx, c, tgt, verify.IDAlert) },
		"AssertOIDC":      func(ft verify.TestingT) { verify.AssertCheck(ft, ctx, c, tgt, verify.IDOIDC) },
		"AssertNonce":     func(ft verify.TestingT) { verify.AssertCheck(ft, ctx, c, tgt, verify.IDNonce) },
		"AssertBaselines": func(ft verify.TestingT) { verify.AssertCheck(ft, ctx, c, tgt, verify.IDBaselines) },
		"AssertCheck":     func(ft verify.TestingT) { verify.AssertCheck(ft, ctx, c, tgt, verify.IDKMS) },
		"RequireAllPass": func(ft verify.TestingT) {
			verify.RequireAllPass(ft, ctx, c, tgt, verify.Options{Timeout: 30 * time.Second})
		},
		"RequireNoFailure": func(ft verify.TestingT) {
			verify.RequireNoFailure(ft, ctx, c, tgt, verify.Options{Timeout: 30 * time.Second})
		},
		"AssertTablesE":    func(ft verify.TestingT) { fail(ft, verify.AssertCheckE(ft, ctx, c, tgt, verify.IDTables)) },
		"AssertSSEE":       func(ft verify.TestingT) { fail(ft, verify.AssertCheckE(ft, ctx, c, tgt, verify.IDSSE)) },
		"AssertTTLE":       func(ft verify.TestingT) { fail(ft, verify.AssertCheckE(ft, ctx, c, tgt, verify.IDTTL)) },
		"AssertPITRE":      func(ft verify.TestingT) { fail(ft, verify.AssertCheckE(ft, ctx, c, tgt, verify.IDPITR)) },
		"AssertKMSE":       func(ft verify.TestingT) { fail(ft, verify.AssertCheckE(ft, ctx, c, tgt, verify.IDKMS)) },
		"AssertAlarmsE":    func(ft verify.TestingT) { fail(ft, verify.AssertCheckE(ft, ctx, c, tgt, verify.IDAlarms)) },
		"AssertSNSE":       func(ft verify.TestingT) { fail(ft, verify.AssertCheckE(ft, ctx, c, tgt, verify.IDSNS)) },
		"AssertOIDCE":      func(ft verify.TestingT) { fail(ft, verify.AssertCheckE(ft, ctx, c, tgt, verify.IDOIDC)) },
		"AssertNonceE":     func(ft verify.TestingT) { fail(ft, verify.AssertCheckE(ft, ctx, c, tgt, verify.IDNonce)) },
		"AssertBaselinesE": func(ft verify.TestingT) { fail(ft, verify.AssertCheckE(ft, ctx, c, tgt, verify.IDBaselines)) },
		"AssertCheckE":     func(ft verify.TestingT) { fail(ft, verify.AssertCheckE(ft, ctx, c, tgt, verify.IDTTL)) },
		"RequireAllPassE": func(ft verify.TestingT) {
			_, err := verify.RequireAllPassE(ft, ctx, c, tgt, verify.Options{})
			fail(ft, err)
		},
		"RequireNoFailureE": func(ft verify.TestingT) {
			_, err := verify.RequireNoFailureE(ft, ctx, c, tgt, verify.Options{})
			fail(ft, err)
		},
	}
	for name, fn := range funcs {
		t.Run(name, func(t *testing.T) {
			ft := &fakeT{}
			fn(ft)
			if ft.failed {
				t.Errorf("%s failed the fake: %v", name, ft.msgs)
			}
		})
	}
	// Data is SKIP on the seeded, empty tables: not a pass.
	ft := &fakeT{}
	verify.AssertCheck(ft, ctx, c, tgt, verify.IDData)
	if !ft.failed || verify.AssertCheckE(ft, ctx, c, tgt, verify.IDData) == nil {
		t.Errorf("AssertData on empty tables did not fail the fake")
	}
}

func fail(t verify.TestingT, err error) {
	if err != nil {
		t.Error(err)
	}
}

// TestDefaultChecksOnlyRead: Options without Checks run the read-only
// catalogue; alert runs only when named, and the alarm-firing and
// publishing calls happen only then.
func TestDefaultChecksOnlyRead(t *testing.T) {
	env := emulator.NewTestEnv(t, emulator.SeedOptions{VerifyQueue: true})
	ctx := context.Background()
	for _, tc := range []struct {
		name      string
		checks    []string
		wantAlert bool
	}{
		{"default", nil, false},
		{"named", verify.IDs(), true},
		{"alert alone", []string{verify.IDAlert}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := env.Emulator.Counts().ByOperation["sns.Publish"]
			r, err := verify.Run(ctx, verify.NewClients(env.Config), env.Target(), verify.Options{Checks: tc.checks, Timeout: 30 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			_, ran := r.Find(verify.IDAlert)
			published := env.Emulator.Counts().ByOperation["sns.Publish"] - before
			if ran != tc.wantAlert || (published > 0) != tc.wantAlert {
				t.Errorf("alert ran %v, %d publish call(s); want ran %v", ran, published, tc.wantAlert)
			}
			if tc.checks == nil && !slices.Equal(checkIDs(r), verify.DefaultIDs()) {
				t.Errorf("default checks %v, want %v", checkIDs(r), verify.DefaultIDs())
			}
		})
	}
	if slices.Contains(verify.DefaultIDs(), verify.IDAlert) {
		t.Errorf("DefaultIDs includes alert")
	}
}

func checkIDs(r *report.Report) []string {
	var ids []string
	for _, c := range r.Checks {
		ids = append(ids, c.ID)
	}
	return ids
}

// recordingSNS answers like a correct topic and records the ARNs asked.
type recordingSNS struct{ asked []string }

func (r *recordingSNS) GetTopicAttributes(_ context.Context, in *sns.GetTopicAttributesInput, _ ...func(*sns.Options)) (*sns.GetTopicAttributesOutput, error) {
	r.asked = append(r.asked, aws.ToString(in.TopicArn))
	return nil, errors.New("recorded")
}

func (r *recordingSNS) ListSubscriptionsByTopic(_ context.Context, in *sns.ListSubscriptionsByTopicInput, _ ...func(*sns.Options)) (*sns.ListSubscriptionsByTopicOutput, error) {
	r.asked = append(r.asked, aws.ToString(in.TopicArn))
	return nil, errors.New("recorded")
}

func (r *recordingSNS) Publish(context.Context, *sns.PublishInput, ...func(*sns.Options)) (*sns.PublishOutput, error) {
	return nil, errors.New("not expected")
}

type accountSTS struct{}

func (accountSTS) GetCallerIdentity(context.Context, *sts.GetCallerIdentityInput, ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error) {
	return &sts.GetCallerIdentityOutput{Account: aws.String("111122223333")}, nil
}

// TestRegionFromTheConfig: a target without a region takes the aws.Config's
// (the ARNs it builds are in it); a target region that contradicts the
// config is an error that says so.
func TestRegionFromTheConfig(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name, targetRegion, configRegion string
		wantArn, wantErr                 string
	}{
		{"config region", "", "eu-west-1", "arn:aws:sns:eu-west-1:111122223333:mirror-dissonance-staging-ops-alerts", ""},
		{"agreeing target", "eu-west-1", "eu-west-1", "arn:aws:sns:eu-west-1:111122223333:mirror-dissonance-staging-ops-alerts", ""},
		{"target without config", "ap-south-1", "", "arn:aws:sns:ap-south-1:111122223333:mirror-dissonance-staging-ops-alerts", ""},
		{"neither", "", "", "arn:aws:sns:us-east-1:111122223333:mirror-dissonance-staging-ops-alerts", ""},
		{"contradiction", "us-east-1", "eu-west-1", "", "the target's region us-east-1 contradicts the AWS config's region eu-west-1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tgt, err := target.FromEnv(ctx, "staging", envconfig.MapLookuper(nil))
			if err != nil {
				t.Fatal(err)
			}
			tgt.Region = tc.targetRegion
			rec := &recordingSNS{}
			c := verify.NewClients(aws.Config{Region: tc.configRegion})
			c.SNS, c.STS = rec, accountSTS{}
			_, err = verify.Run(ctx, c, tgt, verify.Options{Checks: []string{verify.IDSNS}, Timeout: 5 * time.Second})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one saying %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(rec.asked) == 0 || rec.asked[0] != tc.wantArn {
				t.Errorf("asked about %v, want %s", rec.asked, tc.wantArn)
			}
		})
	}
}

// TestFixTextsStayInsideTheModule: no result of a broken environment cites
// the specification's sections or files the module does not ship.
func TestFixTextsStayInsideTheModule(t *testing.T) {
	ctx := context.Background()
	for _, d := range []emulator.Defect{emulator.DefectTableMissing, emulator.DefectTopicUnencrypted, emulator.DefectOIDCWildcard,
		emulator.DefectNonceMissing, emulator.DefectBaselinesMissing, emulator.DefectKeyPolicyNoCloudWatch, emulator.DefectTTLOff} {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			env := emulator.NewTestEnv(t, emulator.SeedOptions{Defects: []emulator.Defect{d}})
			r, err := verify.Run(ctx, verify.NewClients(env.Config), env.Target(), verify.Options{Timeout: 30 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			if r.ExitCode() == 0 {
				t.Fatalf("defect %s not found", d)
			}
			for _, c := range r.Checks {
				for _, bad := range []string{"SPEC", "../shared", "reference/"} {
					if strings.Contains(c.Reason+c.Fix, bad) {
						t.Errorf("%s cites %q: %s / %s", c.ID, bad, c.Reason, c.Fix)
					}
				}
			}
		})
	}
}
