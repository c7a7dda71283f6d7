package metrics

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
)

// sample returns the value of the series name{labels} (pairs of label name
// and value) in m's registry, and whether it exists. Counters, gauges and,
// for histograms, the sample count.
func sample(t *testing.T, m *Metrics, name string, labels ...string) (float64, bool) {
	t.Helper()
	families, err := m.Registry.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, s := range f.GetMetric() {
			if !hasLabels(s, labels) {
				continue
			}
			switch {
			case s.Counter != nil:
				return s.Counter.GetValue(), true
			case s.Gauge != nil:
				return s.Gauge.GetValue(), true
			case s.Histogram != nil:
				return float64(s.Histogram.GetSampleCount()), true
			}
		}
	}
	return 0, false
}

func hasLabels(s *dto.Metric, labels []string) bool {
	for i := 0; i+1 < len(labels); i += 2 {
		found := false
		for _, l := range s.GetLabel() {
			if l.GetName() == labels[i] && l.GetValue() == labels[i+1] {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func value(t *testing.T, m *Metrics, name string, labels ...string) float64 {
	t.Helper()
	v, ok := sample(t, m, name, labels...)
	if !ok {
		t.Fatalf("no series %s%v", name, labels)
	}
	return v
}

// series returns the number of series of the family name.
func series(t *testing.T, m *Metrics, name string) int {
	t.Helper()
	families, err := m.Registry.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, f := range families {
		if f.GetName() == name {
			return len(f.GetMetric())
		}
	}
	return 0
}

func TestNilMetricsIsSafe(t *testing.T) {
	t.Parallel()
	var m *Metrics
	m.Connected(RoleViewer)()
	m.Refused("AUTH_ERROR")
	m.Received(10)
	m.Sent(10, time.Now())
	m.SkippedFragments(3)
	m.DroppedViewer(DropWriteTimeout)
	m.RegistryOp("claim", ResultOK)
	m.UpstreamConnect(ResultOK)
	m.UpstreamPull(1)
	m.UpstreamFailed(true)
	m.PluginCall("auth", "allow", time.Millisecond)
	m.HLSRequest("playlist", 200)
	if err := m.CollectStreams(func() ([]StreamInfo, int64) { return nil, 0 }, 5); err != nil {
		t.Error(err)
	}
	if err := m.CollectPlugins(func() []PluginStats { return nil }); err != nil {
		t.Error(err)
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("nil Metrics handler: %d, want 404", rec.Code)
	}
}

func TestConnectionsByRole(t *testing.T) {
	t.Parallel()
	m := New()
	leavePending := m.Connected(RolePending)
	leaveOther := m.Connected(RolePending)
	if got := value(t, m, "hlsrelay_connections", "role", RolePending); got != 2 {
		t.Fatalf("pending = %v, want 2", got)
	}
	// The session's path: pending until OK, then viewer.
	leavePending()
	leaveViewer := m.Connected(RoleViewer)
	if got := value(t, m, "hlsrelay_connections", "role", RolePending); got != 1 {
		t.Errorf("pending = %v, want 1", got)
	}
	if got := value(t, m, "hlsrelay_connections", "role", RoleViewer); got != 1 {
		t.Errorf("viewer = %v, want 1", got)
	}
	leaveViewer()
	leaveOther()
	for _, role := range []string{RolePending, RoleViewer} {
		if got := value(t, m, "hlsrelay_connections", "role", role); got != 0 {
			t.Errorf("%s after close = %v, want 0", role, got)
		}
	}
	if got := value(t, m, "hlsrelay_connections_total", "role", RolePending); got != 2 {
		t.Errorf("pending total = %v, want 2", got)
	}
	if got := value(t, m, "hlsrelay_connections_total", "role", RoleViewer); got != 1 {
		t.Errorf("viewer total = %v, want 1", got)
	}
}

func TestRefusedKeepsCodesBounded(t *testing.T) {
	t.Parallel()
	m := New()
	for _, code := range []string{"AUTH_ERROR", "AUTH_ERROR", "STREAM_BUSY", "", "not a code", "AUTH_ERROR\n", strings.Repeat("A", 65)} {
		m.Refused(code)
	}
	for _, tc := range []struct {
		code string
		want float64
	}{{"AUTH_ERROR", 2}, {"STREAM_BUSY", 1}, {"OTHER", 4}} {
		if got := value(t, m, "hlsrelay_refusals_total", "code", tc.code); got != tc.want {
			t.Errorf("refusals{code=%q} = %v, want %v", tc.code, got, tc.want)
		}
	}
	if n := series(t, m, "hlsrelay_refusals_total"); n != 3 {
		t.Errorf("%d refusal series, want 3", n)
	}
}

func TestFragmentsAndLatency(t *testing.T) {
	t.Parallel()
	m := New()
	m.Received(1000)
	m.Received(500)
	m.Sent(1000, time.Now().Add(-3*time.Millisecond))
	m.Sent(1000, time.Time{}) // backlog: counted, not timed
	m.SkippedFragments(0)
	m.SkippedFragments(4)
	m.DroppedViewer(DropWriteTimeout)
	for _, tc := range []struct {
		name string
		want float64
	}{
		{"hlsrelay_fragments_received_total", 2},
		{"hlsrelay_fragment_bytes_received_total", 1500},
		{"hlsrelay_fragments_sent_total", 2},
		{"hlsrelay_fragment_bytes_sent_total", 2000},
		{"hlsrelay_delivery_latency_seconds", 1},
		{"hlsrelay_viewer_skipped_fragments_total", 4},
	} {
		if got := value(t, m, tc.name); got != tc.want {
			t.Errorf("%s = %v, want %v", tc.name, got, tc.want)
		}
	}
	if got := value(t, m, "hlsrelay_viewers_dropped_total", "reason", DropWriteTimeout); got != 1 {
		t.Errorf("dropped = %v, want 1", got)
	}
}

// TestSentAllocatesNothing: Sent runs once per fragment per viewer.
func TestSentAllocatesNothing(t *testing.T) {
	m := New()
	arrival := time.Now()
	if n := testing.AllocsPerRun(1000, func() { m.Sent(250_000, arrival) }); n != 0 {
		t.Errorf("Sent allocates %v times per call", n)
	}
	if n := testing.AllocsPerRun(1000, func() { m.Received(250_000) }); n != 0 {
		t.Errorf("Received allocates %v times per call", n)
	}
}

func TestOperationCounters(t *testing.T) {
	t.Parallel()
	m := New()
	m.RegistryOp("claim", ResultOK)
	m.RegistryOp("claim", ResultConflict)
	m.RegistryOp("lookup", ResultError)
	m.UpstreamConnect(ResultOK)
	m.UpstreamConnect(ResultRefused)
	m.UpstreamPull(1)
	m.UpstreamPull(1)
	m.UpstreamPull(-1)
	m.UpstreamFailed(true)
	m.UpstreamFailed(false)
	m.UpstreamFailed(false)
	m.PluginCall("auth", "allow", 5*time.Microsecond)
	m.PluginCall("auth", "deny", 7*time.Microsecond)
	m.HLSRequest("segment", 200)
	m.HLSRequest("segment", 404)
	m.HLSRequest("playlist", 503)
	m.HLSRequest("playlist", 304)
	for _, tc := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"hlsrelay_registry_operations_total", []string{"op", "claim", "result", "ok"}, 1},
		{"hlsrelay_registry_operations_total", []string{"op", "claim", "result", "conflict"}, 1},
		{"hlsrelay_registry_operations_total", []string{"op", "lookup", "result", "error"}, 1},
		{"hlsrelay_upstream_connects_total", []string{"result", "refused"}, 1},
		{"hlsrelay_upstream_pulls", nil, 1},
		{"hlsrelay_upstream_failovers_total", []string{"result", "continued"}, 1},
		{"hlsrelay_upstream_failovers_total", []string{"result", "ended"}, 2},
		{"hlsrelay_plugin_calls_total", []string{"plugin", "auth", "result", "deny"}, 1},
		{"hlsrelay_plugin_call_seconds", []string{"plugin", "auth"}, 2},
		{"hlsrelay_hls_requests_total", []string{"kind", "segment", "status", "2xx"}, 1},
		{"hlsrelay_hls_requests_total", []string{"kind", "segment", "status", "4xx"}, 1},
		{"hlsrelay_hls_requests_total", []string{"kind", "playlist", "status", "5xx"}, 1},
		{"hlsrelay_hls_requests_total", []string{"kind", "playlist", "status", "3xx"}, 1},
	} {
		if got := value(t, m, tc.name, tc.labels...); got != tc.want {
			t.Errorf("%s%v = %v, want %v", tc.name, tc.labels, got, tc.want)
		}
	}
}

func TestStreamCollector(t *testing.T) {
	t.Parallel()
	var streams []StreamInfo
	for i := range 10 {
		streams = append(streams, StreamInfo{ID: fmt.Sprintf("s%d", i), Viewers: i, Relayed: i%3 == 0})
	}
	// A stream named like the bucket is counted in it, never listed.
	streams = append(streams, StreamInfo{ID: OtherStreams, Viewers: 100})
	m := New()
	if err := m.CollectStreams(func() ([]StreamInfo, int64) {
		return append([]StreamInfo(nil), streams...), 12345
	}, 3); err != nil {
		t.Fatal(err)
	}
	if got := value(t, m, "hlsrelay_streams", "origin", OriginLocal); got != 7 {
		t.Errorf("local streams = %v, want 7", got)
	}
	if got := value(t, m, "hlsrelay_streams", "origin", OriginRelayed); got != 4 {
		t.Errorf("relayed streams = %v, want 4 (s0, s3, s6, s9)", got)
	}
	if got := value(t, m, "hlsrelay_buffered_bytes"); got != 12345 {
		t.Errorf("buffered bytes = %v", got)
	}
	for id, want := range map[string]float64{"s9": 9, "s8": 8, "s7": 7, OtherStreams: 100 + 0 + 1 + 2 + 3 + 4 + 5 + 6} {
		if got := value(t, m, "hlsrelay_stream_viewers", "stream", id); got != want {
			t.Errorf("viewers{stream=%q} = %v, want %v", id, got, want)
		}
	}
	if n := series(t, m, "hlsrelay_stream_viewers"); n != 4 {
		t.Errorf("%d viewer series, want the top 3 and _other", n)
	}
	if err := m.CollectStreams(func() ([]StreamInfo, int64) { return nil, 0 }, 3); err == nil {
		t.Error("a second stream collector was registered")
	}
}

func TestTopStreams(t *testing.T) {
	t.Parallel()
	in := []StreamInfo{{ID: "b", Viewers: 5}, {ID: "a", Viewers: 5}, {ID: "c", Viewers: 9}, {ID: "d", Viewers: 1}}
	tests := []struct {
		n     int
		top   []string
		other int
	}{
		{0, nil, 20},
		{1, []string{"c"}, 11},
		{3, []string{"c", "a", "b"}, 1}, // ties by id
		{10, []string{"c", "a", "b", "d"}, 0},
	}
	for _, tc := range tests {
		top, other := topStreams(append([]StreamInfo(nil), in...), tc.n)
		var ids []string
		for _, s := range top {
			ids = append(ids, s.ID)
		}
		if fmt.Sprint(ids) != fmt.Sprint(tc.top) || other != tc.other {
			t.Errorf("top %d: %v + %d other, want %v + %d", tc.n, ids, other, tc.top, tc.other)
		}
	}
}

func TestPluginCollector(t *testing.T) {
	t.Parallel()
	m := New()
	err := m.CollectPlugins(func() []PluginStats {
		return []PluginStats{
			{Plugin: "auth", CacheHits: 7, InstancesCreated: 4, InstancesDiscarded: 1, Failures: map[string]uint64{"timeout": 2, "trap": 1}},
			{Plugin: "route", InstancesCreated: 4},
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"hlsrelay_plugin_cache_hits_total", []string{"plugin", "auth"}, 7},
		{"hlsrelay_plugin_instances_created_total", []string{"plugin", "route"}, 4},
		{"hlsrelay_plugin_instances_discarded_total", []string{"plugin", "auth"}, 1},
		{"hlsrelay_plugin_failures_total", []string{"plugin", "auth", "kind", "timeout"}, 2},
		{"hlsrelay_plugin_failures_total", []string{"plugin", "auth", "kind", "trap"}, 1},
	} {
		if got := value(t, m, tc.name, tc.labels...); got != tc.want {
			t.Errorf("%s%v = %v, want %v", tc.name, tc.labels, got, tc.want)
		}
	}
}

func TestHandler(t *testing.T) {
	t.Parallel()
	m := New()
	m.Refused("AUTH_ERROR")
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	for _, want := range []string{`hlsrelay_refusals_total{code="AUTH_ERROR"} 1`, "go_goroutines ", "process_resident_memory_bytes "} {
		if !strings.Contains(string(body), want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
}
