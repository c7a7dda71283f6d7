package demopage

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"testing/fstest"
)

var page = fstest.MapFS{
	"index.html":   {Data: []byte("<!doctype html><title>demo</title>")},
	"demo.js":      {Data: []byte("console.log(1)")},
	"demo.css":     {Data: []byte("body{}")},
	"README.md":    {Data: []byte("not served")},
	".gitignore":   {Data: []byte("*")},
	".hidden/x.js": {Data: []byte("no")},
}

func get(t *testing.T, h http.Handler, method, target string, header http.Header) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func body(t *testing.T, res *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestServesThePage(t *testing.T) {
	t.Parallel()
	h, err := FromFS(page)
	if err != nil {
		t.Fatal(err)
	}
	if !h.Available() {
		t.Fatal("not available with index.html")
	}
	tests := []struct {
		name, target string
		status       int
		ctype, body  string
		csp          bool
	}{
		{"index", "/demo/?stream=a&token=t", 200, "text/html; charset=utf-8", "<!doctype html><title>demo</title>", true},
		{"index by name", "/demo/index.html", 200, "text/html; charset=utf-8", "<!doctype html><title>demo</title>", true},
		{"script", "/demo/demo.js", 200, "text/javascript; charset=utf-8", "console.log(1)", false},
		{"style", "/demo/demo.css", 200, "text/css; charset=utf-8", "body{}", false},
		{"readme is not served", "/demo/README.md", 404, "", "", false},
		{"dot file is not served", "/demo/.gitignore", 404, "", "", false},
		{"dot directory is not served", "/demo/.hidden/x.js", 404, "", "", false},
		{"unknown", "/demo/nope.js", 404, "", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := get(t, h, http.MethodGet, tc.target, nil)
			if res.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", res.StatusCode, tc.status)
			}
			if tc.status != 200 {
				return
			}
			if got := res.Header.Get("Content-Type"); got != tc.ctype {
				t.Errorf("Content-Type %q, want %q", got, tc.ctype)
			}
			if got := body(t, res); got != tc.body {
				t.Errorf("body %q, want %q", got, tc.body)
			}
			if got := res.Header.Get("Referrer-Policy"); got != "no-referrer" {
				t.Errorf("Referrer-Policy %q: the token in the page's URL could leak", got)
			}
			if got := res.Header.Get("Cache-Control"); got != "no-cache" {
				t.Errorf("Cache-Control %q", got)
			}
			if csp := res.Header.Get("Content-Security-Policy"); (csp != "") != tc.csp {
				t.Errorf("Content-Security-Policy %q", csp)
			}
		})
	}
}

func TestRevalidatesWithETag(t *testing.T) {
	t.Parallel()
	h, err := FromFS(page)
	if err != nil {
		t.Fatal(err)
	}
	res := get(t, h, http.MethodGet, "/demo/demo.js", nil)
	etag := res.Header.Get("ETag")
	if !strings.HasPrefix(etag, `"`) || len(etag) < 10 {
		t.Fatalf("ETag %q", etag)
	}
	res = get(t, h, http.MethodGet, "/demo/demo.js", http.Header{"If-None-Match": {etag}})
	if res.StatusCode != http.StatusNotModified {
		t.Fatalf("status %d with a matching If-None-Match, want 304", res.StatusCode)
	}
	res = get(t, h, http.MethodHead, "/demo/demo.js", nil)
	if res.StatusCode != 200 || body(t, res) != "" {
		t.Fatalf("HEAD: status %d", res.StatusCode)
	}
}

func TestRedirectKeepsTheQuery(t *testing.T) {
	t.Parallel()
	h, err := FromFS(page)
	if err != nil {
		t.Fatal(err)
	}
	res := get(t, h, http.MethodGet, "/demo?stream=room1%2Fcam&token=abc", nil)
	if res.StatusCode != http.StatusMovedPermanently {
		t.Fatalf("status %d", res.StatusCode)
	}
	if loc := res.Header.Get("Location"); loc != "/demo/?stream=room1%2Fcam&token=abc" {
		t.Fatalf("Location %q", loc)
	}
}

func TestHandles(t *testing.T) {
	t.Parallel()
	h := &Handler{}
	tests := []struct {
		method, target string
		want           bool
	}{
		{http.MethodGet, "/demo/", true},
		{http.MethodGet, "/demo", true},
		{http.MethodHead, "/demo/demo.js", true},
		{http.MethodPost, "/demo/", false},
		{http.MethodGet, "/demonstration", false},
		{http.MethodGet, "/", false},
		{http.MethodGet, "/hls/demo/index.m3u8", false},
	}
	for _, tc := range tests {
		if got := h.Handles(httptest.NewRequest(tc.method, tc.target, nil)); got != tc.want {
			t.Errorf("%s %s: Handles = %v, want %v", tc.method, tc.target, got, tc.want)
		}
	}
}

func TestWithoutThePageSaysHowToBuildIt(t *testing.T) {
	t.Parallel()
	h, err := FromFS(fstest.MapFS{"README.md": {Data: []byte("x")}})
	if err != nil {
		t.Fatal(err)
	}
	if h.Available() {
		t.Fatal("available without index.html")
	}
	res := get(t, h, http.MethodGet, "/demo/", nil)
	if res.StatusCode != http.StatusNotFound || !strings.Contains(body(t, res), "make build") {
		t.Fatalf("status %d", res.StatusCode)
	}
}

// The embedded page is whatever the build put in site/: New works either
// way, and reports the page exactly when site/index.html exists.
func TestEmbedded(t *testing.T) {
	t.Parallel()
	_, err := os.Stat("site/index.html")
	if got, want := New().Available(), err == nil; got != want {
		t.Fatalf("Available() = %v, but site/index.html exists: %v", got, want)
	}
}
