package postdeploy

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/mirror-dissonance/mirror-infra/emulator"
	"github.com/mirror-dissonance/mirror-infra/spec"
)

// putRecorder keeps the body of every ssm PutParameter request a config
// sends (kumo stores no parameter tags, so the request is what shows them).
type putRecorder struct {
	inner aws.HTTPClient
	mu    sync.Mutex
	puts  [][]byte
}

func (p *putRecorder) Do(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".PutParameter") && r.Body != nil {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
		p.mu.Lock()
		p.puts = append(p.puts, b)
		p.mu.Unlock()
	}
	return p.inner.Do(r)
}

// TestBootstrappedNonceIsTagged: the nonce v1 the post-up stage creates
// carries the environment's tags, as every version the nonce command
// creates does (the KMS conditions and the sweep rely on them).
func TestBootstrappedNonceIsTagged(t *testing.T) {
	env := emulator.NewTestEnv(t, emulator.SeedOptions{SkipNonce: true})
	cfg := env.Config
	rec := &putRecorder{inner: cfg.HTTPClient}
	if rec.inner == nil {
		rec.inner = http.DefaultClient
	}
	cfg.HTTPClient = rec
	Run(context.Background(), cfg, env.Target(), Options{SkipRotation: true, SkipE2E: true})

	var v1 []map[string]string
	for _, b := range rec.puts {
		var in struct {
			Name string
			Tags []struct{ Key, Value string }
		}
		if err := json.Unmarshal(b, &in); err != nil {
			t.Fatal(err)
		}
		if in.Name == env.Target().NoncePrefix+"1" {
			tags := map[string]string{}
			for _, tg := range in.Tags {
				tags[tg.Key] = tg.Value
			}
			v1 = append(v1, tags)
		}
	}
	if len(v1) == 0 {
		t.Fatal("the post-up stage did not create v1")
	}
	for k, want := range spec.NonceTags(env.Env) {
		if got := v1[0][k]; got != want {
			t.Errorf("v1 tag %s = %q, want %q (tags %v)", k, got, want, v1[0])
		}
	}
	if v1[0][spec.TagKeyEnvironment] != env.Env {
		t.Errorf("v1 tags %v lack Environment=%s", v1[0], env.Env)
	}
}
