package hlshttp

import (
	"net/http"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/hlsrelay/hlsrelay/server/internal/metrics"
	"github.com/hlsrelay/hlsrelay/server/internal/policy"
)

func read(t *testing.T, c prometheus.Metric) float64 {
	t.Helper()
	var d dto.Metric
	if err := c.Write(&d); err != nil {
		t.Fatal(err)
	}
	switch {
	case d.Counter != nil:
		return d.Counter.GetValue()
	case d.Gauge != nil:
		return d.Gauge.GetValue()
	}
	return float64(d.Histogram.GetSampleCount())
}

// TestMetrics: requests are counted by kind and status, refusals by code,
// and a segment's bytes as sent (untimed: a segment is fetched, not pushed).
func TestMetrics(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	f := newFixture(t, func(c *Config) { c.Metrics = m })
	pub := f.publish(stream)
	f.appendN(pub, 2)
	good := pullToken(t, stream)
	playlist := "/hls/" + stream + "/index.m3u8"
	segment := "/hls/" + stream + "/" + pub.Epoch() + "/" + good + "/1.ts"

	for _, tc := range []struct {
		method, path string
		want         int
	}{
		{http.MethodGet, playlist, http.StatusUnauthorized},
		{http.MethodGet, playlist + "?token=forged", http.StatusForbidden},
		{http.MethodGet, playlist + "?token=" + good, http.StatusOK},
		{http.MethodGet, segment, http.StatusOK},
		{http.MethodHead, segment, http.StatusOK},
		{http.MethodGet, "/hls/" + stream + "/" + pub.Epoch() + "/" + good + "/99.ts", http.StatusNotFound},
		{http.MethodOptions, playlist, http.StatusNoContent},
	} {
		if r := f.do(tc.method, tc.path); r.status != tc.want {
			t.Fatalf("%s %s: %d, want %d", tc.method, tc.path, r.status, tc.want)
		}
	}
	for _, tc := range []struct {
		name string
		c    prometheus.Metric
		want float64
	}{
		{"playlist 2xx", m.HLSRequests.WithLabelValues("playlist", "2xx"), 1},
		{"playlist 4xx", m.HLSRequests.WithLabelValues("playlist", "4xx"), 2},
		{"segment 2xx", m.HLSRequests.WithLabelValues("segment", "2xx"), 2},
		{"segment 4xx", m.HLSRequests.WithLabelValues("segment", "4xx"), 1},
		{"preflight", m.HLSRequests.WithLabelValues("preflight", "2xx"), 1},
		// 401 and 403 are refusals; a missing segment is not.
		{"refusals AUTH_ERROR", m.Refusals.WithLabelValues("AUTH_ERROR"), 2},
		{"fragments sent", m.FragmentsOut, 1}, // the GET, not the HEAD
		{"bytes sent", m.BytesOut, float64(len("fragment bytes"))},
		{"latency observations", m.DeliveryLatency, 0},
		{"requests in flight", m.Connections.WithLabelValues(metrics.RoleHLS), 0},
		{"requests", m.ConnectionsTotal.WithLabelValues(metrics.RoleHLS), 7},
	} {
		if got := read(t, tc.c); got != tc.want {
			t.Errorf("%s = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestMetricsBlockedLimit: a playlist request refused because too many
// wait is a refusal of its own code.
func TestMetricsBlockedLimit(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	f := newFixture(t, func(c *Config) { c.Metrics = m; c.MaxBlocked = 1 })
	f.publish(stream)         // no fragment yet: a playlist request waits
	f.h.blocked <- struct{}{} // one request waits already
	r := f.get("/hls/" + stream + "/index.m3u8?token=" + pullToken(t, stream))
	<-f.h.blocked
	if r.status != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503", r.status)
	}
	if got := read(t, m.Refusals.WithLabelValues(codeTooManyBlocked)); got != 1 {
		t.Errorf("refusals{%s} = %v, want 1", codeTooManyBlocked, got)
	}
}

// TestMetricsParts: part and init segment requests count as segment
// requests; a part sent counts as a fragment sent (as a part written to a
// WebSocket viewer does), an init segment does not.
func TestMetricsParts(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	f := newFixture(t, func(c *Config) { c.Metrics = m; c.Authorizer = &policy.JWT{} })
	pub := f.publish("s")
	publishParts(t, pub, 1, 1)
	dir := "/hls/s/" + pub.Epoch() + "/-/"
	for path, want := range map[string]int{dir + "1.0.m4s": http.StatusOK, dir + "init-1.mp4": http.StatusOK, dir + "0.9.m4s": http.StatusNotFound} {
		if r := f.get(path); r.status != want {
			t.Fatalf("%s: %d, want %d", path, r.status, want)
		}
	}
	for _, tc := range []struct {
		name string
		c    prometheus.Metric
		want float64
	}{
		{"segment 2xx", m.HLSRequests.WithLabelValues("segment", "2xx"), 2},
		{"segment 4xx", m.HLSRequests.WithLabelValues("segment", "4xx"), 1},
		{"fragments sent", m.FragmentsOut, 1},
		{"bytes sent", m.BytesOut, float64(len(partData(1, 0)))},
	} {
		if got := read(t, tc.c); got != tc.want {
			t.Errorf("%s = %v, want %v", tc.name, got, tc.want)
		}
	}
}
