package plugintest_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hlsrelay/hlsrelay/plugins/abi"
	"github.com/hlsrelay/hlsrelay/plugins/host"
	"github.com/hlsrelay/hlsrelay/plugins/plugintest"
)

// The host's WAT fixtures serve as plugins under test.
const (
	good  = "../host/testdata/good.wasm"
	probe = "../host/testdata/probe.wasm"
)

func TestAuthorizeAndRoute(t *testing.T) {
	t.Parallel()
	p := plugintest.Load(t, good, plugintest.Options{Config: "public/"})
	if d := p.Authorize(t, plugintest.Pull("public/cam", "")); !d.Allowed {
		t.Errorf("public stream denied: %+v", d)
	}
	d := p.Authorize(t, plugintest.Push("private/cam", "tok"))
	if d.Allowed || d.Code != "FORBIDDEN" || d.Reason != "stream is not public" {
		t.Errorf("private stream: %+v", d)
	}
	r := p.Route(t, plugintest.Pull("x", ""))
	if len(r.Sources) != 2 || r.Sources[0].Kind != abi.RouteLocal || r.Sources[1].Kind != abi.RouteRegistry {
		t.Errorf("route: %+v", r)
	}
}

func TestRequestOptions(t *testing.T) {
	t.Parallel()
	p := plugintest.Load(t, probe, plugintest.Options{NodeID: "n1", Config: "c=1"})
	req := plugintest.Pull("s", "", plugintest.RemoteAddr("203.0.113.5:1"), plugintest.Header("X-Real-IP", "203.0.113.6"),
		plugintest.Query("auth", "q"), plugintest.OnlySource())
	for token, want := range map[string]string{
		"F4": "203.0.113.5:1", "Hx-real-ip": "203.0.113.6", "Qauth": "q", "F7": "true", "F5": "n1", "F6": "c=1", "F1": "PULL",
	} {
		req.Token = token
		if d := p.Authorize(t, req); d.Reason != want {
			t.Errorf("%s: %+v, want %q", token, d, want)
		}
	}
}

func TestRegistryAndClock(t *testing.T) {
	t.Parallel()
	now := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)
	p := plugintest.Load(t, probe, plugintest.Options{
		Registry: map[string]string{"hlsrelay:stream:a": "node-2"}, Now: now,
	})
	if d := p.Authorize(t, plugintest.Pull("s", "Rhlsrelay:stream:a")); d.Reason != "node-2" {
		t.Errorf("registry: %+v", d)
	}
	if d := p.Authorize(t, plugintest.Pull("s", "T")); d.Reason != strconv.FormatInt(now.UnixMilli(), 10) {
		t.Errorf("clock: %+v", d)
	}
	p.Advance(time.Second)
	if d := p.Authorize(t, plugintest.Pull("s", "T")); d.Reason != strconv.FormatInt(now.UnixMilli()+1000, 10) {
		t.Errorf("advanced clock: %+v", d)
	}
	none := plugintest.Load(t, probe, plugintest.Options{})
	if d := none.Authorize(t, plugintest.Pull("s", "Rk")); d.Code != "UNAVAILABLE" {
		t.Errorf("no registry: %+v", d)
	}
}

func TestLogsAndFailures(t *testing.T) {
	t.Parallel()
	p := plugintest.Load(t, probe, plugintest.Options{})
	p.Authorize(t, plugintest.Pull("s", "lhello"))
	_, err := p.TryAuthorize(plugintest.Pull("s", "U"))
	var ce *host.CallError
	if !errors.As(err, &ce) || ce.Kind != host.FailTrap {
		t.Fatalf("trap: %v", err)
	}
	logs := p.Logs()
	if len(logs) != 2 || logs[0] != (plugintest.LogLine{Level: abi.LogInfo, Msg: "hello"}) ||
		logs[1].Level != abi.LogError || !strings.Contains(logs[1].Msg, "unreachable") {
		t.Fatalf("logs: %+v", logs)
	}
	if s := p.Stats(); s.Failures.Trap != 1 {
		t.Fatalf("stats: %+v", s)
	}
}

func TestRefused(t *testing.T) {
	t.Parallel()
	_, err := plugintest.LoadBytes(t, "bad", []byte("\x00asm\x01\x00\x00\x00"), plugintest.Options{})
	if err == nil || !strings.Contains(err.Error(), "not an hlsrelay plugin") {
		t.Fatalf("%v", err)
	}
}

func TestRoleFromExports(t *testing.T) {
	t.Parallel()
	p := plugintest.Load(t, "../host/testdata/noauthorize.wasm", plugintest.Options{})
	if p.Host().Role() != host.RoleRoute {
		t.Fatalf("role %v", p.Host().Role())
	}
	if p := plugintest.Load(t, good, plugintest.Options{}); p.Host().Role() != host.RoleAuthorize|host.RoleRoute {
		t.Fatalf("role %v", p.Host().Role())
	}
}
