package cluster

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hlsrelay/hlsrelay/sdk-go/protocol"
	"github.com/hlsrelay/hlsrelay/sdk-go/token"
)

// shortTimers make the cluster react within a test's patience.
var shortTimers = map[string]string{
	"RELAY_INACTIVITY_PERIOD_SEC": "1",
	"PUB_REG_NODE_TTL_SECONDS":    "1",
	"RELAY_FAILOVER_SECONDS":      "15",
}

// expectRun reads fragments until n in a row continue one another, checking
// every byte, and returns the last.
func expectRun(t *testing.T, v *viewer, n int) received {
	t.Helper()
	last := v.next(t, 10*time.Second)
	for run := 1; run < n; {
		f := v.next(t, 10*time.Second)
		if f.index == last.index+1 && !f.disc {
			run++
		} else {
			run = 1
		}
		last = f
	}
	return last
}

func TestCluster(t *testing.T) {
	topo := startCluster(t, shortTimers)
	// Subtests share the cluster; each uses its own stream.
	t.Run("registry pull", func(t *testing.T) {
		startFeeder(t, fixed(topo.Publisher1.URL()), "reg/one", 100*time.Millisecond, 20_000)
		v := mustView(t, topo.Relay1.URL(), "reg/one")
		expectRun(t, v, 10)
	})
	t.Run("chain of three nodes", func(t *testing.T) {
		// relay-2 -> (RELAY_FROM_URL) relay-1 -> (registry) publisher-2.
		startFeeder(t, fixed(topo.Publisher2.URL()), "chain/one", 100*time.Millisecond, 20_000)
		v := mustView(t, topo.Relay2.URL(), "chain/one")
		expectRun(t, v, 10)
		if got := topo.Relay1.Pulls("chain/one"); got != 1 {
			t.Errorf("relay-1 accepted %d PULLs of the stream, want 1 (from relay-2)", got)
		}
	})
	t.Run("HLS over HTTP through the registry", func(t *testing.T) { testHLSThroughRegistry(t, topo) })
	t.Run("fMP4 parts across a chain of three nodes", func(t *testing.T) { testPartsAcrossChain(t, topo) })
	t.Run("200 viewers one upstream", func(t *testing.T) { testManyViewers(t, topo) })
	t.Run("inactivity close", func(t *testing.T) { testInactivity(t, topo) })
	t.Run("duplicate publish refused", func(t *testing.T) { testDuplicatePublish(t, topo) })
	t.Run("unknown stream", func(t *testing.T) {
		v := mustView(t, topo.Relay2.URL(), "nowhere/at/all")
		select {
		case <-v.ended:
		case <-time.After(10 * time.Second):
			t.Fatal("a stream found nowhere was not answered with CLOSE")
		}
		if !v.closed {
			t.Fatalf("connection ended without CLOSE: %v", v.endErr)
		}
	})
}

func testManyViewers(t *testing.T, topo *Topology) {
	const stream, viewers = "many/viewers", 200
	startFeeder(t, fixed(topo.Publisher1.URL()), stream, 100*time.Millisecond, 20_000)
	vs := make([]*viewer, viewers)
	var wg sync.WaitGroup
	errs := make(chan error, viewers)
	for i := range vs {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			v, err := dialViewer(ctx, t, topo.Relay1.URL(), stream, 1)
			if err != nil {
				errs <- err
				return
			}
			vs[i] = v
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("viewer: %v", err)
	}
	for _, v := range vs {
		t.Cleanup(v.close)
	}
	for _, v := range vs {
		expectRun(t, v, 3)
	}
	if got := topo.Publisher1.Pulls(stream); got != 1 {
		t.Fatalf("publisher-1 accepted %d PULLs for %d viewers on relay-1, want 1", got, viewers)
	}
}

func testInactivity(t *testing.T, topo *Topology) {
	const stream = "idle/after"
	startFeeder(t, fixed(topo.Publisher1.URL()), stream, 100*time.Millisecond, 5_000)
	v := mustView(t, topo.Relay1.URL(), stream)
	expectRun(t, v, 3)
	v.close()
	closed := func() bool {
		return len(topo.Relay1.LogLines(func(l LogLine) bool {
			return l.Str("stream") == stream && contains(l.Str("message"), "no viewers; closing the upstream pull")
		})) == 1
	}
	eventually(t, 10*time.Second, "relay-1 kept the upstream pull open without viewers", closed)
	// A new viewer opens a new upstream pull.
	v2 := mustView(t, topo.Relay1.URL(), stream)
	expectRun(t, v2, 3)
	if got := topo.Publisher1.Pulls(stream); got != 2 {
		t.Fatalf("publisher-1 accepted %d PULLs, want 2 (one per upstream pull)", got)
	}
}

func testDuplicatePublish(t *testing.T, topo *Topology) {
	const stream = "dup/stream"
	startFeeder(t, fixed(topo.Publisher1.URL()), stream, 100*time.Millisecond, 5_000)
	v := mustView(t, topo.Publisher1.URL(), stream)
	expectRun(t, v, 2)

	second := pushConn(t, topo.Publisher2.URL(), stream)
	perr := second.expectError(t)
	if perr.Code != protocol.CodeStreamBusy || !contains(perr.Message, topo.Publisher1.URL()) {
		t.Fatalf("second publisher on another node got %v; want STREAM_BUSY naming %s", perr, topo.Publisher1.URL())
	}
	// The first publisher is not disturbed.
	expectRun(t, v, 3)
}

// TestUpstreamNodeKilled: the node that publishes a stream dies (kill -9);
// the publisher moves to the other publishing node; viewers on the relay
// node stay connected and continue from the new source after at most a
// marked discontinuity.
func TestUpstreamNodeKilled(t *testing.T) {
	topo := startCluster(t, shortTimers)
	const stream = "failover/cam"
	var mu sync.Mutex
	target := topo.Publisher1.URL()
	startFeeder(t, func() string {
		mu.Lock()
		defer mu.Unlock()
		return target
	}, stream, 100*time.Millisecond, 20_000)
	v := mustView(t, topo.Relay1.URL(), stream)
	before := expectRun(t, v, 5)

	mu.Lock()
	target = topo.Publisher2.URL()
	mu.Unlock()
	killed := time.Now()
	topo.Publisher1.Kill()

	// Fragments published through publisher-2 arrive on the same socket.
	var first received
	for {
		f := v.next(t, 20*time.Second)
		if f.index > before.index+1 || f.disc {
			first = f
			break
		}
	}
	after := expectRun(t, v, 10)
	if !v.connected() {
		t.Fatal("the viewer was disconnected")
	}
	t.Logf("kill -9 of the publishing node: first fragment from the new source after %v (index %d -> %d, disc=%v); continued to %d",
		first.at.Sub(killed).Round(time.Millisecond), before.index, first.index, first.disc, after.index)
	if got := topo.Publisher2.Pulls(stream); got != 1 {
		t.Errorf("publisher-2 accepted %d PULLs, want 1 (relay-1's new upstream)", got)
	}
}

// TestRedisRestart: Redis dies; streams published on a node keep flowing to
// its viewers, registry look-ups fail fast with a clear error, and once
// Redis is back (empty) the nodes restore their entries by themselves.
func TestRedisRestart(t *testing.T) {
	topo := startCluster(t, shortTimers)
	const stream = "redis/outage"
	startFeeder(t, fixed(topo.Publisher1.URL()), stream, 100*time.Millisecond, 5_000)
	local := mustView(t, topo.Publisher1.URL(), stream)
	expectRun(t, local, 3)

	topo.Redis.Kill()
	down := time.Now()
	// Local viewers see no gap while Redis is down.
	expectRun(t, local, 15)

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	start := time.Now()
	_, err := dialViewer(ctx, t, topo.Relay1.URL(), stream, 1)
	perr := relayError(err)
	if perr == nil || perr.Code != protocol.CodeUnavailable {
		t.Fatalf("registry PULL while Redis is down: %v; want E:code=UNAVAILABLE", err)
	}
	t.Logf("registry PULL refused after %v: %v", time.Since(start).Round(time.Millisecond), perr)
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("refusal took %v; look-ups should fail fast", took)
	}

	if err := topo.Redis.Restart(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Logf("Redis down for %v", time.Since(down).Round(time.Millisecond))
	var v *viewer
	eventually(t, 15*time.Second, "registry pulls do not work again after Redis came back", func() bool {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		got, err := dialViewer(ctx, t, topo.Relay1.URL(), stream, 1)
		if err != nil {
			return false
		}
		select {
		case f := <-got.frags:
			if f.err == nil {
				v = got
				return true
			}
		case <-time.After(3 * time.Second):
		}
		got.close()
		return false
	})
	t.Cleanup(v.close)
	expectRun(t, v, 3)
	expectRun(t, local, 3)
	if !local.connected() {
		t.Fatal("the local viewer was disconnected")
	}
}

// TestFixedUpstream: a node with RELAY_FROM_URL and no registry relays from
// the publishing node directly.
func TestFixedUpstream(t *testing.T) {
	topo := startCluster(t, shortTimers)
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	edge, err := StartNode(t.Context(), NodeConfig{
		Name: "edge", Binary: relayBinary, Port: port, LogDir: t.TempDir(),
		Env: merge(Options{PullSecret: pullSecret, PushSecret: pushSecret, Env: merge(shortTimers, map[string]string{"PLUGIN_CACHE_DIR": pluginCache})}.common(),
			map[string]string{"RELAY_FROM_ENABLED": "YES", "RELAY_FROM_URL": topo.Publisher2.URL()}),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(edge.Stop)
	startFeeder(t, fixed(topo.Publisher2.URL()), "fixed/up", 100*time.Millisecond, 20_000)
	v := mustView(t, edge.URL(), "fixed/up")
	expectRun(t, v, 10)
	if got := topo.Publisher2.Pulls("fixed/up"); got != 1 {
		t.Errorf("publisher-2 accepted %d PULLs, want 1", got)
	}
}

// testHLSThroughRegistry: an HLS-over-HTTP viewer on relay-1 gets a stream
// published on publisher-1, through the same upstream pull a WebSocket
// viewer would start.
func testHLSThroughRegistry(t *testing.T, topo *Topology) {
	const stream = "hls/through"
	startFeeder(t, fixed(topo.Publisher1.URL()), stream, 100*time.Millisecond, 20_000)
	tok, err := token.Sign([]byte(pullSecret), token.Pull, stream, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	base := "http" + strings.TrimPrefix(topo.Relay1.URL(), "ws") + "hls/" + stream + "/"
	playlist := httpGet(t, base+"index.m3u8?token="+url.QueryEscape(tok))
	var segment string
	for _, line := range strings.Split(string(playlist), "\n") {
		if line != "" && !strings.HasPrefix(line, "#") {
			segment = line
		}
	}
	if segment == "" {
		t.Fatalf("playlist without segments:\n%s", playlist)
	}
	if _, err := index(httpGet(t, base+segment)); err != nil {
		t.Fatal(err)
	}
	if got := topo.Publisher1.Pulls(stream); got != 1 {
		t.Errorf("publisher-1 accepted %d PULLs, want 1 (relay-1's upstream pull)", got)
	}
}

func httpGet(t *testing.T, u string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s: %s", u, resp.Status, body)
	}
	return body
}
