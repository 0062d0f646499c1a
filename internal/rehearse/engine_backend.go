package rehearse

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/mirror-dissonance/mirror-infra/emulator"
	"github.com/mirror-dissonance/mirror-infra/internal/driver"
	"github.com/mirror-dissonance/mirror-infra/internal/sweep"
	"github.com/mirror-dissonance/mirror-infra/report"
)

// ScenarioBackend: the deploy cycle for two stacks at once on the emulated
// S3 backend with awskms:// secrets.
const ScenarioBackend = "backend"

var backendStacks = []string{"acc-bk1", "acc-bk2"}

func (r *engineRun) backend(ctx context.Context) report.Check {
	var rb [4]byte
	_, _ = rand.Read(rb[:])
	// The emulator's buckets are per process: a unique name.
	sb, err := r.emu.NewStateBackend(ctx, "md-engine-state-"+hex.EncodeToString(rb[:]), "teams/infra")
	if err != nil {
		return fail("creating the emulated S3 backend: "+err.Error(), "")
	}
	subs := make([]*sub, len(backendStacks))
	results := make([]string, len(backendStacks))
	var wg sync.WaitGroup
	for i, stack := range backendStacks {
		subs[i] = r.sub(ScenarioBackend)
		subs[i].prefix += stack + ":"
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = r.backendCycle(ctx, stack, &sb, subs[i])
		}()
	}
	wg.Wait()
	for _, s := range subs {
		r.keep(s)
	}
	var problems []string
	for i, res := range results {
		if res != "" {
			problems = append(problems, backendStacks[i]+": "+res)
		}
	}
	if len(problems) > 0 {
		return fail(strings.Join(problems, "; "), "")
	}
	// The state is in the bucket, and its secrets key is the KMS one.
	out, err := s3.NewFromConfig(r.awsCfg, func(o *s3.Options) { o.UsePathStyle = true }).ListObjectsV2(ctx,
		&s3.ListObjectsV2Input{Bucket: aws.String(sb.Bucket), Prefix: aws.String(sb.Prefix + "/")})
	if err != nil {
		return fail("listing the state bucket: "+err.Error(), "")
	}
	var missing []string
	for _, stack := range backendStacks {
		found := false
		for _, o := range out.Contents {
			k := aws.ToString(o.Key)
			if strings.Contains(k, "/stacks/") && strings.Contains(k, stack+".json") {
				found = true
			}
		}
		if !found {
			missing = append(missing, stack)
		}
		settings, err := os.ReadFile(filepath.Join(r.dir, ".pulumi-state", "work", stack, "Pulumi."+stack+".yaml"))
		if err != nil || !strings.Contains(string(settings), "secretsprovider: awskms://") {
			missing = append(missing, stack+"'s awskms:// secrets provider")
		}
	}
	if len(missing) > 0 {
		return fail("not on the S3 backend with awskms:// secrets: "+strings.Join(missing, ", "), "")
	}
	return report.Check{Status: report.Pass, Reason: fmt.Sprintf("%s, at once on s3://%s/%s with awskms:// secrets: each previewed with a saved plan, passed the gate, was approved by fingerprint and applied with its plan; a second preview had no change; each destroyed completely and leftovers found nothing",
		strings.Join(backendStacks, " and "), sb.Bucket, sb.Prefix)}
}

// backendCycle deploys stack on sb, previews again, destroys it and looks
// for leftovers; "" when all of it held.
func (r *engineRun) backendCycle(ctx context.Context, stack string, sb *emulator.StateBackend, s *sub) string {
	cfg, err := r.addStack(stack, "acc-example")
	if err != nil {
		return err.Error()
	}
	d, err := r.openOn(ctx, stack, sb)
	if err != nil {
		return "opening: " + err.Error()
	}
	if _, _, ok := r.cycle(ctx, d, cfg, s); !ok {
		return "the cycle stopped: " + strings.Join(s.failed(), "; ")
	}
	again, err := d.Preview(ctx)
	if err != nil {
		s.rep.Add(driver.ErrorCheck("preview", err))
		return "the second preview: " + err.Error()
	}
	if again.HasChanges() {
		return fmt.Sprintf("the second preview plans %d changes", len(again.Changes))
	}
	dp, err := d.PlanDestroy(ctx)
	if err != nil {
		return "planning the destroy: " + err.Error()
	}
	if err := d.Destroy(ctx, nil, dp.Fingerprint); err != nil {
		s.rep.Add(driver.ErrorCheck("destroy", err))
		return "destroy: " + err.Error()
	}
	left, err := sweep.Find(ctx, sweep.NewClients(r.awsCfg), stack)
	if err != nil {
		return "leftovers: " + err.Error()
	}
	if len(left) > 0 {
		return fmt.Sprintf("leftovers after the destroy: %v", left)
	}
	return ""
}
