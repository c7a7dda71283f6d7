package policy

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/rs/zerolog"

	"github.com/hlsrelay/hlsrelay/sdk-go/token"
	"github.com/hlsrelay/hlsrelay/server/internal/metrics"
)

func sampleCount(t *testing.T, c prometheus.Metric) float64 {
	t.Helper()
	var d dto.Metric
	if err := c.Write(&d); err != nil {
		t.Fatal(err)
	}
	if d.Histogram != nil {
		return float64(d.Histogram.GetSampleCount())
	}
	return d.GetCounter().GetValue()
}

// TestPluginMetrics: each decision of the embedded plugins is counted with
// its result and timed; the plugins' own counters are read at scrape time.
func TestPluginMetrics(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p, err := NewPlugins(ctx, PluginsConfig{
		Auth:             PluginSource{Config: []byte("pull_secret=pull-secret&push_secret=push-secret&push_allowed=true")},
		Route:            PluginSource{Config: []byte("local=true&registry=false&upstream=")},
		PoolSize:         1,
		CallTimeout:      time.Second,
		MaxMemoryBytes:   64 << 20,
		CacheDir:         filepath.Join(os.TempDir(), "hlsrelay-policy-test-plugin-cache"),
		DecisionCacheTTL: 0,
		Fallback:         BuiltinOrder(false, ""),
		Log:              zerolog.New(zerolog.NewTestWriter(t)),
		Metrics:          m,
	})
	if err != nil {
		t.Fatalf("NewPlugins (the embedded plugins are built by make build): %v", err)
	}
	defer p.Close(context.Background())

	good, err := token.Sign([]byte("pull-secret"), token.Pull, "s", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if d := p.Authorize(ctx, &Request{Action: Pull, Stream: "s", Token: good}); !d.Allowed {
		t.Fatalf("a valid token was refused: %+v", d)
	}
	if d := p.Authorize(ctx, &Request{Action: Pull, Stream: "s", Token: "forged"}); d.Allowed {
		t.Fatal("a forged token was allowed")
	}
	if d := p.Route(ctx, &Request{Action: Pull, Stream: "s", Token: good}); d.Rejected {
		t.Fatalf("route rejected: %+v", d)
	}
	for _, tc := range []struct {
		plugin, result string
	}{{"auth", "allow"}, {"auth", "deny"}, {"route", metrics.ResultOK}} {
		if got := sampleCount(t, m.PluginCalls.WithLabelValues(tc.plugin, tc.result)); got != 1 {
			t.Errorf("plugin_calls_total{plugin=%s,result=%s} = %v, want 1", tc.plugin, tc.result, got)
		}
	}
	if got := sampleCount(t, m.PluginDuration.WithLabelValues("auth").(prometheus.Metric)); got != 2 {
		t.Errorf("auth call durations observed: %v, want 2", got)
	}
	families, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	created := map[string]float64{}
	for _, f := range families {
		if f.GetName() != "hlsrelay_plugin_instances_created_total" {
			continue
		}
		for _, s := range f.GetMetric() {
			created[s.GetLabel()[0].GetValue()] = s.GetCounter().GetValue()
		}
	}
	if created["auth"] < 1 || created["route"] < 1 {
		t.Errorf("instances created as scraped: %v, want at least one of each plugin", created)
	}
}
