package upstream

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/hlsrelay/hlsrelay/sdk-go/protocol"
	"github.com/hlsrelay/hlsrelay/server/internal/hub"
	"github.com/hlsrelay/hlsrelay/server/internal/metrics"
	"github.com/hlsrelay/hlsrelay/server/internal/policy"
)

// metricValue reads a counter or a gauge.
func metricValue(t *testing.T, c prometheus.Metric) float64 {
	t.Helper()
	var d dto.Metric
	if err := c.Write(&d); err != nil {
		t.Fatal(err)
	}
	if d.Counter != nil {
		return d.Counter.GetValue()
	}
	return d.Gauge.GetValue()
}

// TestMetricsOfFailover: a pull that loses its first source and continues
// from the next counts its connection attempts, the failover, the pull and
// the fragments it received.
func TestMetricsOfFailover(t *testing.T) {
	var first atomic.Bool
	dropping := newSource(t, func(ctx context.Context, c *websocket.Conn, pull protocol.Pull) {
		if first.Swap(true) {
			_ = send(ctx, c, "OK:ext=1")
			_ = send(ctx, c, "CLOSE")
			return
		}
		ctx, cancel := context.WithTimeout(ctx, 150*time.Millisecond)
		defer cancel()
		streaming("e1", 20*time.Millisecond)(ctx, c, pull)
	})
	backup := newSource(t, streaming("e2", 20*time.Millisecond))
	mx := metrics.New()
	m, h := newManager(t, Config{Metrics: mx})
	sources := []policy.Source{{Kind: policy.SourceUpstream, URL: dropping.url}, {Kind: policy.SourceUpstream, URL: backup.url}}
	if _, err := m.Ensure(t.Context(), Request{Stream: "s"}, sources); err != nil {
		t.Fatalf("Ensure: %v", err)
	}
	if got := metricValue(t, mx.UpstreamPulls); got != 1 {
		t.Errorf("upstream pulls = %v, want 1", got)
	}
	sink := newRecorder()
	sub, err := h.Subscribe("s", hub.Start{MaxInitial: -1}, sink)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	sub.Start()
	deadline := time.Now().Add(5 * time.Second)
	for !sink.sawDiscAfter("e1-data", "e2-data") {
		if time.Now().After(deadline) {
			t.Fatalf("no switch to the backup: %v", sink.log())
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The first source, its "not found" during the failover, the backup.
	for result, want := range map[string]float64{metrics.ResultOK: 2, metrics.ResultNotFound: 1, metrics.ResultError: 0} {
		if got := metricValue(t, mx.UpstreamConnects.WithLabelValues(result)); got != want {
			t.Errorf("connects{result=%s} = %v, want %v", result, got, want)
		}
	}
	if got := metricValue(t, mx.UpstreamFailover.WithLabelValues("continued")); got != 1 {
		t.Errorf("failovers{continued} = %v, want 1", got)
	}
	if got := metricValue(t, mx.FragmentsIn); got < 2 {
		t.Errorf("fragments received = %v, want at least one from each source", got)
	}
	m.Close()
	if got := metricValue(t, mx.UpstreamPulls); got != 0 {
		t.Errorf("upstream pulls after Close = %v, want 0", got)
	}
	if got := metricValue(t, mx.UpstreamFailover.WithLabelValues("ended")); got != 0 {
		t.Errorf("failovers{ended} = %v after a shutdown, want 0", got)
	}
}

func TestMetricsOfRefusedConnect(t *testing.T) {
	src := newSource(t, func(ctx context.Context, c *websocket.Conn, _ protocol.Pull) {
		_ = send(ctx, c, "E:code=AUTH_ERROR&message=no")
	})
	mx := metrics.New()
	m, _ := newManager(t, Config{Metrics: mx})
	if _, err := m.Ensure(t.Context(), Request{Stream: "s"}, upstreamSrc(src.url)); err == nil {
		t.Fatal("Ensure succeeded against a refusing upstream")
	}
	if got := metricValue(t, mx.UpstreamConnects.WithLabelValues(metrics.ResultRefused)); got != 1 {
		t.Errorf("connects{refused} = %v, want 1", got)
	}
	if got := metricValue(t, mx.UpstreamPulls); got != 0 {
		t.Errorf("upstream pulls = %v after a pull that never started", got)
	}
}
