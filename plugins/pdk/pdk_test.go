//go:build !wasip1

package pdk_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hlsrelay/hlsrelay/plugins/abi"
	"github.com/hlsrelay/hlsrelay/plugins/host"
	"github.com/hlsrelay/hlsrelay/plugins/pdk"
	"github.com/hlsrelay/hlsrelay/plugins/plugintest"
)

// These tests run the kit inside a plugin, internal/probe, through the host.

// builder builds the probe plugin for the tests; TestMain removes it.
var builder = plugintest.NewBuilder()

func TestMain(m *testing.M) {
	code := m.Run()
	builder.Close()
	os.Exit(code)
}

func loadProbe(t *testing.T, opts plugintest.Options) *plugintest.Plugin {
	t.Helper()
	path := builder.Build(t, "./internal/probe")
	return plugintest.Load(t, path, opts)
}

// ask runs the probe's command and returns its output.
func ask(t *testing.T, p *plugintest.Plugin, cmd string, opts ...plugintest.RequestOption) string {
	t.Helper()
	d := p.Authorize(t, plugintest.Pull("room/cam", cmd, opts...))
	if d.Allowed || d.Code != "RESULT" {
		t.Fatalf("%s: decision %+v", cmd, d)
	}
	return d.Reason
}

func TestProbeFields(t *testing.T) {
	t.Parallel()
	p := loadProbe(t, plugintest.Options{Config: "a=1&b=x%20y", NodeID: "node-7", NodeURL: "wss://n7.example/"})
	for id, want := range map[int]string{
		abi.FieldAction:     "PULL",
		abi.FieldStream:     "room/cam",
		abi.FieldToken:      "field:3",
		abi.FieldRemoteAddr: plugintest.DefaultRemoteAddr,
		abi.FieldNodeID:     "node-7",
		abi.FieldConfig:     "a=1&b=x%20y",
		abi.FieldOnlySource: "false",
		abi.FieldNodeURL:    "wss://n7.example/",
		0:                   "absent",
		9:                   "absent",
		-1:                  "absent",
	} {
		if got := ask(t, p, "field:"+strconv.Itoa(id)); got != want {
			t.Errorf("field %d = %q, want %q", id, got, want)
		}
	}
	if got := ask(t, p, "field:7", plugintest.OnlySource()); got != "true" {
		t.Errorf("only source = %q", got)
	}
}

// TestProbeLongValues checks the grow-and-retry of the kit's buffers.
func TestProbeLongValues(t *testing.T) {
	t.Parallel()
	p := loadProbe(t, plugintest.Options{})
	for _, n := range []int{0, 1, 511, 512, 513, 1000, 5000, 100_000} {
		long := strings.Repeat("v", n)
		if got := ask(t, p, "header-len:x-long", plugintest.Header("X-Long", long)); got != strconv.Itoa(n) {
			t.Errorf("header of %d bytes: got %s bytes", n, got)
		}
		if got := ask(t, p, "query:q", plugintest.Query("q", long)); got != long[:min(n, abi.MaxReasonLen)] {
			t.Errorf("query of %d bytes: got %d bytes", n, len(got))
		}
	}
	// A reason is cut at 1024 bytes.
	d := p.Authorize(t, plugintest.Pull(strings.Repeat("s", 3000), "field:2"))
	if len(d.Reason) != abi.MaxReasonLen || d.Reason != strings.Repeat("s", abi.MaxReasonLen) {
		t.Errorf("stream of 3000 bytes: reason of %d bytes", len(d.Reason))
	}
}

func TestProbeHeaderQuery(t *testing.T) {
	t.Parallel()
	p := loadProbe(t, plugintest.Options{})
	req := []plugintest.RequestOption{plugintest.Header("X-Forwarded-For", "203.0.113.9"), plugintest.Query("lang", "fr")}
	for cmd, want := range map[string]string{
		"header:x-forwarded-for": "203.0.113.9",
		"header:X-FORWARDED-FOR": "203.0.113.9",
		"header:x-other":         "absent",
		"query:lang":             "fr",
		"query:LANG":             "absent",
	} {
		if got := ask(t, p, cmd, req...); got != want {
			t.Errorf("%s = %q, want %q", cmd, got, want)
		}
	}
}

func TestProbeRegistry(t *testing.T) {
	t.Parallel()
	p := loadProbe(t, plugintest.Options{
		Registry:         map[string]string{"streams/a": "ws://node1/", "secrets/x": "y"},
		RegistryPrefixes: []string{"streams/"},
	})
	for cmd, want := range map[string]string{
		"registry:streams/a":    "ws://node1/",
		"registry:streams/none": pdk.ErrNotFound.Error(),
		"registry:secrets/x":    pdk.ErrDenied.Error(),
	} {
		if got := ask(t, p, cmd); got != want {
			t.Errorf("%s = %q, want %q", cmd, got, want)
		}
	}
	p = loadProbe(t, plugintest.Options{})
	if got := ask(t, p, "registry:streams/a"); got != pdk.ErrUnavailable.Error() {
		t.Errorf("without a registry: %q", got)
	}
}

func TestProbeVerifySignature(t *testing.T) {
	t.Parallel()
	p := loadProbe(t, plugintest.Options{})
	mac := hmac.New(sha256.New, []byte("key"))
	mac.Write([]byte("message"))
	sig := base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
	with := func(key, msg, sig string) []plugintest.RequestOption {
		return []plugintest.RequestOption{plugintest.Header("X-Key", key), plugintest.Header("X-Msg", msg), plugintest.Header("X-Sig", sig)}
	}
	for _, tt := range []struct {
		cmd, key, msg, sig, want string
	}{
		{"verify:1", "key", "message", sig, "true"},
		{"verify:1", "key", "messagf", sig, "false"},
		{"verify:1", "kez", "message", sig, "false"},
		{"verify:1", "key", "message", sig[:10], "false"},
		{"verify:99", "key", "message", sig, pdk.ErrBadAlg.Error()},
		{"verify:2", "not a key", "message", sig, pdk.ErrBadKey.Error()},
	} {
		if got := ask(t, p, tt.cmd, with(tt.key, tt.msg, tt.sig)...); got != tt.want {
			t.Errorf("%s(%q, %q, %q) = %q, want %q", tt.cmd, tt.key, tt.msg, tt.sig, got, tt.want)
		}
	}
}

func TestProbeNowLogCache(t *testing.T) {
	t.Parallel()
	now := time.UnixMilli(1_900_000_000_123)
	p := loadProbe(t, plugintest.Options{Now: now, MaxCacheTTL: time.Hour})
	if got := ask(t, p, "now"); got != "1900000000123" {
		t.Errorf("now = %s", got)
	}
	p.Advance(time.Second)
	if got := ask(t, p, "now"); got != "1900000001123" {
		t.Errorf("now = %s", got)
	}
	if d := p.Authorize(t, plugintest.Pull("a", "log:2:hello there")); !d.Allowed {
		t.Errorf("log: decision %+v", d)
	}
	if logs := p.Logs(); len(logs) == 0 || logs[len(logs)-1] != (plugintest.LogLine{Level: abi.LogWarn, Msg: "hello there"}) {
		t.Errorf("logs %+v", logs)
	}
	if d := p.Authorize(t, plugintest.Pull("a", "allow-cache:5000")); !d.Allowed || d.CacheTTL != 5*time.Second {
		t.Errorf("cache: decision %+v", d)
	}
}

func TestProbeFailures(t *testing.T) {
	t.Parallel()
	p := loadProbe(t, plugintest.Options{})
	for cmd, want := range map[string]string{
		"error": "authorize: asked to fail",
		"panic": "authorize: panic: asked to panic",
	} {
		_, err := p.TryAuthorize(plugintest.Pull("a", cmd))
		var ce *host.CallError
		if !errors.As(err, &ce) {
			t.Errorf("%s: error %v, want a failed call", cmd, err)
		}
		found := false
		for _, l := range p.Logs() {
			found = found || l.Level == abi.LogError && l.Msg == want
		}
		if !found {
			t.Errorf("%s: logs %+v, want %q", cmd, p.Logs(), want)
		}
		// The plugin still serves.
		if got := ask(t, p, "field:1"); got != "PULL" {
			t.Errorf("after %s: %q", cmd, got)
		}
	}
	wasm, err := os.ReadFile(builder.Build(t, "./internal/probe"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plugintest.LoadBytes(t, "probe", wasm, plugintest.Options{Config: "fail-init"}); err == nil {
		t.Error("a failing init is accepted")
	}
}

func TestProbeRoute(t *testing.T) {
	t.Parallel()
	p := loadProbe(t, plugintest.Options{})
	d := p.Route(t, plugintest.Pull("up.example:8080/x", ""))
	want := []host.Source{{Kind: abi.RouteLocal}, {Kind: abi.RouteRegistry}, {Kind: abi.RouteUpstream, URL: "ws://up.example:8080/x"}}
	if d.Rejected || !reflect.DeepEqual(d.Sources, want) {
		t.Errorf("route %+v, want %+v", d, want)
	}
	d = p.Route(t, plugintest.Pull("reject", ""))
	if !d.Rejected || d.Code != "NOPE" || d.Reason != "rejected by the probe" {
		t.Errorf("route %+v, want a rejection", d)
	}
}
