//go:build !wasip1

package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/hlsrelay/hlsrelay/plugins/abi"
	"github.com/hlsrelay/hlsrelay/plugins/host"
)

// wasmPath is the plugin built by TestMain.
var wasmPath string

// TestMain builds the plugin, as scripts/build-plugins.sh does.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "route-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	wasmPath = filepath.Join(dir, "route.wasm")
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

var (
	local    = host.Source{Kind: abi.RouteLocal}
	registry = host.Source{Kind: abi.RouteRegistry}
)

func upstream(url string) host.Source { return host.Source{Kind: abi.RouteUpstream, URL: url} }

func TestRoute(t *testing.T) {
	t.Parallel()
	const up = "wss://up.example.com:8443/relay?x=1"
	tests := []struct {
		name       string
		config     string
		onlySource bool
		want       []host.Source
	}{
		{"default", "", false, []host.Source{local}},
		{"all", "local=true&registry=true&upstream=" + "wss%3A%2F%2Fup.example.com%3A8443%2Frelay%3Fx%3D1", false, []host.Source{local, registry, upstream(up)}},
		{"all, only source", "local=true&registry=true&upstream=ws://u", true, []host.Source{local}},
		{"registry", "registry=true", false, []host.Source{local, registry}},
		{"registry off", "registry=false&upstream=ws://u/", false, []host.Source{local, upstream("ws://u/")}},
		{"upstream empty is none", "registry=true&upstream=", false, []host.Source{local, registry}},
		{"no local", "local=false&registry=true", false, []host.Source{registry}},
		{"no local, only source", "local=false&registry=true", true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := loadPlugin(t, tt.config)
			d := p.route(t, &host.Request{Action: "PULL", Stream: "room/a", OnlySource: tt.onlySource})
			if d.Rejected || !reflect.DeepEqual(d.Sources, tt.want) {
				t.Fatalf("route %+v, want sources %+v", d, tt.want)
			}
		})
	}
}

func TestRouteRefusesBadConfig(t *testing.T) {
	t.Parallel()
	for _, config := range []string{
		"local=yes",
		"registry=1",
		"upstream=http://x",
		"upstream=" + "ws://" + strings.Repeat("a", 2048),
		"upstrem=ws://x",
		"local=true&local=false",
		"upstream=%",
	} {
		if err := loadErr(t, config); err == nil {
			t.Errorf("config %q accepted", config)
		}
	}
}

// --- until plugintest lands: a minimal loader over package host ---

type testPlugin struct{ p *host.Plugin }

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
	p, err := r.Load(context.Background(), host.PluginConfig{Name: "route", Wasm: wasm, Config: []byte(config), Role: host.RoleRoute})
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
	p, err := r.Load(context.Background(), host.PluginConfig{Name: "route", Wasm: wasm, Config: []byte(config), Role: host.RoleRoute})
	if err != nil {
		t.Fatal(err)
	}
	return &testPlugin{p}
}

func (tp *testPlugin) route(t testing.TB, req *host.Request) host.RouteDecision {
	t.Helper()
	d, err := tp.p.Route(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
