// Package metrics holds the relay's Prometheus metrics. A *Metrics is made
// per node (no global registry), handed to the packages that count, and
// served by the metrics listener. Every method is safe on a nil *Metrics,
// so that tests and tools can run the relay's parts without metrics.
//
// Cardinality is bounded: labels take values from small fixed sets (roles,
// error codes, operations), except the per-stream viewer gauge, which is
// computed at scrape time for the streams with the most viewers only (see
// StreamCollector).
package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Roles of a connection. A WebSocket connection is pending until its PUSH
// or PULL is answered OK, then publisher or viewer.
const (
	RolePending   = "pending" // no PUSH or PULL yet
	RolePublisher = "publisher"
	RoleViewer    = "viewer"
	RoleHLS       = "hls" // HLS-over-HTTP requests in flight
)

// Results of operations (the result label).
const (
	ResultOK       = "ok"
	ResultError    = "error"     // the other side could not be reached or failed
	ResultConflict = "conflict"  // a registry claim found another live owner
	ResultNotFound = "not_found" // a look-up or an upstream found no such stream
	ResultRefused  = "refused"   // an upstream node answered with an E message
)

// Reasons a viewer is dropped (the reason label of viewers_dropped_total).
const (
	DropWriteTimeout = "write_timeout" // its socket accepted nothing for WRITE_TIMEOUT_SECONDS
)

// Metrics are one node's metrics.
type Metrics struct {
	Registry *prometheus.Registry

	Connections      *prometheus.GaugeVec   // role
	ConnectionsTotal *prometheus.CounterVec // role
	Refusals         *prometheus.CounterVec // code: every refused connection or request, by error code

	FragmentsIn  prometheus.Counter
	BytesIn      prometheus.Counter
	FragmentsOut prometheus.Counter
	BytesOut     prometheus.Counter
	// Skipped counts fragments that slow viewers skipped (they fell out
	// of the ring); Dropped counts viewers disconnected by reason.
	Skipped prometheus.Counter
	Dropped *prometheus.CounterVec // reason

	// DeliveryLatency is from a fragment's arrival at this node to its last
	// byte written to a viewer's socket.
	DeliveryLatency prometheus.Histogram

	UpstreamPulls    prometheus.Gauge
	UpstreamConnects *prometheus.CounterVec // result: ok, not_found, refused, error
	UpstreamFailover *prometheus.CounterVec // result: continued, ended

	// RegistryOps: op is claim, refresh, withdraw, lookup, mark_idle,
	// heartbeat or get; result is ok, error, conflict (claim, refresh) or
	// not_found (lookup, get).
	RegistryOps *prometheus.CounterVec

	PluginCalls    *prometheus.CounterVec   // plugin: auth, route; result: allow, deny, ok, reject, error
	PluginDuration *prometheus.HistogramVec // plugin

	HLSRequests *prometheus.CounterVec // kind: playlist, segment; status: HTTP status class
}

// New returns the metrics of one node, registered in a new registry with
// the Go runtime and process collectors.
func New() *Metrics {
	r := prometheus.NewRegistry()
	r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	f := factory{r}
	return &Metrics{
		Registry:         r,
		Connections:      f.gaugeVec("connections", "Open connections by role.", "role"),
		ConnectionsTotal: f.counterVec("connections_total", "Accepted connections by role.", "role"),
		Refusals:         f.counterVec("refusals_total", "Refused connections and requests by error code.", "code"),
		FragmentsIn:      f.counter("fragments_received_total", "Fragments received from publishers and upstream pulls."),
		BytesIn:          f.counter("fragment_bytes_received_total", "Fragment bytes received from publishers and upstream pulls."),
		FragmentsOut:     f.counter("fragments_sent_total", "Fragments written to viewers."),
		BytesOut:         f.counter("fragment_bytes_sent_total", "Fragment bytes written to viewers."),
		Skipped:          f.counter("viewer_skipped_fragments_total", "Fragments slow viewers skipped because they fell out of the ring."),
		Dropped:          f.counterVec("viewers_dropped_total", "Viewers disconnected by the relay, by reason.", "reason"),
		DeliveryLatency: f.histogram("delivery_latency_seconds", "From a fragment's arrival at this node to its last byte written to a viewer.",
			prometheus.ExponentialBuckets(0.0005, 2, 14)),
		UpstreamPulls:    f.gauge("upstream_pulls", "Streams pulled from other nodes."),
		UpstreamConnects: f.counterVec("upstream_connects_total", "Connection attempts to upstream nodes by result.", "result"),
		UpstreamFailover: f.counterVec("upstream_failovers_total", "Upstream pulls that lost their source, by outcome.", "result"),
		RegistryOps:      f.counterVec("registry_operations_total", "Publish registry operations by operation and result.", "op", "result"),
		PluginCalls:      f.counterVec("plugin_calls_total", "Policy plugin calls by plugin and result.", "plugin", "result"),
		PluginDuration: f.histogramVec("plugin_call_seconds", "Policy plugin call duration.",
			prometheus.ExponentialBuckets(0.000002, 2, 16), "plugin"),
		HLSRequests: f.counterVec("hls_requests_total", "HLS-over-HTTP requests by kind and status.", "kind", "status"),
	}
}

// Connected counts a connection of role opened; call the returned func
// when it closes.
func (m *Metrics) Connected(role string) (closed func()) {
	if m == nil {
		return func() {}
	}
	m.ConnectionsTotal.WithLabelValues(role).Inc()
	g := m.Connections.WithLabelValues(role)
	g.Inc()
	return g.Dec
}

// Refused counts a refusal with an error code (an E message's code, or an
// HTTP-level refusal such as RATE_LIMITED). Codes come from plugins too, so
// one that does not look like a code (upper-case letters, digits and "_",
// at most 64 bytes) is counted as "OTHER": the label stays bounded.
func (m *Metrics) Refused(code string) {
	if m != nil {
		if !isCode(code) {
			code = "OTHER"
		}
		m.Refusals.WithLabelValues(code).Inc()
	}
}

func isCode(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// Received counts a fragment of n bytes entering the node.
func (m *Metrics) Received(n int) {
	if m != nil {
		m.FragmentsIn.Inc()
		m.BytesIn.Add(float64(n))
	}
}

// Sent counts a fragment of n bytes written to a viewer and observes its
// delivery latency since arrival; a zero arrival observes nothing (a
// backlog fragment sent when a viewer joined, or an HLS segment). It
// allocates nothing: it is on the fan-out path.
func (m *Metrics) Sent(n int, arrival time.Time) {
	if m != nil {
		m.FragmentsOut.Inc()
		m.BytesOut.Add(float64(n))
		if !arrival.IsZero() {
			m.DeliveryLatency.Observe(time.Since(arrival).Seconds())
		}
	}
}

// SkippedFragments counts n fragments a slow viewer skipped.
func (m *Metrics) SkippedFragments(n uint64) {
	if m != nil && n > 0 {
		m.Skipped.Add(float64(n))
	}
}

// DroppedViewer counts a viewer the relay disconnected.
func (m *Metrics) DroppedViewer(reason string) {
	if m != nil {
		m.Dropped.WithLabelValues(reason).Inc()
	}
}

// UpstreamPull counts a pull from another node starting (+1) or ending
// (-1).
func (m *Metrics) UpstreamPull(delta int) {
	if m != nil {
		m.UpstreamPulls.Add(float64(delta))
	}
}

// UpstreamFailed counts an upstream pull that lost its source: continued
// is true when it found the stream again.
func (m *Metrics) UpstreamFailed(continued bool) {
	if m != nil {
		result := "ended"
		if continued {
			result = "continued"
		}
		m.UpstreamFailover.WithLabelValues(result).Inc()
	}
}

// RegistryOp counts a registry operation.
func (m *Metrics) RegistryOp(op, result string) {
	if m != nil {
		m.RegistryOps.WithLabelValues(op, result).Inc()
	}
}

// UpstreamConnect counts an attempt to connect to an upstream node.
func (m *Metrics) UpstreamConnect(result string) {
	if m != nil {
		m.UpstreamConnects.WithLabelValues(result).Inc()
	}
}

// PluginCall counts a plugin call that took d.
func (m *Metrics) PluginCall(plugin, result string, d time.Duration) {
	if m != nil {
		m.PluginCalls.WithLabelValues(plugin, result).Inc()
		m.PluginDuration.WithLabelValues(plugin).Observe(d.Seconds())
	}
}

// HLSRequest counts an HLS-over-HTTP request of kind playlist, segment or
// unknown (its path did not parse) that was answered status.
func (m *Metrics) HLSRequest(kind string, status int) {
	if m != nil {
		m.HLSRequests.WithLabelValues(kind, statusClass(status)).Inc()
	}
}

func statusClass(status int) string {
	switch {
	case status >= 500:
		return "5xx"
	case status >= 400:
		return "4xx"
	case status >= 300:
		return "3xx"
	}
	return "2xx"
}

const namespace = "hlsrelay"

type factory struct{ r *prometheus.Registry }

func (f factory) counter(name, help string) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Name: name, Help: help})
	f.r.MustRegister(c)
	return c
}

func (f factory) counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: name, Help: help}, labels)
	f.r.MustRegister(c)
	return c
}

func (f factory) gauge(name, help string) prometheus.Gauge {
	g := prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: name, Help: help})
	f.r.MustRegister(g)
	return g
}

func (f factory) gaugeVec(name, help string, labels ...string) *prometheus.GaugeVec {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: namespace, Name: name, Help: help}, labels)
	f.r.MustRegister(g)
	return g
}

func (f factory) histogram(name, help string, buckets []float64) prometheus.Histogram {
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: namespace, Name: name, Help: help, Buckets: buckets})
	f.r.MustRegister(h)
	return h
}

func (f factory) histogramVec(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Name: name, Help: help, Buckets: buckets}, labels)
	f.r.MustRegister(h)
	return h
}
