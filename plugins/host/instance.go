package host

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/sys"

	"github.com/hlsrelay/hlsrelay/plugins/abi"
)

// instance is one instantiated module with the state of the call it serves.
// It is owned by one goroutine at a time: the pool hands it out and takes it
// back.
type instance struct {
	p         *Plugin
	mod       api.Module
	mem       api.Memory
	authorize api.Function
	route     api.Function
	stack     [1]uint64
	cc        callCtx
	timer     *time.Timer       // fires expire at the call deadline
	interrupt api.MutableGlobal // set to 1 to stop the guest (see instrument.go)
	out       lineWriter        // WASI stdout and stderr
	st        callState
	scratch   [128]byte // header name canonicalisation
	hmac      hmacState
	// memoryRefused is set when the memory limit refused a growth; the
	// instance is then discarded after its call.
	memoryRefused bool
}

// callCtx is the context of a call into the guest, reused by every call of
// an instance to keep allocations down. Its Done channel is closed by the
// instance's timer at the deadline, after which the instance is discarded.
type callCtx struct {
	parent   context.Context // the caller's: values and registry look-ups
	inst     *instance
	deadline time.Time
	done     chan struct{}
}

type instKey struct{}

func (c *callCtx) Deadline() (time.Time, bool) { return c.deadline, true }
func (c *callCtx) Done() <-chan struct{}       { return c.done }

func (c *callCtx) Err() error {
	select {
	case <-c.done:
		return context.DeadlineExceeded
	default:
		return nil
	}
}

func (c *callCtx) Value(key any) any {
	if key == (instKey{}) {
		return c.inst
	}
	if c.parent == nil {
		return nil
	}
	return c.parent.Value(key)
}

// instanceOf finds the instance a host import is called for.
func instanceOf(ctx context.Context) *instance {
	if c, ok := ctx.(*callCtx); ok {
		return c.inst
	}
	in, _ := ctx.Value(instKey{}).(*instance)
	return in
}

// newInstance instantiates the module and initialises it: the start
// function, _initialize, the ABI version check, hlsrelay_init, all within
// InitTimeout. The caller holds a slot.
func (p *Plugin) newInstance(ctx context.Context) (*instance, error) {
	in := &instance{p: p}
	in.cc.inst = in
	in.cc.done = make(chan struct{})
	in.out.in = in
	in.timer = time.AfterFunc(time.Hour, in.expire)
	in.timer.Stop()
	ictx := experimental.WithMemoryAllocator(context.WithValue(ctx, instKey{}, in),
		in.memoryAllocator(uint64(p.r.maxPages)*65536))
	// The timeout stops only wazero's own start-function call, in the
	// benchmark mode without instrumentation; otherwise instantiation runs
	// no guest code.
	ictx, cancel := context.WithTimeout(ictx, p.cfg.InitTimeout)
	defer cancel()
	in.st.reset(phaseInit, nil)
	mod, err := p.r.rt.InstantiateModule(ictx, p.compiled, p.moduleConfig(in))
	if err != nil {
		if ictx.Err() != nil {
			return nil, fmt.Errorf("instantiation did not finish within the init timeout (%v)", p.cfg.InitTimeout)
		}
		return nil, fmt.Errorf("instantiation failed: %w", oneLine(err))
	}
	in.mod = mod
	if g, ok := mod.ExportedGlobal(interruptExport).(api.MutableGlobal); ok {
		in.interrupt = g
	}
	if err := in.initialise(ctx); err != nil {
		_ = mod.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	in.st.reset(phaseIdle, nil)
	p.stats.instancesCreated.Add(1)
	p.liveMu.Lock()
	p.live[in] = struct{}{}
	p.liveMu.Unlock()
	return in, nil
}

// moduleConfig gives the instance WASI with clocks, random numbers and
// stdout/stderr to the log only: no files, environment or arguments.
// Sleeping returns at once (a plugin has no reason to wait).
func (p *Plugin) moduleConfig(in *instance) wazero.ModuleConfig {
	mc := wazero.NewModuleConfig().
		WithName("").
		WithStartFunctions().
		WithStdout(&in.out).
		WithStderr(&in.out).
		WithRandSource(rand.Reader).
		WithSysNanotime()
	if p.now != nil {
		now := p.now
		return mc.WithWalltime(func() (int64, int32) {
			t := now()
			return t.Unix(), int32(t.Nanosecond())
		}, sys.ClockResolution(time.Millisecond))
	}
	return mc.WithSysWalltime()
}

func (in *instance) initialise(ctx context.Context) error {
	in.mem = in.mod.ExportedMemory(abi.ExportMemory)
	in.authorize = in.mod.ExportedFunction(abi.ExportAuthorize)
	in.route = in.mod.ExportedFunction(abi.ExportRoute)
	deadline := time.Now().Add(in.p.cfg.InitTimeout)
	run := func(name string) (result int32, exported bool, err error) {
		f := in.mod.ExportedFunction(name)
		if f == nil {
			return 0, false, nil
		}
		res, err := in.invoke(ctx, f, deadline)
		if name == startExport {
			name = "the start function"
		}
		switch {
		case in.st.expired:
			return 0, true, fmt.Errorf("%s did not finish within the init timeout (%v)", name, in.p.cfg.InitTimeout)
		case err != nil:
			return 0, true, fmt.Errorf("%s failed: %w", name, oneLine(err))
		}
		return res, true, nil
	}
	for _, name := range []string{startExport, abi.ExportReactorInit} {
		if _, _, err := run(name); err != nil {
			return err
		}
	}
	v, _, err := run(abi.ExportVersion)
	switch {
	case err != nil:
		return err
	case v > abi.Version:
		return fmt.Errorf("requires ABI version %d; this relay supports versions 1 to %d", v, abi.Version)
	case v < 1:
		return fmt.Errorf("%s returned %d, not an ABI version", abi.ExportVersion, v)
	}
	res, exported, err := run(abi.ExportInit)
	switch {
	case err != nil:
		return err
	case !exported:
	case in.st.violation != nil:
		return fmt.Errorf("%s: %w", abi.ExportInit, in.st.violation)
	case res != 0:
		return fmt.Errorf("%s returned %d (not 0): the plugin refused to start", abi.ExportInit, res)
	}
	return nil
}

// errNotCalled wraps the caller's context error when the guest was not
// called at all: the instance is still healthy.
var errNotCalled = errors.New("call not started")

// expire stops the guest at its deadline: the interrupt global makes it
// trap at its next loop head or call (wazero's CloseOnContextDone, in the
// benchmark mode that uses it, watches cc.done instead).
func (in *instance) expire() {
	if in.interrupt != nil {
		in.interrupt.Set(1)
	}
	close(in.cc.done)
}

// invoke calls fn until deadline, or ctx's earlier deadline. A cancellation
// of ctx during the call is not observed: the deadline bounds it.
func (in *instance) invoke(ctx context.Context, fn api.Function, deadline time.Time) (int32, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("%w: %w", errNotCalled, err)
	}
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	timeout := time.Until(deadline)
	if timeout <= 0 {
		return 0, fmt.Errorf("%w: %w", errNotCalled, context.DeadlineExceeded)
	}
	in.cc.parent = ctx
	in.cc.deadline = deadline
	in.timer.Reset(timeout)
	err := fn.CallWithStack(&in.cc, in.stack[:])
	if !in.timer.Stop() {
		// The deadline passed, though the guest may have returned before
		// wazero stopped it (it checks only at calls and loop heads): the
		// call failed, and the instance's done channel is closed for good.
		in.st.expired = true
	}
	in.cc.parent = nil
	return int32(in.stack[0]), err
}
