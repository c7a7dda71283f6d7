//go:build !wasip1

package main

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/hlsrelay/hlsrelay/plugins/abi"
	"github.com/hlsrelay/hlsrelay/plugins/host"
	"github.com/hlsrelay/hlsrelay/plugins/plugintest"
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
			p := plugintest.Load(t, wasmPath(t), plugintest.Options{Config: tt.config})
			var opts []plugintest.RequestOption
			if tt.onlySource {
				opts = append(opts, plugintest.OnlySource())
			}
			d := p.Route(t, plugintest.Pull("room/a", "", opts...))
			if d.Rejected || !reflect.DeepEqual(d.Sources, tt.want) {
				t.Fatalf("route %+v, want sources %+v", d, tt.want)
			}
		})
	}
}

func TestRouteRefusesBadConfig(t *testing.T) {
	t.Parallel()
	wasm, err := os.ReadFile(wasmPath(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, config := range []string{
		"local=yes",
		"registry=1",
		"upstream=http://x",
		"upstream=" + "ws://" + strings.Repeat("a", 2048),
		"upstrem=ws://x",
		"local=true&local=false",
		"upstream=%",
	} {
		if _, err := plugintest.LoadBytes(t, "route.wasm", wasm, plugintest.Options{Config: config}); err == nil {
			t.Errorf("config %q accepted", config)
		}
	}
}
