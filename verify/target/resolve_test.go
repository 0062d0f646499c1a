package target_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/sethvargo/go-envconfig"

	"github.com/mirror-dissonance/mirror-infra/awsclient"
	"github.com/mirror-dissonance/mirror-infra/emulator"
	"github.com/mirror-dissonance/mirror-infra/spec"
	"github.com/mirror-dissonance/mirror-infra/verify"
	"github.com/mirror-dissonance/mirror-infra/verify/target"
)

// Each refused variable is a usage error naming the variable, and the
// command's sequence (Resolve, then the checks) sends no request at all.
func TestResolveRefusesForeignNamesBeforeAnyCall(t *testing.T) {
	e := emulator.Start()
	t.Cleanup(e.Close)
	cfg, err := e.Config(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	cfg = awsclient.Bound(cfg, awsclient.Options{})
	run := func(vars map[string]string) error {
		tgt, err := target.Resolve(context.Background(), target.Source{Stack: "staging", Environment: "staging",
			Region: spec.DefaultRegion, FromEnv: true, Lookuper: envconfig.MapLookuper(vars)})
		if err != nil {
			return err
		}
		_, err = verify.Run(context.Background(), verify.NewClients(cfg), tgt, verify.Options{Checks: []string{"tables", "alarms", "sns", "baselines"}})
		return err
	}
	for _, tc := range target.ForeignValues() {
		t.Run(tc.Variable+"="+tc.Value, func(t *testing.T) {
			e.ResetCounts()
			err := run(map[string]string{tc.Variable: tc.Value})
			if !errors.Is(err, target.ErrInvalid) || !strings.Contains(err.Error(), tc.Variable) || !strings.Contains(err.Error(), tc.Want) {
				t.Fatalf("error %v, want ErrInvalid naming %s and %q", err, tc.Variable, tc.Want)
			}
			if n := e.Counts().Total; n != 0 {
				t.Errorf("%d requests sent before the refusal", n)
			}
		})
	}
	// The control: staging's own names pass and the checks do call.
	e.ResetCounts()
	if err := run(nil); err != nil {
		t.Fatalf("staging's own names: %v", err)
	}
	if e.Counts().Total == 0 {
		t.Error("the counter saw no request of an accepted target: the zero above proves nothing")
	}
}

// Outputs are checked like variables: an injected output naming
// production is refused, an outputs read failure is ErrOutputs, and a
// writing command needs AllowProduction on production.
func TestResolveOutputs(t *testing.T) {
	outs := func(env string) map[string]any {
		n := spec.For(env)
		a := spec.Account{ID: "210987654321", Region: spec.DefaultRegion}
		return map[string]any{
			spec.OutEnvironment: env, spec.OutRegion: spec.DefaultRegion,
			spec.OutFPEventsTableName: n.Table(spec.TableFPEvents), spec.OutConsentTableName: n.Table(spec.TableConsent),
			spec.OutBlockCounterTableName: n.Table(spec.TableBlockCounter),
			spec.OutKMSKeyArn:             a.KeyArn("0b6f2c1e-1111-2222-3333-444455556666"), spec.OutKMSAlias: n.KeyAlias(),
			spec.OutOpsTopicArn: a.TopicArn(n.Topic()), spec.OutNoncePrefix: n.NoncePrefix(),
			spec.OutAlarmNames: []any{n.Alarms()[0]}, spec.OutBaselinesBucket: n.BaselinesBucket(),
			spec.OutDeployRoleArn: a.RoleArn(n.DeployRole()),
		}
	}
	src := func(env string, out map[string]any, mutate func(*target.Source)) target.Source {
		s := target.Source{Stack: env, Environment: env, Region: spec.DefaultRegion, Lookuper: envconfig.MapLookuper(nil),
			Outputs: func(context.Context) (map[string]any, error) { return out, nil }}
		if mutate != nil {
			mutate(&s)
		}
		return s
	}
	injected := outs("staging")
	injected[spec.OutOpsTopicArn] = outs("production")[spec.OutOpsTopicArn]
	otherRegion := outs("staging")
	otherRegion[spec.OutRegion] = "eu-west-1"
	for _, tc := range []struct {
		name string
		src  target.Source
		want error
	}{
		{"staging", src("staging", outs("staging"), nil), nil},
		{"production read-only", src("production", outs("production"), nil), nil},
		{"production, a writing command", src("production", outs("production"), func(s *target.Source) { s.Writes = true }), target.ErrInvalid},
		{"production, --allow-production", src("production", outs("production"), func(s *target.Source) { s.Writes, s.AllowProduction = true, true }), nil},
		{"an injected production topic", src("staging", injected, nil), target.ErrInvalid},
		{"outputs of another environment", src("staging", outs("production"), nil), target.ErrInvalid},
		{"outputs in another region", src("staging", otherRegion, nil), target.ErrInvalid},
		{"the outputs cannot be read", src("staging", nil, func(s *target.Source) {
			s.Outputs = func(context.Context) (map[string]any, error) { return nil, errors.New("backend down") }
		}), target.ErrOutputs},
		{"MD_AWS_REGION against the stack", src("staging", outs("staging"), func(s *target.Source) {
			s.Lookuper = envconfig.MapLookuper(map[string]string{"MD_AWS_REGION": "eu-west-1"})
		}), target.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tgt, err := target.Resolve(context.Background(), tc.src)
			switch {
			case tc.want == nil && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != nil && !errors.Is(err, tc.want):
				t.Fatalf("error %v, want %v", err, tc.want)
			case tc.want == nil && tgt.Region != spec.DefaultRegion:
				t.Errorf("region %q", tgt.Region)
			}
		})
	}
}
