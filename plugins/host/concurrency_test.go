package host

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestConcurrentPool(t *testing.T) {
	t.Parallel()
	p := load(t, testRuntime(t), "good", PluginConfig{Config: []byte("public/"), PoolSize: 4, CallTimeout: time.Second})
	ctx := context.Background()
	const goroutines, calls = 32, 200
	var wg sync.WaitGroup
	var bad atomic.Int64
	for g := range goroutines {
		wg.Go(func() {
			for i := range calls {
				stream := fmt.Sprintf("public/%d/%d", g, i)
				if i%2 == 1 {
					stream = "private/x"
				}
				d, err := p.Authorize(ctx, pull(stream, ""))
				if err != nil || d.Allowed != (i%2 == 0) {
					bad.Add(1)
				}
			}
		})
	}
	wg.Wait()
	s := p.Stats()
	if bad.Load() != 0 || s.Calls != goroutines*calls || s.Failures.Total() != 0 {
		t.Fatalf("%d wrong decisions; stats %+v", bad.Load(), s)
	}
	if s.InstancesCreated > 4 || s.InstancesCreated < 1 {
		t.Fatalf("pool of 4 created %d instances", s.InstancesCreated)
	}
}

// TestConcurrentFaults mixes faulting and good calls: faults never leak into
// the good calls' answers, and the pool never exceeds its size.
func TestConcurrentFaults(t *testing.T) {
	t.Parallel()
	p := load(t, testRuntime(t), "probe", PluginConfig{PoolSize: 4, CallTimeout: 200 * time.Millisecond})
	ctx := context.Background()
	var wg sync.WaitGroup
	var wrong atomic.Int64
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				token := ""
				if (g+i)%5 == 0 {
					token = []string{"U", "X", "O", "E"}[i%4]
				}
				d, err := p.Authorize(ctx, pull("s", token))
				if (token == "") != (err == nil && d.Allowed) {
					wrong.Add(1)
				}
			}
		})
	}
	wg.Wait()
	s := p.Stats()
	if wrong.Load() != 0 {
		t.Fatalf("%d wrong answers; stats %+v", wrong.Load(), s)
	}
	if live := s.InstancesCreated - s.InstancesDiscarded; live > 4 {
		t.Fatalf("%d live instances in a pool of 4", live)
	}
	if s.Failures.Total() != s.InstancesDiscarded {
		t.Fatalf("failures %d, discarded %d", s.Failures.Total(), s.InstancesDiscarded)
	}
}

// TestHotReloadUnderLoad swaps plugins while goroutines call the Slot
// without pause, including a reload whose plugin fails to load: no call
// fails, and every answer comes from the plugin current at its start or
// the next one.
func TestHotReloadUnderLoad(t *testing.T) {
	t.Parallel()
	r := testRuntime(t)
	ctx := context.Background()
	newPlugin := func(prefix string) *Plugin {
		p, err := r.Load(ctx, PluginConfig{Name: "good", Wasm: fixture(t, "good"), Role: RoleAuthorize,
			Config: []byte(prefix), PoolSize: 4, CallTimeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	slot := NewSlot(newPlugin("a/"))
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var calls, failed atomic.Int64
	for range 8 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := slot.Authorize(ctx, pull("a/cam", "")); err != nil {
					failed.Add(1)
					t.Errorf("call failed during reload: %v", err)
				}
				calls.Add(1)
			}
		})
	}
	prefixes := []string{"b/", "a/", "c/", "a/"}
	for i, prefix := range prefixes {
		time.Sleep(20 * time.Millisecond)
		if i == 2 {
			// A broken reload never reaches the slot; the old plugin serves on.
			if _, err := r.Load(ctx, PluginConfig{Name: "broken", Wasm: fixture(t, "initfail"), Role: RoleAuthorize}); err == nil {
				t.Fatal("broken plugin loaded")
			}
		}
		old := slot.Current()
		if err := slot.Swap(ctx, newPlugin(prefix)); err != nil {
			t.Fatal(err)
		}
		if _, err := old.Authorize(ctx, pull("a/cam", "")); err != ErrClosed {
			t.Fatalf("old plugin not closed after swap: %v", err)
		}
	}
	time.Sleep(20 * time.Millisecond)
	close(stop)
	wg.Wait()
	if calls.Load() < 100 || failed.Load() != 0 {
		t.Fatalf("%d calls, %d failed", calls.Load(), failed.Load())
	}
	d, err := slot.Authorize(ctx, pull("a/cam", ""))
	if err != nil || !d.Allowed {
		t.Fatalf("final plugin: %+v %v", d, err)
	}
	_ = slot.Current().Close(ctx)
	t.Logf("%d calls across %d swaps", calls.Load(), len(prefixes))
}
