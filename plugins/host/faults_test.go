package host

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestFaults(t *testing.T) {
	t.Parallel()
	var l logs
	p := load(t, testRuntime(t), "probe", PluginConfig{CallTimeout: 50 * time.Millisecond, Log: l.log, PoolSize: 2})
	for _, tt := range []struct {
		name, token string
		kind        FailureKind
		want        string
	}{
		{"infinite loop", "L", FailTimeout, "hlsrelay_authorize ran past its deadline"},
		{"unreachable", "U", FailTrap, "hlsrelay_authorize trapped: wasm error: unreachable"},
		{"non-zero result", "X", FailBadResult, "hlsrelay_authorize returned 7 (not 0)"},
		{"proc_exit", "E", FailTrap, "hlsrelay_authorize exited with code 3"},
		{"out-of-range buffer", "O", FailTrap, "memory range out of bounds"},
		{"out-of-range reason", "o", FailTrap, "memory range out of bounds"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := p.Stats()
			start := time.Now()
			mustFail(t, p, tt.token, tt.kind, tt.want)
			if tt.kind == FailTimeout && time.Since(start) > time.Second {
				t.Errorf("timeout took %v", time.Since(start))
			}
			after := p.Stats()
			if after.Failures.Total() != before.Failures.Total()+1 || after.InstancesDiscarded != before.InstancesDiscarded+1 {
				t.Errorf("stats before %+v after %+v", before, after)
			}
		})
	}
	s := p.Stats()
	if s.Failures.Timeout != 1 || s.Failures.Trap != 4 || s.Failures.BadResult != 1 {
		t.Errorf("failures %+v", s.Failures)
	}
	faults := 0
	for _, line := range l.all() {
		if line.level == 3 && !strings.Contains(line.msg, "\n") {
			faults++
		}
	}
	if faults != 6 {
		t.Errorf("%d fault lines logged, want 6: %+v", faults, l.all())
	}
}

func TestMemoryLimit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, err := NewRuntime(ctx, RuntimeConfig{MaxMemoryPages: 64})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close(ctx)
	p := load(t, r, "probe", PluginConfig{CallTimeout: 5 * time.Second}) // growth on the Go heap is slow under -race
	mustFail(t, p, "G", FailMemory, "memory at the limit of 64 pages")
	mustFail(t, p, "G", FailMemory, "memory at the limit of 64 pages")
	if s := p.Stats(); s.Failures.Memory != 2 || s.InstancesDiscarded != 2 {
		t.Errorf("stats %+v", s)
	}
}

// TestTimeoutUnderLoad: a runaway call on one instance does not stop the
// others from serving.
func TestTimeoutUnderLoad(t *testing.T) {
	t.Parallel()
	p := load(t, testRuntime(t), "probe", PluginConfig{PoolSize: 4, CallTimeout: 100 * time.Millisecond})
	ctx := context.Background()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if _, err := p.Authorize(ctx, pull("s", "L")); err == nil {
			t.Error("loop did not time out")
		}
	}()
	time.Sleep(10 * time.Millisecond)
	for range 100 {
		if d, err := p.Authorize(ctx, pull("s", "")); err != nil || !d.Allowed {
			t.Fatalf("%+v %v", d, err)
		}
	}
	wg.Wait()
}

// blockingRegistry ignores its deadline, to hold an instance past the call
// deadline.
type blockingRegistry struct{ entered, release chan struct{} }

func (b blockingRegistry) Lookup(context.Context, string) ([]byte, bool, error) {
	b.entered <- struct{}{}
	<-b.release
	return nil, false, nil
}

func TestBusy(t *testing.T) {
	t.Parallel()
	reg := blockingRegistry{entered: make(chan struct{}, 1), release: make(chan struct{})}
	p := load(t, testRuntime(t), "probe", PluginConfig{
		PoolSize: 1, CallTimeout: 30 * time.Millisecond, Registry: reg, RegistryPrefixes: []string{""},
	})
	ctx := context.Background()
	done := make(chan error)
	go func() {
		_, err := p.Authorize(ctx, pull("s", "Rk"))
		done <- err
	}()
	<-reg.entered
	_, err := p.Authorize(ctx, pull("s", ""))
	var ce *CallError
	if !errors.As(err, &ce) || ce.Kind != FailBusy {
		t.Fatalf("want busy, got %v", err)
	}
	close(reg.release)
	if err := <-done; err == nil || !strings.Contains(err.Error(), "deadline") {
		t.Fatalf("blocked call: %v", err)
	}
	if d, err := p.Authorize(ctx, pull("s", "")); err != nil || !d.Allowed {
		t.Fatalf("after: %+v %v", d, err)
	}
	if s := p.Stats(); s.Failures.Busy != 1 || s.Failures.Timeout != 1 {
		t.Fatalf("stats %+v", s)
	}
}

func TestCallerContext(t *testing.T) {
	t.Parallel()
	p := load(t, testRuntime(t), "probe", PluginConfig{CallTimeout: time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Authorize(ctx, pull("s", "")); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	// A caller deadline shorter than CallTimeout bounds the call.
	start := time.Now()
	_, err := p.Authorize(ctxTimeout(t, 30*time.Millisecond), pull("s", "L"))
	var ce *CallError
	if !errors.As(err, &ce) || ce.Kind != FailTimeout || time.Since(start) > 500*time.Millisecond {
		t.Fatalf("caller deadline: %v after %v", err, time.Since(start))
	}
	if s := p.Stats(); s.Failures.Total() != 1 {
		t.Fatalf("stats %+v", s)
	}
}

func TestClose(t *testing.T) {
	t.Parallel()
	r := testRuntime(t)
	p, err := r.Load(context.Background(), PluginConfig{Name: "probe", Wasm: fixture(t, "probe"), Role: RoleAuthorize})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	started := make(chan struct{})
	result := make(chan error)
	go func() {
		close(started)
		d, err := p.Authorize(ctx, pull("s", "S")) // spins 20 ms
		if err == nil && !d.Allowed {
			err = errors.New("denied")
		}
		result <- err
	}()
	<-started
	time.Sleep(5 * time.Millisecond)
	if err := p.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-result; err != nil {
		t.Fatalf("in-flight call: %v", err)
	}
	if _, err := p.Authorize(ctx, pull("s", "")); !errors.Is(err, ErrClosed) {
		t.Fatalf("after close: %v", err)
	}
	if err := p.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestCloseInterrupts: a Close whose context ends first stops in-flight
// runaway calls instead of leaving them to run on closed instances.
func TestCloseInterrupts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, err := NewRuntime(ctx, RuntimeConfig{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := r.Load(ctx, PluginConfig{Name: "probe", Wasm: fixture(t, "probe"), Role: RoleAuthorize,
		PoolSize: 2, CallTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			_, err := p.Authorize(ctx, pull("s", "L"))
			errs <- err
		}()
	}
	for p.Stats().Calls < 2 { // both calls have an instance
		time.Sleep(time.Millisecond)
	}
	start := time.Now()
	if err := r.Close(ctxTimeout(t, 10*time.Millisecond)); err == nil {
		t.Error("Close reported no interruption")
	}
	for range 2 {
		if err := <-errs; err == nil || !strings.Contains(err.Error(), "stopped by Close") {
			t.Errorf("runaway call: %v", err)
		}
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("close took %v", d)
	}
}
