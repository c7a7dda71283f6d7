package httpserver

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/rs/zerolog"

	"github.com/hlsrelay/hlsrelay/sdk-go/protocol"
	"github.com/hlsrelay/hlsrelay/server/internal/admission"
	"github.com/hlsrelay/hlsrelay/server/internal/hub"
	"github.com/hlsrelay/hlsrelay/server/internal/session"
)

func newAdmittingServer(t *testing.T, cfg admission.Config) (*httptest.Server, *admission.Controller) {
	t.Helper()
	adm := admission.New(cfg)
	h := &Handler{
		WebSocketPath: "/ws",
		HealthPath:    "/healthz",
		Sessions:      session.NewManager(session.Config{Hub: hub.New(hub.Config{}), Authorizer: allowAll{}, Log: zerolog.Nop()}),
		Log:           zerolog.Nop(),
		HLS:           fakeOutput{},
		Admission:     adm,
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv, adm
}

// dial opens a WebSocket and returns it, or the refusal's status and code.
func dial(t *testing.T, url string, header http.Header) (*websocket.Conn, int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: header})
	if err == nil {
		return c, http.StatusSwitchingProtocols, ""
	}
	if resp == nil {
		t.Fatalf("dial: %v", err)
	}
	return nil, resp.StatusCode, resp.Header.Get(protocol.ErrorHeader)
}

func waitConnections(t *testing.T, adm *admission.Controller, want int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for adm.Connections() != want {
		if time.Now().After(deadline) {
			t.Fatalf("Connections() = %d, want %d", adm.Connections(), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestHandshakeLimits: the per-address and node limits refuse handshakes
// before the upgrade, and a closed connection gives its slot back.
func TestHandshakeLimits(t *testing.T) {
	t.Parallel()
	srv, adm := newAdmittingServer(t, admission.Config{RateLimit: true, MaxConnectionsPerAddr: 2, MaxConnections: 10})
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws"
	c1, status, _ := dial(t, url, nil)
	if c1 == nil {
		t.Fatalf("first: %d", status)
	}
	c2, status, _ := dial(t, url, nil)
	if c2 == nil {
		t.Fatalf("second: %d", status)
	}
	defer c2.CloseNow()
	if c, status, code := dial(t, url, nil); c != nil || status != http.StatusTooManyRequests || code != protocol.CodeTooManyConnections {
		t.Fatalf("third: %d %q", status, code)
	}
	waitConnections(t, adm, 2)
	// The client leaves: the relay's socket closes and the slot is free.
	c1.CloseNow()
	waitConnections(t, adm, 1)
	c3, status, _ := dial(t, url, nil)
	if c3 == nil {
		t.Fatalf("after a close: %d", status)
	}
	defer c3.CloseNow()
	// The session ends on its own (no PUSH or PULL; here: a bad one).
	_ = c3.Write(context.Background(), websocket.MessageText, []byte("HELLO"))
	for {
		// E, then the close handshake, which the client answers while
		// reading.
		if _, _, err := c3.Read(context.Background()); err != nil {
			break
		}
	}
	waitConnections(t, adm, 1)
}

func TestHandshakeRateAndOrigin(t *testing.T) {
	t.Parallel()
	srv, _ := newAdmittingServer(t, admission.Config{
		RateLimit: true, RequestsPerSecond: 1, Burst: 3,
		AllowedOrigins: []string{"https://player.example.com"},
	})
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws"
	if c, status, code := dial(t, url, http.Header{"Origin": {"https://evil.example"}}); c != nil || status != http.StatusForbidden || code != protocol.CodeOriginNotAllowed {
		t.Fatalf("other origin: %d %q", status, code)
	}
	c, status, _ := dial(t, url, http.Header{"Origin": {"https://player.example.com"}})
	if c == nil {
		t.Fatalf("allowed origin: %d", status)
	}
	c.CloseNow()
	// The HLS output shares the bucket: one token is left of 3.
	resp, err := http.Get(srv.URL + "/hls/s/index.m3u8")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTeapot {
		t.Fatalf("HLS request within the burst: %d", resp.StatusCode)
	}
	resp, err = http.Get(srv.URL + "/hls/s/index.m3u8")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get(protocol.ErrorHeader) != protocol.CodeRateLimited {
		t.Fatalf("HLS request over the rate: %d %q", resp.StatusCode, resp.Header.Get(protocol.ErrorHeader))
	}
	if c, status, code := dial(t, url, nil); c != nil || status != http.StatusTooManyRequests || code != protocol.CodeRateLimited {
		t.Fatalf("handshake over the rate: %d %q", status, code)
	}
	// Health checks are never limited.
	for range 5 {
		resp, err := http.Get(srv.URL + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("health: %d", resp.StatusCode)
		}
	}
}

// TestForwardedClient: behind a trusted proxy, the limits count the
// address the proxy forwarded.
func TestForwardedClient(t *testing.T) {
	t.Parallel()
	srv, adm := newAdmittingServer(t, admission.Config{
		RateLimit: true, MaxConnectionsPerAddr: 1,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")},
	})
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws"
	for _, client := range []string{"198.51.100.1", "198.51.100.2"} {
		c, status, _ := dial(t, url, http.Header{"X-Forwarded-For": {client}})
		if c == nil {
			t.Fatalf("%s: %d", client, status)
		}
		defer c.CloseNow()
	}
	if c, status, code := dial(t, url, http.Header{"X-Forwarded-For": {"198.51.100.1"}}); c != nil || code != protocol.CodeTooManyConnections {
		t.Fatalf("second connection of 198.51.100.1: %d %q", status, code)
	}
	if n := adm.TrackedAddrs(); n != 2 {
		t.Errorf("tracked %d addresses, want 2", n)
	}
}
