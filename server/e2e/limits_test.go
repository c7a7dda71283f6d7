package e2e

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/hlsrelay/hlsrelay/sdk-go/protocol"
	"github.com/hlsrelay/hlsrelay/server/internal/config"
	"github.com/hlsrelay/hlsrelay/server/internal/metrics"
)

// The abuse and capacity limits, over real sockets. Clients on several
// addresses are clients bound to different loopback addresses (127.0.0.0/8
// is all local on Linux).

// counter is a relay node's count of open WebSocket connections, and its
// metrics (nil when disabled).
type counter interface {
	Connections() int
	Metrics() *metrics.Metrics
}

// refusals returns the relay's refusals metric by code; nil if the relay
// has no metrics.
func refusals(t *testing.T, c counter) map[string]int {
	t.Helper()
	m := c.Metrics()
	if m == nil {
		return nil
	}
	mfs, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, mf := range mfs {
		if mf.GetName() != "hlsrelay_refusals_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "code" {
					out[l.GetValue()] = int(m.GetCounter().GetValue())
				}
			}
		}
	}
	return out
}

// checkRefusals logs the relay's refusals metric and checks the counts of
// want (when the relay has metrics).
func checkRefusals(t *testing.T, c counter, want map[string]int) {
	t.Helper()
	got := refusals(t, c)
	if got == nil {
		t.Log("refusals metric: metrics disabled")
		return
	}
	t.Logf("refusals metric: %v", got)
	for code, n := range want {
		if got[code] != n {
			t.Errorf("refusals{code=%s} = %d, want %d", code, got[code], n)
		}
	}
}

// startCountedRelay is startRelay that also returns the relay's connection
// count.
func startCountedRelay(t *testing.T, mutate func(*config.Config)) (string, counter) {
	t.Helper()
	var c counter
	url := startRelayWith(t, mutate, func(r interface{ ReloadPlugins(context.Context) error }) { c = r.(counter) })
	return url, c
}

// outcome is how one handshake ended: "OK" (the socket is open) or the
// refusal's code.
type outcome struct {
	conn   *websocket.Conn
	status int
	code   string
}

func (o outcome) String() string {
	if o.conn != nil {
		return "OK"
	}
	return fmt.Sprintf("%d %s", o.status, o.code)
}

// source dials from one loopback address.
type source struct {
	t      *testing.T
	client *http.Client
}

func from(t *testing.T, ip string) *source {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	return &source{t: t, client: &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}}
}

// open makes one handshake; an open socket is closed when the test ends.
func (s *source) open(url string, header http.Header) outcome {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: s.client, HTTPHeader: header})
	if err == nil {
		s.t.Cleanup(func() { conn.CloseNow() })
		return outcome{conn: conn, status: http.StatusSwitchingProtocols}
	}
	if resp == nil {
		s.t.Fatalf("dial: %v", err)
	}
	return outcome{status: resp.StatusCode, code: resp.Header.Get(protocol.ErrorHeader)}
}

// tally counts outcomes by their String.
type tally struct {
	mu sync.Mutex
	n  map[string]int
}

func (t *tally) add(o outcome) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.n == nil {
		t.n = map[string]int{}
	}
	t.n[o.String()]++
}

func (t *tally) get(k string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.n[k]
}

func (t *tally) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	keys := make([]string, 0, len(t.n))
	for k := range t.n {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%d", k, t.n[k])
	}
	return strings.TrimSpace(b.String())
}

// flood opens n handshakes from src, workers at a time, and tallies them;
// keep says whether admitted sockets stay open.
func flood(src *source, url string, n, workers int, keep bool) *tally {
	var out tally
	var wg sync.WaitGroup
	jobs := make(chan struct{})
	for range workers {
		wg.Go(func() {
			for range jobs {
				o := src.open(url, nil)
				if o.conn != nil && !keep {
					o.conn.CloseNow()
				}
				out.add(o)
			}
		})
	}
	for range n {
		jobs <- struct{}{}
	}
	close(jobs)
	wg.Wait()
	return &out
}

func waitConnections(t *testing.T, c counter, want int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for c.Connections() != want {
		if time.Now().After(deadline) {
			t.Fatalf("the relay holds %d connections, want %d", c.Connections(), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// deliver publishes one fragment on pub and checks that viewer gets it.
func deliver(t *testing.T, pub, viewer *wire, size int) {
	t.Helper()
	frag := randomFragments(1, size)[0]
	pub.sendFragment(1, frag)
	if _, got := viewer.readFragment(); string(got) != string(frag) {
		t.Fatal("the viewer got other bytes")
	}
}

// TestHandshakeFloodConnectionLimit: one address opens 300 WebSockets and
// keeps them; it gets RATE_LIMIT_CONNECTIONS of them, the rest are refused
// with 429 TOO_MANY_CONNECTIONS before the upgrade. A whitelisted address
// is not limited, and a publisher and viewer on another address keep
// working throughout.
func TestHandshakeFloodConnectionLimit(t *testing.T) {
	t.Parallel()
	const perAddr = 10
	url, relay := startCountedRelay(t, func(c *config.Config) {
		c.RateLimit.Enabled = true
		c.RateLimit.MaxConnections = perAddr
		c.RateLimit.Whitelist = []netip.Prefix{netip.MustParsePrefix("127.0.0.20/32")}
	})
	pub := publish(t, url, "flood/conn")
	viewer := view(t, url, "flood/conn", 0)
	base := relay.Connections()

	flooder := flood(from(t, "127.0.0.10"), url, 300, 16, true)
	t.Logf("flooder 127.0.0.10, 300 handshakes kept open: %s", flooder)
	if got := flooder.get("OK"); got != perAddr {
		t.Errorf("flooder got %d connections, want %d", got, perAddr)
	}
	if got := flooder.get("429 " + protocol.CodeTooManyConnections); got != 300-perAddr {
		t.Errorf("%d refused with TOO_MANY_CONNECTIONS, want %d", got, 300-perAddr)
	}
	deliver(t, pub, viewer, 2000)

	white := flood(from(t, "127.0.0.20"), url, 100, 16, true)
	t.Logf("whitelisted 127.0.0.20, 100 handshakes kept open: %s", white)
	if got := white.get("OK"); got != 100 {
		t.Errorf("whitelisted address got %d of 100 connections", got)
	}
	other := flood(from(t, "127.0.0.30"), url, perAddr, 4, true)
	if got := other.get("OK"); got != perAddr {
		t.Errorf("another address got %d of %d connections: %s", got, perAddr, other)
	}
	deliver(t, pub, viewer, 2000)
	held := relay.Connections()
	t.Logf("connections held: %d (publisher and viewer %d, flooder %d, whitelisted %d, other %d)",
		held, base, flooder.get("OK"), white.get("OK"), other.get("OK"))
	if want := base + perAddr + 100 + perAddr; held != want {
		t.Errorf("relay holds %d connections, want %d", held, want)
	}
	checkRefusals(t, relay, map[string]int{protocol.CodeTooManyConnections: 300 - perAddr})
}

// TestHandshakeFloodRequestRate: one address makes 400 handshakes as fast
// as it can, closing each; beyond its bucket they are refused with 429
// RATE_LIMITED. The refusals cost no connection.
func TestHandshakeFloodRequestRate(t *testing.T) {
	t.Parallel()
	const rate, burst = 20, 40
	url, relay := startCountedRelay(t, func(c *config.Config) {
		c.RateLimit.Enabled = true
		c.RateLimit.RequestsPerSecond = rate
		c.RateLimit.RequestBurst = burst
		c.RateLimit.Whitelist = []netip.Prefix{netip.MustParsePrefix("127.0.0.21/32")}
	})
	pub := publish(t, url, "flood/rate")
	viewer := view(t, url, "flood/rate", 0)
	deliver(t, pub, viewer, 2000) // the playlist has a segment

	start := time.Now()
	flooder := flood(from(t, "127.0.0.11"), url, 400, 16, false)
	elapsed := time.Since(start)
	t.Logf("flooder 127.0.0.11, 400 handshakes in %v: %s", elapsed.Round(time.Millisecond), flooder)
	admitted, limited := flooder.get("OK"), flooder.get("429 "+protocol.CodeRateLimited)
	if admitted+limited != 400 {
		t.Errorf("unexpected outcomes: %s", flooder)
	}
	// The bucket admits the burst, then the rate: never more than that
	// over the time the flood took (plus one refill in flight).
	if most := burst + int(elapsed.Seconds()*rate) + 1; admitted > most || admitted < 1 {
		t.Errorf("admitted %d handshakes, want 1 to %d", admitted, most)
	}
	if limited == 0 {
		t.Error("no handshake was refused with RATE_LIMITED")
	}
	// HLS-over-HTTP requests are limited alike.
	hls := from(t, "127.0.0.12")
	statuses := map[string]int{}
	start = time.Now()
	for range 200 {
		resp, err := hls.client.Get(playlistURL(httpBase(url), "flood/rate") + "?token=" + pullToken(t, "flood/rate"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		statuses[strconv.Itoa(resp.StatusCode)+" "+resp.Header.Get(protocol.ErrorHeader)]++
	}
	elapsed = time.Since(start)
	t.Logf("127.0.0.12, 200 HLS playlist requests in %v: %v", elapsed.Round(time.Millisecond), statuses)
	if most := burst + int(elapsed.Seconds()*rate) + 1; 200-statuses["429 "+protocol.CodeRateLimited] > most {
		t.Errorf("%d HLS requests admitted, want at most %d", 200-statuses["429 "+protocol.CodeRateLimited], most)
	}
	if statuses["429 "+protocol.CodeRateLimited] == 0 {
		t.Error("no HLS request was refused with RATE_LIMITED")
	}

	white := flood(from(t, "127.0.0.21"), url, 200, 16, false)
	t.Logf("whitelisted 127.0.0.21, 200 handshakes: %s", white)
	if got := white.get("OK"); got != 200 {
		t.Errorf("whitelisted address got %d of 200", got)
	}
	deliver(t, pub, viewer, 2000)
	waitConnections(t, relay, 2) // the publisher and the viewer
	t.Logf("connections held after the flood: %d", relay.Connections())
	checkRefusals(t, relay, map[string]int{protocol.CodeRateLimited: limited + statuses["429 "+protocol.CodeRateLimited]})
}

// TestForwardedForOnlyFromTrustedProxies: X-Forwarded-For names the client
// only on connections from TRUSTED_PROXIES; from anyone else it is ignored
// and the socket's address is counted.
func TestForwardedForOnlyFromTrustedProxies(t *testing.T) {
	t.Parallel()
	url := startRelay(t, func(c *config.Config) {
		c.RateLimit.Enabled = true
		c.RateLimit.MaxConnections = 1
		c.Access.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.50/32")}
	})
	xff := func(client string) http.Header { return http.Header{"X-Forwarded-For": {client}} }
	proxy, stranger := from(t, "127.0.0.50"), from(t, "127.0.0.60")
	for _, tc := range []struct {
		name string
		src  *source
		hdr  http.Header
		want string
	}{
		{"proxy forwards client A", proxy, xff("198.51.100.1"), "OK"},
		{"proxy forwards client A again", proxy, xff("198.51.100.1"), "429 " + protocol.CodeTooManyConnections},
		{"proxy forwards client B", proxy, xff("198.51.100.2"), "OK"},
		{"client A forges an entry before the proxy's", proxy, xff("198.51.100.9, 198.51.100.1"), "429 " + protocol.CodeTooManyConnections},
		{"stranger claims client C", stranger, xff("198.51.100.3"), "OK"},
		{"stranger claims client D", stranger, xff("198.51.100.4"), "429 " + protocol.CodeTooManyConnections},
	} {
		got := tc.src.open(url, tc.hdr)
		t.Logf("%s: %s", tc.name, got)
		if got.String() != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}

// TestOriginAllowList: a browser page of another origin cannot open the
// WebSocket (403 ORIGIN_NOT_ALLOWED); listed origins and clients that send
// no Origin (not browsers) can.
func TestOriginAllowList(t *testing.T) {
	t.Parallel()
	url := startRelay(t, func(c *config.Config) {
		c.Access.AllowedOrigins = "https://player.example.com, https://*.example.org"
	})
	publish(t, url, "origin/s")
	src := from(t, "127.0.0.1")
	for _, tc := range []struct{ origin, want string }{
		{"https://evil.example", "403 " + protocol.CodeOriginNotAllowed},
		{"https://player.example.com.evil.example", "403 " + protocol.CodeOriginNotAllowed},
		{"null", "403 " + protocol.CodeOriginNotAllowed},
		{"https://player.example.com", "OK"},
		{"https://www.example.org", "OK"},
		{"", "OK"},
	} {
		hdr := http.Header{}
		if tc.origin != "" {
			hdr.Set("Origin", tc.origin)
		}
		got := src.open(url, hdr)
		t.Logf("Origin %q: %s", tc.origin, got)
		if got.String() != tc.want {
			t.Errorf("Origin %q: %s, want %s", tc.origin, got, tc.want)
			continue
		}
		if got.conn != nil {
			// An admitted page pulls as any viewer.
			w := &wire{t: t, conn: got.conn}
			w.sendText(pullMsg("origin/s", pullToken(t, "origin/s"), 0))
			w.expectText("OK")
		}
	}
}

// TestCapacityLimits: MAX_STREAMS, MAX_VIEWERS_PER_STREAM and
// MAX_CONNECTIONS refuse with their own codes, and the node keeps serving
// what it took on.
func TestCapacityLimits(t *testing.T) {
	t.Parallel()
	url, relay := startCountedRelay(t, func(c *config.Config) {
		c.Capacity.MaxStreams = 2
		c.Capacity.MaxViewersPerStream = 2
		c.Capacity.MaxConnections = 6
	})
	pubA, pubB := publish(t, url, "cap/a"), publish(t, url, "cap/b")
	refused := dial(t, url)
	refused.sendText(pushMsg("cap/c", pushToken(t, "cap/c")))
	e := refused.expectError(protocol.CodeTooManyStreams)
	t.Logf("third PUSH: E:code=%s (%s)", e.Code, e.Message)

	a1, a2 := view(t, url, "cap/a", 0), view(t, url, "cap/a", 0)
	refused = dial(t, url)
	refused.sendText(pullMsg("cap/a", pullToken(t, "cap/a"), 0))
	e = refused.expectError(protocol.CodeTooManyViewers)
	t.Logf("third viewer of cap/a: E:code=%s (%s)", e.Code, e.Message)
	b1 := view(t, url, "cap/b", 0)

	waitConnections(t, relay, 5) // the refused ones have closed
	spare := dial(t, url)        // the sixth
	got := from(t, "127.0.0.1").open(url, nil)
	t.Logf("seventh connection: %s (held: %d)", got, relay.Connections())
	if got.String() != "503 "+protocol.CodeNodeFull {
		t.Errorf("seventh connection: %s, want 503 %s", got, protocol.CodeNodeFull)
	}
	spare.conn.CloseNow()
	waitConnections(t, relay, 5)
	if got := from(t, "127.0.0.1").open(url, nil); got.conn == nil {
		t.Errorf("after a connection closed: %s", got)
	} else {
		got.conn.CloseNow()
	}
	waitConnections(t, relay, 5)

	deliver(t, pubA, a1, 1000)
	if _, b := a2.readFragment(); len(b) != 1000 {
		t.Error("second viewer of cap/a")
	}
	deliver(t, pubB, b1, 1000)
	// A stream that ends makes room for a new one.
	pubB.sendText(protocol.TypeClose)
	pubB.expectClosed()
	b1.expectText(protocol.TypeClose)
	b1.expectClosed()
	deadline := time.Now().Add(10 * time.Second)
	for {
		w := dial(t, url)
		w.sendText(pushMsg("cap/c", pushToken(t, "cap/c")))
		if w.readText() == "OK" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no room for a new stream after one ended")
		}
		time.Sleep(20 * time.Millisecond)
	}
	checkRefusals(t, relay, map[string]int{
		protocol.CodeTooManyStreams: 1, protocol.CodeTooManyViewers: 1, protocol.CodeNodeFull: 1,
	})
}

// TestSilentConnectionsAreClosed: 2,000 WebSockets that open and never
// speak are each answered E:code=PROTOCOL_ERROR and closed at the
// first-message deadline, and the memory they held is given back; 500 TCP
// connections that never finish their HTTP request are closed at the
// handshake deadline. Not parallel, so that the memory figures are this
// test's alone.
func TestSilentConnectionsAreClosed(t *testing.T) {
	const n, rawN = 2000, 500
	const firstMessage, handshake = 8 * time.Second, 2 * time.Second
	url, relay := startCountedRelay(t, func(c *config.Config) {
		c.Limits.FirstMessageTimeout = firstMessage
		c.Limits.HandshakeTimeout = handshake
	})
	addr := strings.TrimSuffix(strings.TrimPrefix(url, "ws://"), "/")
	before := memory(t)

	// Raw TCP connections that send nothing, or half a request head (a
	// slow handshake).
	raw := make([]net.Conn, 0, rawN)
	for i := range rawN {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("raw dial: %v", err)
		}
		defer c.Close()
		if i%2 == 1 {
			if _, err := c.Write([]byte("GET / HTTP/1.1\r\nHost: relay\r\nUpgrade: websocket\r\n")); err != nil {
				t.Fatal(err)
			}
		}
		raw = append(raw, c)
	}
	rawOpened := time.Now()

	// WebSockets that complete the handshake and send nothing: raw sockets
	// with a hand-written handshake, so that the clients cost little.
	socks := make([]*silent, n)
	var wg sync.WaitGroup
	next := make(chan int)
	errs := make(chan error, n)
	for range 32 {
		wg.Go(func() {
			for i := range next {
				s, err := openSilent(addr)
				if err != nil {
					errs <- err
					continue
				}
				socks[i] = s
			}
		})
	}
	opening := time.Now()
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("open: %v", err)
	}
	for _, s := range socks {
		defer s.conn.Close()
	}
	opened := time.Since(opening)
	held := relay.Connections()
	peak := memory(t)
	t.Logf("%d silent WebSockets opened in %v; relay holds %d connections", n, opened.Round(time.Millisecond), held)
	t.Logf("memory: before %s; held %s; per connection (relay and client sides): %.1f KiB heap, %.1f KiB stacks",
		before, peak, float64(peak.heap-before.heap)/float64(held)/1024, float64(peak.stacks-before.stacks)/float64(held)/1024)
	if opened < firstMessage && held < n {
		t.Errorf("relay holds %d connections before any deadline, want %d", held, n)
	}

	// Each raw TCP connection is closed at the handshake deadline.
	rawClosed := 0
	for _, c := range raw {
		_ = c.SetReadDeadline(time.Now().Add(handshake + 10*time.Second))
		var b [1]byte
		if _, err := c.Read(b[:]); err != nil && !errors.Is(err, context.DeadlineExceeded) && !isTimeout(err) {
			rawClosed++
		}
	}
	t.Logf("raw TCP connections that sent nothing or half a request head: %d of %d closed by the relay, %v after they opened",
		rawClosed, rawN, time.Since(rawOpened).Round(time.Millisecond))
	if rawClosed != rawN {
		t.Errorf("%d of %d silent TCP connections were closed", rawClosed, rawN)
	}

	// Each WebSocket gets E:code=PROTOCOL_ERROR, then the close.
	var refusedMu sync.Mutex
	codes := map[string]int{}
	next = make(chan int)
	for range 32 {
		wg.Go(func() {
			for i := range next {
				code := socks[i].awaitError(firstMessage + 20*time.Second)
				refusedMu.Lock()
				codes[code]++
				refusedMu.Unlock()
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	t.Logf("answers to the silent WebSockets: %v", codes)
	if codes[protocol.CodeProtocol] != n {
		t.Errorf("%d of %d silent WebSockets got E:code=%s", codes[protocol.CodeProtocol], n, protocol.CodeProtocol)
	}
	checkRefusals(t, relay, map[string]int{protocol.CodeProtocol: n})
	waitConnections(t, relay, 0)
	for _, s := range socks {
		s.conn.Close()
	}
	after := memory(t)
	t.Logf("memory after they closed: %s (before: %s)", after, before)
	// Bounded: what the connections held is given back (the heap may keep
	// some slack; 16 MiB is far below the ~20 MiB that 2,000 idle
	// connections hold).
	if grown := after.heap - before.heap; grown > 16<<20 {
		t.Errorf("heap grew by %d MiB and stayed", grown>>20)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
