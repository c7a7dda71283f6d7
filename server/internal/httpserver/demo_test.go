package httpserver

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/rs/zerolog"

	"github.com/hlsrelay/hlsrelay/server/internal/demopage"
	"github.com/hlsrelay/hlsrelay/server/internal/hub"
	"github.com/hlsrelay/hlsrelay/server/internal/session"
)

// TestDemoRoutes: with the demo page attached, /demo/ is the page and every
// other request keeps its answer; without it, /demo/ is the plain 200.
func TestDemoRoutes(t *testing.T) {
	t.Parallel()
	page, err := demopage.FromFS(fstest.MapFS{"index.html": {Data: []byte("<title>player</title>")}})
	if err != nil {
		t.Fatal(err)
	}
	newHandler := func(demo Output) *Handler {
		return &Handler{
			WebSocketPath: "/",
			HealthPath:    "/healthz",
			Sessions:      session.NewManager(session.Config{Hub: hub.New(hub.Config{}), Authorizer: allowAll{}, Log: zerolog.Nop()}),
			Log:           zerolog.Nop(),
			HLS:           fakeOutput{},
			Demo:          demo,
		}
	}
	with := httptest.NewServer(newHandler(page))
	t.Cleanup(with.Close)
	without := httptest.NewServer(newHandler(nil))
	t.Cleanup(without.Close)
	for _, tt := range []struct {
		srv          *httptest.Server
		method, path string
		status       int
		body         string
	}{
		{with, "GET", "/demo/?stream=s&token=t", 200, "<title>player</title>"},
		{with, "HEAD", "/demo/", 200, ""},
		{with, "GET", "/demo/missing.js", 404, "not found"},
		{with, "GET", "/", 200, "hlsrelay"},
		{with, "GET", "/healthz", 200, `"ok"`},
		{with, "GET", "/hls/s/index.m3u8", http.StatusTeapot, "output"},
		{with, "POST", "/demo/", 405, "method not allowed"},
		{without, "GET", "/demo/", 200, "hlsrelay"},
	} {
		req, _ := http.NewRequest(tt.method, tt.srv.URL+tt.path, nil)
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
