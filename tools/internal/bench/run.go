package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/hlsrelay/hlsrelay/sdk-go/protocol"
	"github.com/hlsrelay/hlsrelay/tools/internal/procstat"
)

// run holds what both modes share: the dialer, heartbeats, the publisher
// connection and the viewers.
type run struct {
	cfg   Config
	res   *Result
	dial  *dialer // the publisher's
	view  *dialer // the viewers'
	clock *runClock
	hb    *heartbeats

	pub       *websocket.Conn
	pubErr    atomic.Pointer[error] // first error read from the publisher's connection
	pubClosed chan struct{}
	pubOnce   sync.Once

	viewers []*viewer

	benchCPU0 time.Duration
}

func newRun(cfg Config, mode string) (*run, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	// Viewers, the publisher, and room for the runtime and stdio.
	need := uint64(cfg.Viewers) + 64
	if _, err := procstat.RaiseOpenFileLimit(need); err != nil {
		return nil, fmt.Errorf("%w (or run fewer viewers)", err)
	}
	pullURL := cfg.URL
	if cfg.PullURL != "" {
		pullURL = cfg.PullURL
	}
	sources := loopbackSources(pullURL, cfg.Viewers)
	viewDial, err := newDialer(pullURL, cfg.Insecure, sources)
	if err != nil {
		return nil, err
	}
	pushDial := viewDial
	if pullURL != cfg.URL {
		if pushDial, err = newDialer(cfg.URL, cfg.Insecure, 1); err != nil {
			return nil, err
		}
	}
	if sources > 1 {
		cfg.Logf("spreading %d connections over %d loopback source addresses", cfg.Viewers, sources)
	}
	r := &run{
		cfg:   cfg,
		res:   &Result{Mode: mode, URL: cfg.URL, Stream: cfg.Stream, Problems: []string{}},
		dial:  pushDial,
		view:  viewDial,
		clock: newRunClock(),
		hb:    newHeartbeats(),
	}
	r.benchCPU0, _ = procstat.CPUTime(os.Getpid())
	if cfg.PID > 0 {
		s, err := procstat.Read(cfg.PID)
		if err != nil {
			return nil, fmt.Errorf("relay process: %w", err)
		}
		r.res.Server = &ServerResult{PID: cfg.PID, RSSBeforeBytes: s.RSS}
		if limit, err := procstat.OpenFileLimit(cfg.PID); err == nil && limit > 0 {
			r.res.Server.OpenFileLimit = int64(limit)
			if limit < need {
				r.problem("the relay's open-file limit is %d, below the %d connections of this run", limit, need)
			}
		}
	}
	return r, nil
}

func (r *run) problem(format string, args ...any) {
	r.res.Problems = append(r.res.Problems, fmt.Sprintf(format, args...))
}

// openPublisher connects the publisher and starts reading its connection
// (heartbeats, E, close) in the background.
func (r *run) openPublisher(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, r.cfg.ConnectTimeout)
	defer cancel()
	c, err := r.dial.open(cctx, r.cfg.pushMessage(), 1<<16)
	if err != nil {
		return fmt.Errorf("publisher: %w", err)
	}
	r.pub = c
	r.pubClosed = make(chan struct{})
	r.hb.add(c)
	go func() {
		defer close(r.pubClosed)
		for {
			typ, data, err := c.Read(context.Background())
			if err != nil {
				r.pubErr.CompareAndSwap(nil, &err)
				return
			}
			if typ != websocket.MessageText {
				continue
			}
			if m, perr := protocol.Parse(data); perr == nil && m.Type == protocol.TypeError {
				e, _ := protocol.ParseError(m)
				var err error = e
				r.pubErr.CompareAndSwap(nil, &err)
			}
		}
	}()
	return nil
}

// publisherError returns what ended the publisher's connection, if anything.
func (r *run) publisherError() error {
	if p := r.pubErr.Load(); p != nil {
		return *p
	}
	return nil
}

// closePublisher ends the stream: CLOSE, then a normal close of the socket.
func (r *run) closePublisher() {
	if r.pub == nil {
		return
	}
	r.pubOnce.Do(r.closePublisherOnce)
}

// reconnectPublisher drops the publisher's connection without CLOSE, as a
// crashed or cut-off encoder would, and pushes again.
func (r *run) reconnectPublisher(ctx context.Context) error {
	r.hb.remove(r.pub)
	r.pub.CloseNow()
	<-r.pubClosed
	r.pubErr.Store(nil)
	// The relay may not have noticed the dropped connection yet: a
	// base-protocol publisher cannot take it over, so it retries for a
	// moment, as a real encoder would.
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := r.openPublisher(ctx)
		if err == nil {
			return nil
		}
		var perr *protocol.Error
		if !errors.As(err, &perr) || perr.Code != protocol.CodeStreamBusy || time.Now().After(deadline) {
			return fmt.Errorf("publisher reconnect: %w", err)
		}
		if err := sleep(ctx, 50*time.Millisecond); err != nil {
			return err
		}
	}
}

func (r *run) closePublisherOnce() {
	r.hb.remove(r.pub)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.pub.Write(ctx, websocket.MessageText, []byte(protocol.TypeClose)); err == nil {
		_ = r.pub.Close(websocket.StatusNormalClosure, "")
	}
	r.pub.CloseNow()
	<-r.pubClosed
}

// maxLatencySamples bounds the latencies kept over all viewers (4 bytes
// each); beyond it each viewer keeps an evenly spaced subset.
const maxLatencySamples = 16 << 20

// connectViewers opens cfg.Viewers PULL connections, at most
// ConnectConcurrency in flight, and starts each viewer's read loop.
func (r *run) connectViewers(ctx context.Context, checker func() *Checker, expected int) {
	start := time.Now()
	pull := r.cfg.pullMessage()
	readLimit := int64(r.cfg.FragmentSize) + 1<<10
	if checker == nil {
		readLimit = MaxFragmentSize
	}
	var (
		mu       sync.Mutex
		failed   int
		errs     = map[string]int{}
		progress atomic.Int64
	)
	stopProgress := r.progress(ctx, &progress)
	slots := make([]int, r.cfg.Viewers)
	viewers := make([]*viewer, r.cfg.Viewers)
	for i := range slots {
		slots[i] = i
	}
	forEach(ctx, slots, r.cfg.ConnectConcurrency, func(i int) {
		cctx, cancel := context.WithTimeout(ctx, r.cfg.ConnectTimeout)
		c, err := r.view.open(cctx, pull, readLimit)
		cancel()
		progress.Add(1)
		if err != nil {
			mu.Lock()
			failed++
			msg := err.Error()
			if _, ok := errs[msg]; ok || len(errs) < 10 {
				errs[msg]++
			} else {
				errs["(other errors)"]++
			}
			mu.Unlock()
			return
		}
		var ch *Checker
		if checker != nil {
			ch = checker()
		}
		v := newViewer(c, r.clock, ch, expected, max(maxLatencySamples/r.cfg.Viewers, 1000))
		viewers[i] = v
		r.hb.add(c)
		go v.loop()
	})
	stopProgress()
	for _, v := range viewers {
		if v != nil {
			r.viewers = append(r.viewers, v)
		}
	}
	elapsed := time.Since(start)
	cr := ConnectResult{
		Viewers:   r.cfg.Viewers,
		Connected: len(r.viewers),
		Failed:    r.cfg.Viewers - len(r.viewers),
		Seconds:   elapsed.Seconds(),
		PerSecond: float64(len(r.viewers)) / max(elapsed.Seconds(), 1e-9),
	}
	if len(errs) > 0 {
		cr.Errors = errs
	}
	r.res.Connect = cr
	if cr.Failed > 0 {
		r.problem("%d of %d viewers failed to connect (first errors: %s)", cr.Failed, cr.Viewers, topErrors(errs))
	}
	r.cfg.Logf("%d viewers connected in %.1f s (%.0f/s), %d failed", cr.Connected, cr.Seconds, cr.PerSecond, cr.Failed)
}

func topErrors(errs map[string]int) string {
	type kv struct {
		msg string
		n   int
	}
	var list []kv
	for m, n := range errs {
		list = append(list, kv{m, n})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].n > list[j].n })
	s := ""
	for i, e := range list {
		if i == 2 {
			break
		}
		if i > 0 {
			s += "; "
		}
		s += fmt.Sprintf("%dx %s", e.n, e.msg)
	}
	return s
}

// progress logs the connection count every two seconds until stopped.
func (r *run) progress(ctx context.Context, n *atomic.Int64) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(2 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				r.cfg.Logf("connecting viewers: %d/%d attempted", n.Load(), r.cfg.Viewers)
			}
		}
	}()
	return func() { cancel(); <-done }
}

// closeViewers closes every viewer connection (waiting up to wait for the
// relay to end them first) and waits for the read loops to return.
func (r *run) closeViewers(wait time.Duration) {
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
wait:
	for _, v := range r.viewers {
		select {
		case <-v.done:
		case <-deadline.C:
			break wait
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	forEach(ctx, r.viewers, r.cfg.ConnectConcurrency, func(v *viewer) {
		if v.conn == nil { // an HLS viewer
			v.stop()
			<-v.done
			return
		}
		r.hb.remove(v.conn)
		select {
		case <-v.done:
			v.conn.CloseNow()
		default:
			cctx, cancel := context.WithTimeout(ctx, time.Second)
			defer cancel()
			go func() { <-cctx.Done(); v.conn.CloseNow() }()
			_ = v.conn.Close(websocket.StatusNormalClosure, "")
		}
		<-v.done
	})
}

// alive counts viewers whose connection is still open.
func (r *run) alive() int {
	n := 0
	for _, v := range r.viewers {
		select {
		case <-v.done:
		default:
			n++
		}
	}
	return n
}

// firstEnded returns a viewer whose read loop has returned, or nil.
func (r *run) firstEnded() *viewer {
	for _, v := range r.viewers {
		select {
		case <-v.done:
			return v
		default:
		}
	}
	return nil
}

// finishBench fills in the bench's own footprint.
func (r *run) finishBench() {
	cpu, _ := procstat.CPUTime(os.Getpid())
	rss, _ := procstat.RSS(os.Getpid())
	r.res.Bench = BenchProcess{CPUSeconds: seconds(cpu - r.benchCPU0), RSSBytes: rss}
}

// selfRSS returns the bench's RSS after returning free memory to the OS, so
// that differences reflect live memory.
func selfRSS() int64 {
	runtime.GC()
	debug.FreeOSMemory()
	rss, _ := procstat.RSS(os.Getpid())
	return rss
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// errInterrupted is returned, with the partial result, when ctx ends a run.
var errInterrupted = errors.New("interrupted")
