package host

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"
)

// goGuest builds testdata/goguest once per test binary.
var goGuest = sync.OnceValues(func() ([]byte, error) {
	dir, err := os.MkdirTemp("", "goguest")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "goguest.wasm")
	goTool, err := exec.LookPath("go")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(goTool, "build",
		"-buildmode=c-shared", "-ldflags=-s -w", "-o", out, "./testdata/goguest")
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, &buildError{string(b), err}
	}
	return os.ReadFile(out)
})

type buildError struct {
	out string
	err error
}

func (e *buildError) Error() string { return e.err.Error() + ": " + e.out }

// TestGoGuest runs a Go guest under the instrumentation: its runtime
// (scheduler, garbage collector, sleeping) works, and runaway calls stop
// at the deadline, several at once, while the host collects garbage.
func TestGoGuest(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Go guest")
	}
	t.Parallel()
	wasm, err := goGuest()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	load := func(timeout time.Duration) *Plugin {
		p, err := testRuntime(t).Load(ctx, PluginConfig{Name: "goguest", Wasm: wasm, Role: RoleAuthorize,
			PoolSize: 6, CallTimeout: timeout})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = p.Close(ctx) })
		return p
	}
	// Growing the guest's heap by 32 MiB takes tens of milliseconds on a
	// loaded machine: not what the deadline is about.
	slow := load(10 * time.Second)
	for range 3 {
		if d, err := slow.Authorize(ctx, pull("s", "alloc")); err != nil || !d.Allowed {
			t.Fatalf("alloc: %+v %v", d, err)
		}
	}
	p := load(100 * time.Millisecond)
	mustFail(t, p, "panic", FailTrap, "hlsrelay_authorize trapped: wasm error: unreachable")
	mustFail(t, p, "sleep", FailTimeout, "ran past its deadline")

	// More runaway guests than Ps, while the host collects garbage: all
	// stop at their deadline, and the process is not stalled.
	var wg sync.WaitGroup
	start := time.Now()
	for range runtime.GOMAXPROCS(0) + 2 {
		wg.Go(func() {
			if _, err := p.Authorize(ctx, pull("s", "loop")); err == nil {
				t.Error("loop returned")
			}
		})
	}
	wg.Go(func() {
		for time.Since(start) < 150*time.Millisecond {
			runtime.GC()
		}
	})
	wg.Wait()
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("runaway calls took %v", d)
	}
	if d, err := p.Authorize(ctx, pull("s", "")); err != nil || !d.Allowed {
		t.Fatalf("after: %+v %v", d, err)
	}
}
