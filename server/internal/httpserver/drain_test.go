package httpserver

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/coder/websocket"
	"github.com/rs/zerolog"

	"github.com/hlsrelay/hlsrelay/server/internal/hub"
	"github.com/hlsrelay/hlsrelay/server/internal/session"
)

// TestDrainingRefusesNewWork: while the node drains, WebSocket handshakes
// and HLS requests are answered 503 UNAVAILABLE with Connection: close;
// the health check says draining; other GETs still answer 200.
func TestDrainingRefusesNewWork(t *testing.T) {
	t.Parallel()
	draining := true
	h := &Handler{
		WebSocketPath: "/ws",
		HealthPath:    "/healthz",
		Sessions:      session.NewManager(session.Config{Hub: hub.New(hub.Config{}), Authorizer: allowAll{}, Log: zerolog.Nop()}),
		Log:           zerolog.Nop(),
		Ready:         func() bool { return !draining },
		HLS:           fakeOutput{},
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	_, resp, err := websocket.Dial(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http")+"/ws", nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("handshake while draining: %v %+v", err, resp)
	}
	if resp.Header.Get("Hlsrelay-Error") != "UNAVAILABLE" || resp.Header.Get("Retry-After") != "1" {
		t.Errorf("handshake refusal headers %v", resp.Header)
	}
	for _, tc := range []struct {
		path   string
		status int
		body   string
	}{
		{"/hls/x/index.m3u8", 503, "UNAVAILABLE"},
		{"/healthz", 503, "draining"},
		{"/other", 200, "hlsrelay"},
	} {
		resp, err := http.Get(srv.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || !strings.Contains(string(body), tc.body) {
			t.Errorf("GET %s: %d %q, want %d with %q", tc.path, resp.StatusCode, body, tc.status, tc.body)
		}
		if tc.status == 503 && tc.path != "/healthz" && !resp.Close {
			t.Errorf("GET %s: the refusal keeps the connection open", tc.path)
		}
	}

	draining = false
	conn, _, err := websocket.Dial(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http")+"/ws", nil)
	if err != nil {
		t.Fatalf("handshake when serving: %v", err)
	}
	conn.CloseNow()
}
