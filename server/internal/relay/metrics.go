package relay

import (
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/hlsrelay/hlsrelay/server/internal/config"
	"github.com/hlsrelay/hlsrelay/server/internal/metrics"
)

// newMetrics returns the node's metrics, or nil when METRICS_ENABLED is NO
// (every part of the relay then counts nothing).
func newMetrics(c config.MetricsConfig) *metrics.Metrics {
	if !c.Enabled {
		return nil
	}
	return metrics.New()
}

// Metrics returns the node's metrics; nil when they are disabled.
func (r *Relay) Metrics() *metrics.Metrics { return r.metrics }

// MetricsAddr returns the metrics listener's address, or nil.
func (r *Relay) MetricsAddr() net.Addr { return addr(r.metricsListener) }

// collectStreams exports, at each scrape, the streams by origin, the
// viewers of the most watched ones and the bytes the rings hold.
func (r *Relay) collectStreams() {
	err := r.metrics.CollectStreams(func() ([]metrics.StreamInfo, int64) {
		streams := r.hub.Streams()
		out := make([]metrics.StreamInfo, 0, len(streams))
		for _, s := range streams {
			out = append(out, metrics.StreamInfo{
				ID: s.ID(), Relayed: r.upstream.Relayed(s.ID()), Viewers: s.Stats().Subscribers,
			})
		}
		return out, r.hub.TotalBytes()
	}, r.cfg.Metrics.TopStreams)
	if err != nil {
		r.log.Warn().Err(err).Msg("stream metrics not registered")
	}
}

// listenMetrics opens the metrics listener. The relay serves video without
// it if the address cannot be had (another node on this host may hold it):
// the failure is logged, and Prometheus sees the target down.
func (r *Relay) listenMetrics() {
	if r.metrics == nil {
		return
	}
	l, err := net.Listen("tcp", r.cfg.Metrics.ListenAddress)
	if err != nil {
		r.log.Error().Err(err).Str("address", r.cfg.Metrics.ListenAddress).
			Msg("metrics listener (METRICS_LISTEN_ADDRESS) not opened; serving without /metrics")
		return
	}
	r.metricsListener = l
	r.log.Info().Str("address", l.Addr().String()).Msg("serving metrics at /metrics")
}

// serveMetrics serves /metrics until the returned function is called.
func (r *Relay) serveMetrics() (stop func()) {
	if r.metricsListener == nil {
		return func() {}
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", r.metrics.Handler())
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    8 << 10,
		ErrorLog:          newStdLogger(r.log),
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(r.metricsListener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			r.log.Error().Err(err).Msg("metrics listener failed")
		}
	}()
	return func() {
		_ = srv.Close()
		<-done
	}
}
