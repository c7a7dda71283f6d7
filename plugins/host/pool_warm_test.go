package host

import (
	"context"
	"os"
	"testing"
)

func TestWarmFillsThePool(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	wasm, err := os.ReadFile("testdata/good.wasm")
	if err != nil {
		t.Fatal(err)
	}
	rt, err := NewRuntime(ctx, RuntimeConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(ctx)
	p, err := rt.Load(ctx, PluginConfig{Name: "good", Wasm: wasm, Role: RoleAuthorize, PoolSize: 3})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Warm(ctx); err != nil {
		t.Fatal(err)
	}
	if got := p.Stats().InstancesCreated; got != 3 {
		t.Fatalf("%d instances after Warm, want 3", got)
	}
	if err := p.Warm(ctx); err != nil || p.Stats().InstancesCreated != 3 {
		t.Fatalf("a second Warm created more: %v, %d", err, p.Stats().InstancesCreated)
	}
	if _, err := p.Authorize(ctx, &Request{Action: "PULL", Stream: "public/x"}); err != nil {
		t.Fatal(err)
	}
}
