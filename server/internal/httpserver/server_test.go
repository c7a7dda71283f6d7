package httpserver

import (
	"bufio"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/hlsrelay/hlsrelay/server/internal/hub"
	"github.com/hlsrelay/hlsrelay/server/internal/policy"
	"github.com/hlsrelay/hlsrelay/server/internal/session"
)

type allowAll struct{}

func (allowAll) Authorize(context.Context, *policy.Request) policy.Decision { return policy.Allow }

func newServer(t *testing.T, ready func() bool) *httptest.Server {
	t.Helper()
	h := &Handler{
		WebSocketPath: "/ws",
		HealthPath:    "/healthz",
		Sessions:      session.NewManager(session.Config{Hub: hub.New(hub.Config{}), Authorizer: allowAll{}, Log: zerolog.Nop()}),
		Log:           zerolog.Nop(),
		Ready:         ready,
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func TestHTTPRoutes(t *testing.T) {
	t.Parallel()
	draining := false
	srv := newServer(t, func() bool { return !draining })
	tests := []struct {
		method, path string
		status       int
		body         string
	}{
		{"GET", "/healthz", 200, `"ok"`},
		{"GET", "/", 200, "hlsrelay"},
		{"GET", "/any/other/path", 200, "hlsrelay"},
		{"HEAD", "/", 200, ""},
		{"GET", "/ws", 200, "hlsrelay"}, // a plain GET on the WebSocket path is a health check too
		{"POST", "/", 405, "method not allowed"},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(tt.method, srv.URL+tt.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.status || !strings.Contains(string(body), tt.body) {
			t.Errorf("%s %s: %d %q, want %d containing %q", tt.method, tt.path, resp.StatusCode, body, tt.status, tt.body)
		}
	}
	draining = true
	resp, err := http.Get(srv.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("health while draining: %d", resp.StatusCode)
	}
}

// TestEarlyBytesSurviveHijack sends the handshake and the first WebSocket
// frame in one TCP write, so the frame is in net/http's buffer when the
// connection is hijacked.
func TestEarlyBytesSurviveHijack(t *testing.T) {
	t.Parallel()
	srv := newServer(t, nil)
	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	key := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef"))
	handshake := "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n\r\n"
	frame := maskedTextFrame("PULL:stream=nobody&auth=x")
	if _, err := conn.Write(append([]byte(handshake), frame...)); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	if resp.StatusCode != 101 || resp.Header.Get("Sec-WebSocket-Accept") != base64.StdEncoding.EncodeToString(sum[:]) {
		t.Fatalf("handshake: %d", resp.StatusCode)
	}
	// The relay answers the early PULL: OK, then CLOSE (unknown stream).
	for _, want := range []string{"OK", "CLOSE"} {
		if got := readTextFrame(t, br); got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
}

func maskedTextFrame(s string) []byte {
	mask := [4]byte{1, 2, 3, 4}
	f := []byte{0x81, 0x80 | byte(len(s))}
	f = append(f, mask[:]...)
	for i := 0; i < len(s); i++ {
		f = append(f, s[i]^mask[i%4])
	}
	return f
}

func readTextFrame(t *testing.T, br *bufio.Reader) string {
	t.Helper()
	var h [2]byte
	if _, err := io.ReadFull(br, h[:]); err != nil {
		t.Fatal(err)
	}
	if h[0]&0x0f != 1 || h[1]&0x7f > 125 {
		t.Fatalf("unexpected frame header %x", h)
	}
	b := make([]byte, h[1]&0x7f)
	if _, err := io.ReadFull(br, b); err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// fakeOutput handles GETs of paths ending in ".m3u8".
type fakeOutput struct{}

func (fakeOutput) Handles(r *http.Request) bool {
	return r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, ".m3u8")
}

func (fakeOutput) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	w.WriteHeader(http.StatusTeapot)
	_, _ = w.Write([]byte("output"))
}

// TestOutputRoutes: the HLS output answers what it handles; every other
// request keeps the existing answers.
func TestOutputRoutes(t *testing.T) {
	t.Parallel()
	h := &Handler{
		WebSocketPath: "/",
		HealthPath:    "/healthz",
		Sessions:      session.NewManager(session.Config{Hub: hub.New(hub.Config{}), Authorizer: allowAll{}, Log: zerolog.Nop()}),
		Log:           zerolog.Nop(),
		HLS:           fakeOutput{},
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	for _, tt := range []struct {
		method, path string
		status       int
		body         string
	}{
		{"GET", "/hls/s/index.m3u8", http.StatusTeapot, "output"},
		{"GET", "/hls/s/other", 200, "hlsrelay"},
		{"GET", "/", 200, "hlsrelay"},
		{"GET", "/healthz", 200, `"ok"`},
		{"POST", "/hls/s/index.m3u8", 405, "method not allowed"},
	} {
		req, _ := http.NewRequest(tt.method, srv.URL+tt.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.status || !strings.Contains(string(body), tt.body) {
			t.Errorf("%s %s: %d %q, want %d containing %q", tt.method, tt.path, resp.StatusCode, body, tt.status, tt.body)
		}
	}
}
