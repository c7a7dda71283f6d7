package bench

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/coder/websocket"
	"github.com/hlsrelay/hlsrelay/sdk-go/protocol"
	"github.com/hlsrelay/hlsrelay/tools/internal/procstat"
)

// RunLoad runs the fan-out measurement: a publisher connects, the viewers
// join, the publisher sends Warmup then Duration worth of fragments at Rate,
// the bench waits up to Drain for the last one to reach every viewer, and
// then the publisher sends CLOSE.
//
// On a configuration or setup error (the publisher cannot connect) it returns
// a nil Result. If ctx ends during the run it returns the partial Result and
// an error.
func RunLoad(ctx context.Context, cfg Config) (*Result, error) {
	r, err := newRun(cfg, "load")
	if err != nil {
		return nil, err
	}
	cfg = r.cfg
	payload, err := NewPayload(cfg.FragmentSize, rand.Uint64())
	if err != nil {
		return nil, err
	}
	hbCtx, stopHB := context.WithCancel(context.Background())
	defer stopHB()
	go r.hb.run(hbCtx, HeartbeatInterval, cfg.ConnectConcurrency)

	if err := r.openPublisher(ctx); err != nil {
		return nil, err
	}
	defer r.closePublisher()
	cfg.Logf("publisher connected; connecting %d viewers", cfg.Viewers)

	interval := time.Duration(float64(time.Second) / cfg.Rate)
	warmup := int64(math.Ceil(cfg.Warmup.Seconds() * cfg.Rate))
	measured := max(int64(math.Round(cfg.Duration.Seconds()*cfg.Rate)), 1)
	hc, err := r.startViewers(ctx, func() *Checker { return NewChecker(payload) }, int(measured)+16)
	if err != nil {
		return nil, err
	}
	defer hc.close()
	if len(r.viewers) == 0 {
		r.closeViewers(0)
		return nil, fmt.Errorf("no viewer could connect: %s", topErrors(r.res.Connect.Errors))
	}

	lr := &LoadResult{FragmentSize: cfg.FragmentSize, Rate: cfg.Rate, Transport: "websocket"}
	r.res.Load = lr
	cfg.Logf("sending %d warm-up and %d measured fragments of %d bytes at %g/s", warmup, measured, cfg.FragmentSize, cfg.Rate)

	var (
		buf        = payload.NewBuffer()
		header     = protocol.AppendFragment(nil, protocol.Fragment{Duration: 1 / cfg.Rate}, false)
		start      = time.Now()
		firstSent  int64 // run clock at the first measured send
		cpu0       time.Duration
		bytes0     int64
		sent       int64
		runErr     error
		lastSeq    = warmup + measured - 1
		writeError = func(err error) error {
			if perr := r.publisherError(); perr != nil {
				return fmt.Errorf("publisher: %w", perr)
			}
			return fmt.Errorf("publisher: send: %w", err)
		}
	)
	stopSampling := r.sample(start)
	defer stopSampling()
	lastConnect := time.Now()
	for seq := int64(0); seq <= lastSeq; seq++ {
		if cfg.PublisherReconnect > 0 && time.Since(lastConnect) >= cfg.PublisherReconnect {
			if err := r.reconnectPublisher(ctx); err != nil {
				runErr = err
				break
			}
			lr.PublisherReconnects++
			lastConnect = time.Now()
		}
		slot := start.Add(time.Duration(seq) * interval)
		if wait := time.Until(slot); wait > 0 {
			if err := sleep(ctx, wait); err != nil {
				runErr = fmt.Errorf("%w while sending", errInterrupted)
				break
			}
		} else if -wait > interval && seq >= warmup {
			lr.LateSends++
		}
		if seq == warmup {
			r.clock.firstMeasured.Store(seq)
			bytes0 = r.bytesRead()
			if cfg.PID > 0 {
				cpu0, _ = procstat.CPUTime(cfg.PID)
			}
			firstSent = r.clock.now()
		}
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := r.pub.Write(wctx, websocket.MessageText, header)
		if err == nil {
			payload.Stamp(buf, uint64(seq), r.clock.now())
			err = r.pub.Write(wctx, websocket.MessageBinary, buf)
		}
		cancel()
		if err != nil {
			runErr = writeError(err)
			break
		}
		if seq >= warmup {
			sent++
		}
	}
	sendEnd := time.Since(start)
	stopSampling()

	// Drain: wait for the last measured fragment at every viewer that is
	// still connected.
	if runErr == nil && sent > 0 {
		deadline := time.Now().Add(cfg.Drain)
		for !r.allReached(warmup+sent-1) && time.Now().Before(deadline) && ctx.Err() == nil {
			time.Sleep(10 * time.Millisecond)
		}
	}
	bytes1 := r.bytesRead()
	if cfg.PID > 0 {
		if cpu1, err := procstat.CPUTime(cfg.PID); err == nil && sent > 0 {
			s := r.res.Server
			s.CPUSeconds = seconds(cpu1 - cpu0)
			s.CPUWindowSeconds = float64(r.clock.now()-firstSent) / 1e9
			if s.CPUSeconds > 0 {
				s.ViewersPerCore = float64(len(r.viewers)) * s.CPUWindowSeconds / s.CPUSeconds
			}
			s.BytesInCPUWindow = bytes1 - bytes0
			if s.BytesInCPUWindow > 0 {
				s.CPUSecondsPerGB = s.CPUSeconds / (float64(s.BytesInCPUWindow) / 1e9)
			}
		}
		if rss, err := procstat.RSS(cfg.PID); err == nil {
			r.res.Server.RSSAfterBytes = rss
		}
	}
	if hc != nil {
		lr.Transport, lr.HLSRetries = "hls", hc.retries.Load()
	}
	lr.WindowSeconds = float64(sent) / cfg.Rate
	if sent > 0 {
		lr.WindowSeconds = max(lr.WindowSeconds, (sendEnd - time.Duration(warmup)*interval).Seconds())
	}

	// End of stream: viewers should all see CLOSE.
	early := make([]bool, len(r.viewers))
	for i, v := range r.viewers {
		select {
		case <-v.done:
			early[i] = true
		default:
		}
	}
	r.closePublisher()
	r.closeViewers(5 * time.Second)
	r.finishBench()

	r.summarise(lr, payload, sent, firstSent, early)
	return r.res, runErr
}

// bytesRead sums the binary bytes every viewer has received so far.
func (r *run) bytesRead() int64 {
	var n int64
	for _, v := range r.viewers {
		n += v.bytesRead.Load()
	}
	return n
}

// allReached reports whether every viewer still connected has received seq.
func (r *run) allReached(seq int64) bool {
	for _, v := range r.viewers {
		select {
		case <-v.done:
			continue
		default:
		}
		if v.highest.Load() < seq {
			return false
		}
	}
	return true
}

func (r *run) summarise(lr *LoadResult, payload *Payload, sent, firstSent int64, early []bool) {
	var all []uint32
	var lastReceipt int64
	missedClose := 0
	for i, v := range r.viewers {
		// The read loop has returned (closeViewers waited), so its plain
		// fields are safe to read.
		lr.FragmentsReceived += v.measured
		lr.OutOfOrder += v.outOfOrder
		lr.Missing += v.missing
		lr.Corrupt += v.corrupt
		lr.Foreign += v.foreign
		lr.ProtocolErrors += v.protoErrs
		switch {
		case early[i]:
			lr.Disconnected++
		case v.gotClose:
			lr.EndedCleanly++
		default:
			missedClose++
		}
		lastReceipt = max(lastReceipt, v.lastAt.Load())
		all = append(all, v.latencies...)
		if v.relayErr != nil {
			r.problem("a viewer got %v", v.relayErr)
		}
	}
	lr.FragmentsSent = sent
	lr.FragmentsExpected = sent * int64(r.cfg.Viewers)
	if lr.FragmentsExpected > 0 {
		lr.DeliveredFraction = float64(lr.FragmentsReceived) / float64(lr.FragmentsExpected)
	}
	lr.LatencyMS = percentiles(all)
	lr.BytesDelivered = lr.FragmentsReceived * int64(payload.Size())
	if window := time.Duration(lastReceipt - firstSent).Seconds(); window > 0 && sent > 0 {
		lr.MBPerSecond = float64(lr.BytesDelivered) / window / 1e6
		lr.GbitPerSecond = float64(lr.BytesDelivered) * 8 / window / 1e9
	}

	switch {
	case lr.FragmentsExpected == 0:
		r.problem("no fragment was sent in the measured window")
	case lr.DeliveredFraction < 1:
		r.problem("delivered %.2f%% of the expected fragments", lr.DeliveredFraction*100)
	}
	if n := lr.Corrupt + lr.Foreign; n > 0 {
		r.problem("%d corrupt and %d foreign fragments", lr.Corrupt, lr.Foreign)
	}
	if lr.OutOfOrder > 0 {
		r.problem("%d fragments out of order or duplicated", lr.OutOfOrder)
	}
	if lr.ProtocolErrors > 0 {
		r.problem("%d protocol violations seen by viewers", lr.ProtocolErrors)
	}
	if lr.Disconnected > 0 {
		r.problem("%d viewers were disconnected before the end", lr.Disconnected)
	}
	if missedClose > 0 {
		r.problem("%d viewers did not receive CLOSE after the publisher's CLOSE", missedClose)
	}
	if lr.LateSends > 0 {
		r.problem("the publisher sent %d fragments late (the bench or the relay fell behind)", lr.LateSends)
	}
}
