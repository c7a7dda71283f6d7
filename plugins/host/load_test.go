package host

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestLoadRefuses(t *testing.T) {
	t.Parallel()
	r := testRuntime(t)
	tests := []struct {
		fixture string
		role    Role
		want    string
	}{
		{"nomarker", RoleAuthorize, "does not export hlsrelay_abi_version: not an hlsrelay plugin"},
		{"version2", RoleAuthorize, "requires ABI version 2; this relay supports versions 1 to 1"},
		{"version0", RoleAuthorize, "hlsrelay_abi_version returned 0, not an ABI version"},
		{"badsig_authorize", RoleAuthorize, "exports hlsrelay_authorize with signature (i32) -> i32, must be () -> i32"},
		{"badsig_version", RoleAuthorize, "exports hlsrelay_abi_version with signature () -> i64, must be () -> i32"},
		{"badsig_init", RoleAuthorize, "exports hlsrelay_init with signature () -> (), must be () -> i32"},
		{"badsig_route", RoleAuthorize, "exports hlsrelay_route with signature () -> i64, must be () -> i32"},
		{"noauthorize", RoleAuthorize, "does not export hlsrelay_authorize, required of authorisation plugins"},
		{"good", RoleAuthorize | RoleRoute, ""},
		{"nomemory", RoleAuthorize, `does not export its memory as "memory"`},
		{"unknownimport", RoleAuthorize, "imports hlsrelay.open_socket, which the host does not offer"},
		{"badimport", RoleAuthorize, "imports hlsrelay.field_get with signature (i32) -> i32, the host offers (i32, i32, i32) -> i32"},
		{"foreignimport", RoleAuthorize, `imports env.abort: module "env" is not offered`},
		{"importmemory", RoleAuthorize, "imports memory env.memory"},
		{"importglobal", RoleAuthorize, "limit"},
		{"initfail", RoleAuthorize, "hlsrelay_init returned 3 (not 0): the plugin refused to start"},
		{"inittrap", RoleAuthorize, "hlsrelay_init failed"},
		{"initloop", RoleAuthorize, "hlsrelay_init did not finish within the init timeout"},
		{"startloop", RoleAuthorize, "the start function did not finish within the init timeout"},
		{"selftesttrap", RoleAuthorize, "self-test hlsrelay_authorize call on a synthetic request failed"},
		{"bigmemory", RoleAuthorize, "declares a memory of 2000 pages, over the limit of 1024 pages (64 MiB)"},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			t.Parallel()
			p, err := r.Load(context.Background(), PluginConfig{
				Name: tt.fixture, Wasm: fixture(t, tt.fixture), Role: tt.role, Config: []byte("x"),
				InitTimeout: 200 * time.Millisecond,
			})
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				_ = p.Close(context.Background())
				return
			}
			if err == nil {
				_ = p.Close(context.Background())
				t.Fatal("loaded; want refused")
			}
			prefix := `plugin "` + tt.fixture + `": `
			if !strings.HasPrefix(err.Error(), prefix) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q\nwant %q and %q", err, prefix, tt.want)
			}
		})
	}
}

func TestLoadRefusesGarbage(t *testing.T) {
	t.Parallel()
	r := testRuntime(t)
	for _, tt := range []struct {
		name string
		cfg  PluginConfig
		want string
	}{
		{"not wasm", PluginConfig{Wasm: []byte("hello"), Role: RoleAuthorize}, "not a WebAssembly module"},
		{"truncated", PluginConfig{Wasm: []byte("\x00asm\x01\x00\x00\x00\x01"), Role: RoleAuthorize}, "invalid WebAssembly module"},
		{"no role", PluginConfig{Wasm: fixture(t, "good")}, "invalid role 0"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := r.Load(context.Background(), tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
}

func TestLoadRouteOnly(t *testing.T) {
	t.Parallel()
	p := load(t, testRuntime(t), "noauthorize", PluginConfig{Role: RoleRoute})
	d, err := p.Route(context.Background(), pull("a", ""))
	if err != nil || len(d.Sources) != 1 {
		t.Fatalf("%+v, %v", d, err)
	}
	if _, err := p.Authorize(context.Background(), pull("a", "")); err == nil {
		t.Fatal("Authorize of a routing-only plugin succeeded")
	}
}

func TestCachedLoad(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := context.Background()
	wasm := fixture(t, "probe")
	for i := range 2 {
		r, err := NewRuntime(ctx, RuntimeConfig{CacheDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		p, err := r.Load(ctx, PluginConfig{Name: "probe", Wasm: wasm, Role: RoleAuthorize})
		if err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
		if d, err := p.Authorize(ctx, pull("a", "")); err != nil || !d.Allowed {
			t.Fatalf("round %d: %+v %v", i, d, err)
		}
		_ = p.Close(ctx)
		_ = r.Close(ctx)
	}
}
