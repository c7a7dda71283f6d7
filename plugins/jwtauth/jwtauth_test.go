//go:build !wasip1

package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hlsrelay/hlsrelay/plugins/host"
	"github.com/hlsrelay/hlsrelay/sdk-go/token"
)

// wasmPath is the plugin built by TestMain.
var wasmPath string

// TestMain builds the plugin, as scripts/build-plugins.sh does, for the tests
// that run it through the host.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "jwtauth-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	wasmPath = filepath.Join(dir, "jwtauth.wasm")
	cmd := exec.Command("go", "build", "-buildmode=c-shared", "-trimpath", "-ldflags=-s -w", "-o", wasmPath, ".")
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building the plugin: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const strictConfig = "pull_secret=pull%20secret&push_secret=push%26secret&push_allowed=true"

var (
	pullSecret = []byte("pull secret")
	pushSecret = []byte("push&secret")
)

func sign(t testing.TB, secret []byte, a token.Action, stream string, ttl time.Duration) string {
	t.Helper()
	s, err := token.Sign(secret, a, stream, ttl)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestPluginDecisions(t *testing.T) {
	t.Parallel()
	p := loadPlugin(t, strictConfig)
	const stream = "room1/cam/1280x720-30~2000"
	now := time.Now()
	exp := func(d time.Duration) string { return strconv.FormatInt(now.Add(d).Unix(), 10) }
	sub := `"sub":"PULL:` + stream + `"`
	hdr := func(alg string) string { return `{"alg":"` + alg + `","typ":"JWT"}` }
	valid := sign(t, pullSecret, token.Pull, stream, time.Minute)
	tampered := func() string {
		parts := strings.Split(valid, ".")
		other := strings.Split(sign(t, pullSecret, token.Pull, "room1/other", time.Minute), ".")
		return parts[0] + "." + other[1] + "." + parts[2]
	}()
	tests := []struct {
		name   string
		action string
		tok    string
		reason string // "" for allowed
	}{
		{"valid PULL", "PULL", valid, ""},
		{"valid PUSH", "PUSH", sign(t, pushSecret, token.Push, stream, time.Minute), ""},
		{"wrong secret", "PULL", sign(t, []byte("other"), token.Pull, stream, time.Minute), reasonBadSignature},
		{"expired", "PULL", craft(string(pullSecret), hdr("HS256"), `{`+sub+`,"exp":`+exp(-time.Minute)+`}`), reasonExpired},
		{"exp == now", "PULL", craft(string(pullSecret), hdr("HS256"), `{`+sub+`,"exp":`+exp(0)+`}`), reasonExpired},
		{"no exp", "PULL", craft(string(pullSecret), hdr("HS256"), `{`+sub+`}`), reasonMissingExp},
		{"numeric-string exp", "PULL", craft(string(pullSecret), hdr("HS256"), `{`+sub+`,"exp":"`+exp(time.Hour)+`"}`), ""},
		{"nbf in the future", "PULL", craft(string(pullSecret), hdr("HS256"), `{`+sub+`,"exp":`+exp(time.Hour)+`,"nbf":`+exp(30*time.Minute)+`}`), reasonNotYetValid},
		{"nbf in the past", "PULL", craft(string(pullSecret), hdr("HS256"), `{`+sub+`,"exp":`+exp(time.Hour)+`,"nbf":`+exp(-time.Minute)+`}`), ""},
		{"wrong subject", "PULL", sign(t, pullSecret, token.Pull, "room1/other", time.Minute), reasonWrongSubject},
		{"no subject", "PULL", craft(string(pullSecret), hdr("HS256"), `{"exp":`+exp(time.Hour)+`}`), reasonWrongSubject},
		{"PUSH token to PULL", "PULL", sign(t, pullSecret, token.Push, stream, time.Minute), reasonWrongSubject},
		{"PULL token to PUSH", "PUSH", sign(t, pushSecret, token.Pull, stream, time.Minute), reasonWrongSubject},
		{"PULL token signed with the pull secret to PUSH", "PUSH", valid, reasonBadSignature},
		{"alg none", "PULL", craft(string(pullSecret), hdr("none"), `{`+sub+`,"exp":`+exp(time.Hour)+`}`), reasonAlgorithm},
		{"alg none, no signature", "PULL", strings.Join(strings.Split(craft("", hdr("none"), `{`+sub+`,"exp":`+exp(time.Hour)+`}`), ".")[:2], ".") + ".", reasonAlgorithm},
		{"RS256 header", "PULL", craft(string(pullSecret), hdr("RS256"), `{`+sub+`,"exp":`+exp(time.Hour)+`}`), reasonAlgorithm},
		{"HS512", "PULL", craft(string(pullSecret), hdr("HS512"), `{`+sub+`,"exp":`+exp(time.Hour)+`}`), reasonAlgorithm},
		{"no alg", "PULL", craft(string(pullSecret), `{"typ":"JWT"}`, `{`+sub+`,"exp":`+exp(time.Hour)+`}`), reasonAlgorithm},
		{"garbage", "PULL", "not a token", reasonSegments},
		{"empty token", "PULL", "", reasonEmpty},
		{"header not JSON", "PULL", craft(string(pullSecret), `alg=HS256`, `{`+sub+`,"exp":`+exp(time.Hour)+`}`), reasonHeaderJSON},
		{"claims not JSON", "PULL", craft(string(pullSecret), hdr("HS256"), `{`+sub+`,"exp":`), reasonClaimsJSON},
		{"bad base64", "PULL", "eyJ*.eyJ.sig", reasonHeaderBase64},
		{"tampered payload", "PULL", tampered, reasonBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := p.authorize(t, &host.Request{Action: tt.action, Stream: stream, Token: tt.tok})
			if tt.reason == "" {
				if !d.Allowed {
					t.Fatalf("denied: %s", d.Reason)
				}
				return
			}
			if d.Allowed || d.Code != "AUTH_ERROR" || d.Reason != tt.reason {
				t.Fatalf("decision %+v, want AUTH_ERROR %q", d, tt.reason)
			}
			if tt.tok != "" && strings.Contains(d.Reason, tt.tok) {
				t.Fatalf("the reason contains the token")
			}
			// The decision agrees with the relay's in-process check.
			secret, action := pullSecret, token.Pull
			if tt.action == "PUSH" {
				secret, action = pushSecret, token.Push
			}
			if err := token.Verify(secret, tt.tok, action, stream, time.Time{}); err == nil || !strings.HasPrefix(tt.reason, "invalid token: ") {
				t.Fatalf("token.Verify says %v", err)
			}
		})
	}
}

func TestPluginConfig(t *testing.T) {
	t.Parallel()
	const stream = "a"
	pullTok := sign(t, pullSecret, token.Pull, stream, time.Minute)
	pushTok := sign(t, pushSecret, token.Push, stream, time.Minute)
	tests := []struct {
		name, config   string
		action, tok    string
		allowed        bool
		reason         string
		cacheAtLeast   time.Duration
		cacheAtMost    time.Duration
		reasonContains string
	}{
		{name: "push not allowed", config: "pull_secret=pull%20secret&push_secret=push%26secret&push_allowed=false",
			action: "PUSH", tok: pushTok, reason: reasonPushNotAllowed},
		{name: "push_allowed absent", config: "pull_secret=pull%20secret&push_secret=push%26secret",
			action: "PUSH", tok: pushTok, reason: reasonPushNotAllowed},
		{name: "empty pull secret allows", config: "push_secret=push%26secret&push_allowed=true",
			action: "PULL", tok: "", allowed: true},
		{name: "empty push secret allows", config: "pull_secret=x&push_secret=&push_allowed=true",
			action: "PUSH", tok: "junk", allowed: true},
		{name: "empty configuration allows PULL", config: "", action: "PULL", allowed: true},
		{name: "empty configuration refuses PUSH", config: "", action: "PUSH", reason: reasonPushNotAllowed},
		{name: "secret with every byte", config: "pull_secret=%00%FF%2B+%3D",
			action: "PULL", tok: sign(t, []byte("\x00\xff+ ="), token.Pull, stream, time.Minute), allowed: true},
		{name: "pull token under the strict config", config: strictConfig, action: "PULL", tok: pullTok, allowed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := loadPlugin(t, tt.config)
			d := p.authorize(t, &host.Request{Action: tt.action, Stream: stream, Token: tt.tok})
			if d.Allowed != tt.allowed || !tt.allowed && (d.Code != "AUTH_ERROR" || d.Reason != tt.reason) {
				t.Fatalf("decision %+v, want allowed %v, reason %q", d, tt.allowed, tt.reason)
			}
		})
	}
}

func TestPluginRefusesBadConfig(t *testing.T) {
	t.Parallel()
	for _, config := range []string{
		"pull_secret=%zz",
		"pull_secrte=x",
		"push_allowed=yes",
		"pull_secret=a&pull_secret=b",
		"pull_secret=a;b",
	} {
		if err := loadErr(t, config); err == nil {
			t.Errorf("config %q accepted", config)
		} else if strings.Contains(err.Error(), "secret=a") {
			t.Errorf("config %q: the error shows a secret: %v", config, err)
		}
	}
}

func TestPluginCacheTTL(t *testing.T) {
	t.Parallel()
	p := loadPlugin(t, strictConfig)
	tok := sign(t, pullSecret, token.Pull, "a", 90*time.Second)
	d := p.authorize(t, &host.Request{Action: "PULL", Stream: "a", Token: tok})
	if !d.Allowed {
		t.Fatal(d.Reason)
	}
	// Until exp, which Sign rounds up to a whole second.
	if d.CacheTTL < 88*time.Second || d.CacheTTL > 91*time.Second {
		t.Fatalf("cache TTL %v, want about 90s", d.CacheTTL)
	}
	d = p.authorize(t, &host.Request{Action: "PULL", Stream: "a", Token: tok + "x"})
	if d.Allowed || d.CacheTTL != 0 {
		t.Fatalf("denial %+v, want no cache", d)
	}
}

// TestPluginMatchesVerify runs many tokens, valid, re-signed with mutated
// claims, and mutated bytes, through the built plugin and token.Verify: the
// decisions and their reasons must agree.
func TestPluginMatchesVerify(t *testing.T) {
	t.Parallel()
	p := loadPlugin(t, "pull_secret=k&push_secret=k&push_allowed=true")
	rng := rand.New(rand.NewPCG(3, 4))
	n := 3000
	if testing.Short() {
		n = 300
	}
	nowMs := time.Now().UnixMilli()
	for i := range n {
		var tok string
		switch i % 4 {
		case 0:
			tok = sign(t, []byte("k"), token.Pull, "s", time.Duration(1+rng.IntN(100))*time.Second)
		default:
			tok = craft("k", randomHeader(rng), randomClaims(rng, nowMs))
		}
		if rng.IntN(3) == 0 {
			tok = string(mutate(rng, []byte(tok)))
		}
		action := token.Pull
		if rng.IntN(4) == 0 {
			action = token.Push
		}
		d := p.authorize(t, &host.Request{Action: string(action), Stream: "s", Token: tok})
		err := token.Verify([]byte("k"), tok, action, "s", time.Time{})
		if d.Allowed != (err == nil) {
			t.Fatalf("token %q for %s: plugin %+v, token.Verify %v", tok, action, d, err)
		}
		if err != nil && !strings.HasPrefix(d.Reason, "invalid token: ") {
			t.Fatalf("token %q: reason %q", tok, d.Reason)
		}
		if err != nil {
			for _, s := range sentinels {
				if errors.Is(err, s) && !strings.HasPrefix(d.Reason, "invalid token: "+s.Error()) {
					t.Fatalf("token %q: plugin says %q, token.Verify %v", tok, d.Reason, err)
				}
			}
		}
	}
}

// --- until plugintest lands: a minimal loader over package host ---

type testPlugin struct{ p *host.Plugin }

var testRuntime *host.Runtime

func loadErr(t testing.TB, config string) error {
	t.Helper()
	r, err := host.NewRuntime(context.Background(), host.RuntimeConfig{})
	if err != nil {
		t.Fatal(err)
	}
	wasm, err := os.ReadFile(wasmPath)
	if err != nil {
		t.Fatal(err)
	}
	p, err := r.Load(context.Background(), host.PluginConfig{Name: "jwtauth", Wasm: wasm, Config: []byte(config), Role: host.RoleAuthorize, MaxCacheTTL: time.Hour})
	if err == nil {
		p.Close(context.Background())
	}
	return err
}

func loadPlugin(t testing.TB, config string) *testPlugin {
	t.Helper()
	r, err := host.NewRuntime(context.Background(), host.RuntimeConfig{})
	if err != nil {
		t.Fatal(err)
	}
	wasm, err := os.ReadFile(wasmPath)
	if err != nil {
		t.Fatal(err)
	}
	p, err := r.Load(context.Background(), host.PluginConfig{Name: "jwtauth", Wasm: wasm, Config: []byte(config), Role: host.RoleAuthorize, MaxCacheTTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return &testPlugin{p}
}

func (tp *testPlugin) authorize(t testing.TB, req *host.Request) host.Decision {
	t.Helper()
	d, err := tp.p.Authorize(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
