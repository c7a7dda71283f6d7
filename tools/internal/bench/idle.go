package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/hlsrelay/hlsrelay/tools/internal/procstat"
)

// RunIdle measures memory per idle viewer: it connects a publisher (unless
// NoPublisher) and reads the relay's RSS as a baseline, opens Viewers PULL
// connections that then stay idle, waits Settle, reads the RSS again and
// divides the growth by the viewers still connected. Viewers keep no read
// buffer of their own and share one heartbeat goroutine.
func RunIdle(ctx context.Context, cfg Config) (*Result, error) {
	r, err := newRun(cfg, "idle")
	if err != nil {
		return nil, err
	}
	cfg = r.cfg
	hbCtx, stopHB := context.WithCancel(context.Background())
	defer stopHB()
	go r.hb.run(hbCtx, HeartbeatInterval, cfg.ConnectConcurrency)

	if !cfg.NoPublisher {
		if err := r.openPublisher(ctx); err != nil {
			return nil, err
		}
		defer r.closePublisher()
		// Let the relay settle after the publisher before the baseline.
		if err := sleep(ctx, time.Second); err != nil {
			return nil, err
		}
	}
	ir := &IdleResult{SettleSeconds: cfg.Settle.Seconds()}
	r.res.Idle = ir
	if cfg.PID > 0 {
		if rss, err := procstat.RSS(cfg.PID); err == nil {
			r.res.Server.RSSBeforeBytes = rss
		}
	}
	benchBefore := selfRSS()

	cfg.Logf("connecting %d idle viewers", cfg.Viewers)
	r.connectViewers(ctx, nil, 0)
	defer r.closeViewers(0)
	if len(r.viewers) == 0 {
		return nil, fmt.Errorf("no viewer could connect: %s", topErrors(r.res.Connect.Errors))
	}
	cfg.Logf("settling for %v", cfg.Settle)
	var runErr error
	if err := sleep(ctx, cfg.Settle); err != nil {
		runErr = fmt.Errorf("%w while settling", errInterrupted)
	}

	ir.Alive = r.alive()
	benchAfter := selfRSS()
	if ir.Alive > 0 {
		ir.BenchRSSPerViewer = (benchAfter - benchBefore) / int64(ir.Alive)
	}
	if cfg.PID > 0 {
		rss, err := procstat.RSS(cfg.PID)
		if err != nil {
			return nil, fmt.Errorf("relay process: %w", err)
		}
		r.res.Server.RSSAfterBytes = rss
		if ir.Alive > 0 {
			ir.ServerRSSPerViewer = (rss - r.res.Server.RSSBeforeBytes) / int64(ir.Alive)
		}
	}
	if ir.Alive < len(r.viewers) {
		r.problem("%d of %d viewers were disconnected while idle", len(r.viewers)-ir.Alive, len(r.viewers))
	}
	if err := r.publisherError(); err != nil && !cfg.NoPublisher {
		r.problem("publisher: %v", err)
	}
	if v := r.firstEnded(); v != nil {
		switch {
		case v.relayErr != nil:
			r.problem("a viewer got %v", v.relayErr)
		case v.gotClose:
			r.problem("the relay sent CLOSE to idle viewers (is the stream published?)")
		case v.readErr != nil:
			r.problem("a viewer's connection failed: %v", v.readErr)
		}
	}

	if runErr == nil && cfg.Hold > 0 {
		cfg.Logf("holding %d viewers for %v", ir.Alive, cfg.Hold)
		if err := sleep(ctx, cfg.Hold); err != nil {
			runErr = fmt.Errorf("%w while holding", errInterrupted)
		}
	}
	r.finishBench()
	return r.res, runErr
}
