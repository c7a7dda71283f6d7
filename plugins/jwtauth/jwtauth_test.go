//go:build !wasip1

package main

import (
	"errors"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hlsrelay/hlsrelay/plugins/host"
	"github.com/hlsrelay/hlsrelay/plugins/plugintest"
	"github.com/hlsrelay/hlsrelay/sdk-go/token"
)

// builder builds the plugin for the tests; TestMain removes it.
var builder = plugintest.NewBuilder()

func TestMain(m *testing.M) {
	code := m.Run()
	builder.Close()
	os.Exit(code)
}

func wasmPath(t testing.TB) string {
	t.Helper()
	return builder.Build(t, ".")
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
	now := time.Now()
	p := plugintest.Load(t, wasmPath(t), plugintest.Options{Config: strictConfig, Now: now})
	const stream = "room1/cam/1280x720-30~2000"
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
			d := p.Authorize(t, &host.Request{Action: tt.action, Stream: stream, Token: tt.tok})
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
			if err := token.Verify(secret, tt.tok, action, stream, now); err == nil || !strings.HasPrefix(tt.reason, "invalid token: ") {
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
		name, config string
		action, tok  string
		allowed      bool
		reason       string
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
			p := plugintest.Load(t, wasmPath(t), plugintest.Options{Config: tt.config})
			d := p.Authorize(t, &host.Request{Action: tt.action, Stream: stream, Token: tt.tok})
			if d.Allowed != tt.allowed || !tt.allowed && (d.Code != "AUTH_ERROR" || d.Reason != tt.reason) {
				t.Fatalf("decision %+v, want allowed %v, reason %q", d, tt.allowed, tt.reason)
			}
		})
	}
}

func TestPluginRefusesBadConfig(t *testing.T) {
	t.Parallel()
	wasm, err := os.ReadFile(wasmPath(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, config := range []string{
		"pull_secret=%zz",
		"pull_secrte=x",
		"push_allowed=yes",
		"pull_secret=a&pull_secret=b",
		"pull_secret=a;b",
	} {
		if _, err := plugintest.LoadBytes(t, "jwtauth.wasm", wasm, plugintest.Options{Config: config}); err == nil {
			t.Errorf("config %q accepted", config)
		} else if strings.Contains(err.Error(), "secret=a") {
			t.Errorf("config %q: the error shows a secret: %v", config, err)
		}
	}
}

func TestPluginCacheTTL(t *testing.T) {
	t.Parallel()
	now := time.UnixMilli(1_900_000_000_250)
	p := plugintest.Load(t, wasmPath(t), plugintest.Options{Config: strictConfig, Now: now, MaxCacheTTL: time.Hour})
	tok := craft(string(pullSecret), hs256, `{"sub":"PULL:a","exp":1900000090}`)
	d := p.Authorize(t, plugintest.Pull("a", tok))
	if !d.Allowed || d.CacheTTL != 89750*time.Millisecond {
		t.Fatalf("decision %+v, want allowed and cached for 89.75s, until exp", d)
	}
	// The relay bounds the TTL.
	tok = craft(string(pullSecret), hs256, `{"sub":"PULL:a","exp":1900999999}`)
	if d := p.Authorize(t, plugintest.Pull("a", tok)); !d.Allowed || d.CacheTTL != time.Hour {
		t.Fatalf("decision %+v, want allowed and cached for the relay's limit", d)
	}
	if d := p.Authorize(t, plugintest.Pull("a", tok+"x")); d.Allowed || d.CacheTTL != 0 {
		t.Fatalf("decision %+v, want a denial not cached", d)
	}
	// Decisions that depend on the configuration only.
	p = plugintest.Load(t, wasmPath(t), plugintest.Options{Config: "pull_secret=&push_allowed=false", Now: now, MaxCacheTTL: time.Hour})
	if d := p.Authorize(t, plugintest.Pull("a", "")); !d.Allowed || d.CacheTTL != time.Hour {
		t.Fatalf("decision %+v, want allowed and cached", d)
	}
	if d := p.Authorize(t, plugintest.Push("a", "")); d.Allowed || d.CacheTTL != time.Hour {
		t.Fatalf("decision %+v, want denied and cached", d)
	}
}

// TestPluginMatchesVerify runs many tokens, valid, re-signed with mutated
// claims, and mutated bytes, through the built plugin and token.Verify: the
// decisions and their reasons must agree.
func TestPluginMatchesVerify(t *testing.T) {
	t.Parallel()
	base := time.UnixMilli(1_900_000_000_000)
	p := plugintest.Load(t, wasmPath(t), plugintest.Options{Config: "pull_secret=k&push_secret=k&push_allowed=true", Now: base})
	rng := rand.New(rand.NewPCG(3, 4))
	n := 3000
	if testing.Short() {
		n = 300
	}
	for i := range n {
		var tok string
		switch i % 4 {
		case 0:
			exp := base.Unix() + int64(rng.IntN(5)) - 2
			tok = craft("k", hs256, `{"sub":"PULL:s","exp":`+strconv.FormatInt(exp, 10)+`}`)
		default:
			tok = craft("k", randomHeader(rng), randomClaims(rng, base.UnixMilli()))
		}
		if rng.IntN(3) == 0 {
			tok = string(mutate(rng, []byte(tok)))
		}
		action := token.Pull
		if rng.IntN(4) == 0 {
			action = token.Push
		}
		now := base.Add(time.Duration(rng.IntN(3000)-1500) * time.Millisecond)
		p.SetNow(now)
		d := p.Authorize(t, &host.Request{Action: string(action), Stream: "s", Token: tok})
		err := token.Verify([]byte("k"), tok, action, "s", now)
		if d.Allowed != (err == nil) {
			t.Fatalf("token %q for %s at %v: plugin %+v, token.Verify %v", tok, action, now, d, err)
		}
		if err == nil {
			continue
		}
		if d.Code != "AUTH_ERROR" || !strings.HasPrefix(d.Reason, "invalid token: ") || strings.Contains(d.Reason, tok) {
			t.Fatalf("token %q: decision %+v", tok, d)
		}
		for _, s := range sentinels {
			if errors.Is(err, s) && !strings.HasPrefix(d.Reason, "invalid token: "+s.Error()) {
				t.Fatalf("token %q: plugin says %q, token.Verify %v", tok, d.Reason, err)
			}
		}
	}
}

// BenchmarkPlugin measures a call of the built plugin through the host, the
// decision cache off: the cost of one PULL's authorisation.
func BenchmarkPlugin(b *testing.B) {
	const stream = "room1/cam/1280x720-30~2000"
	valid := sign(b, pullSecret, token.Pull, stream, time.Hour)
	for _, bc := range []struct {
		name string
		req  *host.Request
	}{
		{"valid", plugintest.Pull(stream, valid)},
		{"bad-signature", plugintest.Pull(stream, valid[:len(valid)-2]+"AA")},
		{"malformed", plugintest.Pull(stream, "not-a-token")},
		{"push-not-allowed", plugintest.Push(stream, valid)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			p := plugintest.Load(b, wasmPath(b), plugintest.Options{Config: "pull_secret=pull%20secret"})
			for b.Loop() {
				p.Authorize(b, bc.req)
			}
		})
	}
}
