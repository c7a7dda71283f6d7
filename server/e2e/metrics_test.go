package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hlsrelay/hlsrelay/sdk-go/protocol"
	"github.com/hlsrelay/hlsrelay/server/internal/config"
	"github.com/hlsrelay/hlsrelay/server/internal/relay"
)

// scrape reads the relay's /metrics and returns every sample by its series
// as written (name{labels}).
func scrape(t *testing.T, url string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: %s", resp.Status)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("scrape: bad line %q", line)
		}
		out[line[:i]] = v
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("scrape: %v", err)
	}
	return out
}

// waitMetric waits until the relay's series has the value want: a counter
// may move an instant after the client saw what it counts.
func waitMetric(t *testing.T, node *relay.Relay, series string, want float64) {
	t.Helper()
	url := "http://" + node.MetricsAddr().String() + "/metrics"
	for deadline := time.Now().Add(10 * time.Second); ; {
		got, ok := scrape(t, url)[series]
		if ok && got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s = %v (present %v), want %v", series, got, ok, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestMetricsEndpoint: after a publisher and viewers exchanged fragments
// and a PULL was refused, the metrics listener (not the public port) shows
// it all.
func TestMetricsEndpoint(t *testing.T) {
	t.Parallel()
	var node *relay.Relay
	url := startRelayWith(t, nil, func(r interface{ ReloadPlugins(context.Context) error }) {
		node = r.(*relay.Relay)
	})
	if node.MetricsAddr() == nil {
		t.Fatal("no metrics listener")
	}
	metricsURL := "http://" + node.MetricsAddr().String() + "/metrics"

	const viewers, fragments, size = 3, 5, 1000
	pub := publish(t, url, "s")
	var ws []*wire
	for range viewers {
		ws = append(ws, view(t, url, "s", 0))
	}
	for i := range fragments {
		pub.sendFragment(1, make([]byte, size+i))
	}
	for _, w := range ws {
		for range fragments {
			w.readFragment()
		}
	}
	refused := dial(t, url)
	refused.sendText(pullMsg("s", "not-a-token", 0))
	refused.expectError(protocol.CodeAuth)

	sent := float64(viewers * fragments)
	bytes := float64(fragments*size + fragments*(fragments-1)/2)
	want := map[string]float64{
		`hlsrelay_fragments_received_total`:                         fragments,
		`hlsrelay_fragment_bytes_received_total`:                    bytes,
		`hlsrelay_fragments_sent_total`:                             sent,
		`hlsrelay_fragment_bytes_sent_total`:                        viewers * bytes,
		`hlsrelay_delivery_latency_seconds_count`:                   sent,
		`hlsrelay_connections{role="publisher"}`:                    1,
		`hlsrelay_connections{role="viewer"}`:                       viewers,
		`hlsrelay_connections_total{role="pending"}`:                1 + viewers + 1,
		`hlsrelay_connections_total{role="publisher"}`:              1,
		`hlsrelay_connections_total{role="viewer"}`:                 viewers,
		`hlsrelay_refusals_total{code="AUTH_ERROR"}`:                1,
		`hlsrelay_streams{origin="local"}`:                          1,
		`hlsrelay_streams{origin="relayed"}`:                        0,
		`hlsrelay_stream_viewers{stream="s"}`:                       viewers,
		`hlsrelay_stream_viewers{stream="_other"}`:                  0,
		`hlsrelay_buffered_bytes`:                                   -1, // present, any value
		`hlsrelay_plugin_calls_total{plugin="auth",result="allow"}`: 1 + viewers,
		`hlsrelay_plugin_calls_total{plugin="auth",result="deny"}`:  1,
		`go_goroutines`: -1,
	}
	// Counters move after the bytes are on the wire: a viewer may read a
	// fragment an instant before it is counted. Scrape until they agree.
	var got map[string]float64
	var diff []string
	for deadline := time.Now().Add(10 * time.Second); ; {
		got = scrape(t, metricsURL)
		diff = diff[:0]
		for series, w := range want {
			v, ok := got[series]
			if !ok || (w >= 0 && v != w) {
				diff = append(diff, fmt.Sprintf("%s = %v (present %v), want %v", series, v, ok, w))
			}
		}
		if len(diff) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, d := range diff {
		t.Error(d)
	}
	if got[`hlsrelay_buffered_bytes`] < bytes {
		t.Errorf("buffered bytes %v, want at least the %v bytes of the ring", got[`hlsrelay_buffered_bytes`], bytes)
	}

	// The public port does not serve the metrics.
	resp, err := http.Get(httpBase(url) + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(body), "hlsrelay_") {
		t.Error("the public port serves the metrics")
	}
}

// TestMetricsAddressTaken: a node whose metrics address is taken (another
// node on the host) serves video without metrics instead of failing.
func TestMetricsAddressTaken(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var node *relay.Relay
	url := startRelayWith(t, func(c *config.Config) { c.Metrics.ListenAddress = l.Addr().String() },
		func(r interface{ ReloadPlugins(context.Context) error }) { node = r.(*relay.Relay) })
	if node.MetricsAddr() != nil {
		t.Fatalf("metrics listener on %v, although the address is taken", node.MetricsAddr())
	}
	pub := publish(t, url, "s")
	v := view(t, url, "s", 0)
	pub.sendFragment(1, []byte("ts"))
	if _, data := v.readFragment(); string(data) != "ts" {
		t.Fatalf("viewer got %q", data)
	}
}

// TestMetricsDisabled: METRICS_ENABLED=NO opens no listener.
func TestMetricsDisabled(t *testing.T) {
	t.Parallel()
	var node *relay.Relay
	startRelayWith(t, func(c *config.Config) { c.Metrics.Enabled = false },
		func(r interface{ ReloadPlugins(context.Context) error }) { node = r.(*relay.Relay) })
	if node.MetricsAddr() != nil || node.Metrics() != nil {
		t.Fatalf("metrics on although disabled: %v", node.MetricsAddr())
	}
}
