package hlshttp

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/rs/zerolog"

	"github.com/hlsrelay/hlsrelay/sdk-go/protocol"
	"github.com/hlsrelay/hlsrelay/sdk-go/token"
	"github.com/hlsrelay/hlsrelay/server/internal/hlshttp/hlscheck"
	"github.com/hlsrelay/hlsrelay/server/internal/hub"
	"github.com/hlsrelay/hlsrelay/server/internal/policy"
)

const pullSecret = "pull-secret-for-hls-tests"

// syncBuffer collects log lines from concurrent requests.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// countingLocator is LocalLocator that counts its calls.
type countingLocator struct {
	LocalLocator
	calls atomic.Int64
}

func (l *countingLocator) Locate(ctx context.Context, req *policy.Request) (*hub.Stream, error) {
	l.calls.Add(1)
	return l.LocalLocator.Locate(ctx, req)
}

type fixture struct {
	t       *testing.T
	hub     *hub.Hub
	h       *Handler
	srv     *httptest.Server
	logs    *syncBuffer
	locator *countingLocator
}

// newFixture serves a hub through a Handler with the documented token check.
func newFixture(t *testing.T, mutate func(*Config)) *fixture {
	t.Helper()
	f := &fixture{t: t, hub: hub.New(hub.Config{RingLength: 5}), logs: &syncBuffer{}}
	f.locator = &countingLocator{LocalLocator: LocalLocator{Hub: f.hub}}
	cfg := Config{
		Authorizer:  &policy.JWT{PullSecret: pullSecret},
		Locator:     f.locator,
		CORSOrigins: []string{"*"},
		Log:         zerolog.New(f.logs).Level(zerolog.DebugLevel),
		LogRequests: true,
	}
	if mutate != nil {
		mutate(&cfg)
	}
	f.h = New(cfg)
	f.srv = httptest.NewServer(f.h)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fixture) publish(stream string) *hub.Publication {
	f.t.Helper()
	pub, err := f.hub.Publish(stream, hub.PublishOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	return pub
}

func (f *fixture) appendN(pub *hub.Publication, n int) {
	f.t.Helper()
	for range n {
		if _, ok := pub.Append(hub.Input{Duration: 1, Data: []byte("fragment bytes")}); !ok {
			f.t.Fatal("append dropped")
		}
	}
}

type response struct {
	status int
	header http.Header
	body   string
}

// get requests path (with its query) from the handler; header is
// name, value pairs.
func (f *fixture) get(path string, header ...string) response {
	f.t.Helper()
	return f.do(http.MethodGet, path, header...)
}

func (f *fixture) do(method, path string, header ...string) response {
	f.t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: string(body)}
}

func pullToken(t *testing.T, stream string) string {
	t.Helper()
	tok, err := token.Sign([]byte(pullSecret), token.Pull, stream, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func signed(t *testing.T, secret string, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// segmentURIs returns the segment URIs of a playlist.
func segmentURIs(t *testing.T, playlist string) []string {
	t.Helper()
	p, err := hlscheck.Parse([]byte(playlist))
	if err != nil {
		t.Fatalf("%v\n%s", err, playlist)
	}
	var out []string
	for _, s := range p.Segments {
		out = append(out, s.URI)
	}
	return out
}

const stream = "room1/cam/1280x720-30~2000"

func TestAuthorization(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	pub := f.publish(stream)
	f.appendN(pub, 2)
	f.publish("room2/cam")
	good := pullToken(t, stream)
	epoch := pub.Epoch()
	future := time.Now().Add(time.Hour).Unix()
	bad := map[string]string{
		"wrong secret":     signed(t, "not-the-secret", jwt.MapClaims{"sub": "PULL:" + stream, "exp": future}),
		"another stream":   pullToken(t, "room2/cam"),
		"expired":          signed(t, pullSecret, jwt.MapClaims{"sub": "PULL:" + stream, "exp": time.Now().Add(-time.Minute).Unix()}),
		"a PUSH token":     signed(t, pullSecret, jwt.MapClaims{"sub": "PUSH:" + stream, "exp": future}),
		"garbage":          "not.a.jwt",
		"without exp":      signed(t, pullSecret, jwt.MapClaims{"sub": "PULL:" + stream}),
		"alg none-ish sig": good[:strings.LastIndexByte(good, '.')+1],
	}
	playlist := "/hls/" + stream + "/index.m3u8"
	segment := func(tok string) string { return "/hls/" + stream + "/" + epoch + "/" + tok + "/1.ts" }

	// No token at all: 401 with a challenge, for the playlist and a segment.
	for _, path := range []string{playlist, segment("-")} {
		r := f.get(path)
		if r.status != http.StatusUnauthorized || r.header.Get("WWW-Authenticate") == "" || !strings.Contains(r.body, "token is required") {
			t.Errorf("%s without token: %d %q %v", path, r.status, r.body, r.header)
		}
	}
	for name, tok := range bad {
		for _, r := range []response{
			f.get(playlist + "?token=" + tok),
			f.get(playlist, "Authorization", "Bearer "+tok),
			f.get(segment(tok)),
			f.get(segment("-"), "Authorization", "Bearer "+tok),
		} {
			if r.status != http.StatusForbidden || !strings.Contains(r.body, "invalid token") {
				t.Errorf("%s: %d %q, want 403 naming the problem", name, r.status, r.body)
			}
			if strings.Contains(r.body, tok) || r.header.Get("Cache-Control") != "no-store" {
				t.Errorf("%s: the refusal leaks the token or is cacheable: %q %v", name, r.body, r.header)
			}
		}
	}

	// A good token in the query: segment URIs carry it in their path.
	r := f.get(playlist + "?token=" + good)
	if r.status != http.StatusOK {
		t.Fatalf("good token in the query: %d %q", r.status, r.body)
	}
	uris := segmentURIs(t, r.body)
	if want := epoch + "/" + good + "/0.ts"; uris[0] != want {
		t.Errorf("segment URI %q, want %q", uris[0], want)
	}
	// The player drops the query string: the path's token is enough.
	if seg := f.get("/hls/" + stream + "/" + uris[1]); seg.status != http.StatusOK || seg.body != "fragment bytes" {
		t.Errorf("segment by its URI: %d %q", seg.status, seg.body)
	}
	if !strings.HasPrefix(r.header.Get("Cache-Control"), "public") {
		t.Errorf("playlist with the token in its URL: Cache-Control %q", r.header.Get("Cache-Control"))
	}

	// A good Bearer token: URIs carry no token, responses are private.
	r = f.get(playlist, "Authorization", "Bearer "+good)
	if r.status != http.StatusOK {
		t.Fatalf("good Bearer token: %d %q", r.status, r.body)
	}
	uris = segmentURIs(t, r.body)
	if want := epoch + "/-/0.ts"; uris[0] != want {
		t.Errorf("segment URI %q, want %q", uris[0], want)
	}
	if !strings.HasPrefix(r.header.Get("Cache-Control"), "private") {
		t.Errorf("Bearer playlist: Cache-Control %q", r.header.Get("Cache-Control"))
	}
	seg := f.get("/hls/"+stream+"/"+uris[0], "authorization", "bearer "+good)
	if seg.status != http.StatusOK || !strings.HasPrefix(seg.header.Get("Cache-Control"), "private") {
		t.Errorf("Bearer segment: %d %v", seg.status, seg.header)
	}

	// A token in a segment path is checked like any other.
	if r := f.get(segment(pullToken(t, "room2/cam"))); r.status != http.StatusForbidden {
		t.Errorf("segment with another stream's token in its path: %d", r.status)
	}
	// Nothing that was sent as a token reaches the log.
	logs := f.logs.String()
	for name, tok := range bad {
		if strings.Contains(logs, tok) {
			t.Errorf("the log contains the %s token", name)
		}
	}
	if strings.Contains(logs, good) || !strings.Contains(logs, `"stream":"room1/cam/1280x720-30~2000"`) {
		t.Errorf("log: token leaked or stream missing:\n%s", logs)
	}
}

// refusing is an Authorizer with a fixed answer.
type refusing struct{ d policy.Decision }

func (r refusing) Authorize(context.Context, *policy.Request) policy.Decision { return r.d }

func TestAuthorizerFailureIs503(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *Config) {
		c.Authorizer = refusing{policy.Decision{Code: protocol.CodeUnavailable, Reason: "plugin trapped"}}
	})
	r := f.get("/hls/s/index.m3u8?token=x")
	if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") == "" {
		t.Errorf("%d %v", r.status, r.header)
	}
}

// failingLocator returns a fixed error.
type failingLocator struct{ err error }

func (l failingLocator) Locate(context.Context, *policy.Request) (*hub.Stream, error) {
	return nil, l.err
}

func TestLocatorErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err    error
		status int
	}{
		{hub.ErrNotFound, http.StatusNotFound},
		{&protocol.Error{Code: protocol.CodeAuth, Message: "route refused"}, http.StatusForbidden},
		{errors.New("upstream unreachable"), http.StatusServiceUnavailable},
	} {
		f := newFixture(t, func(c *Config) { c.Locator = failingLocator{tc.err} })
		tok := pullToken(t, "s")
		for _, path := range []string{"/hls/s/index.m3u8?token=" + tok, "/hls/s/e/" + tok + "/1.ts"} {
			if r := f.get(path); r.status != tc.status {
				t.Errorf("%v: %s answered %d, want %d", tc.err, path[:12], r.status, tc.status)
			}
		}
	}
}

func TestLocateOnEveryRequest(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *Config) { c.Authorizer = &policy.JWT{} }) // no secret: all allowed
	pub := f.publish("s")
	f.appendN(pub, 1)
	f.get("/hls/s/index.m3u8")
	f.get("/hls/s/" + pub.Epoch() + "/-/0.ts")
	f.get("/hls/s/" + pub.Epoch() + "/-/0.ts")
	if got := f.locator.calls.Load(); got != 3 {
		t.Errorf("Locate called %d times for 3 requests", got)
	}
}

func TestSegments(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *Config) { c.Authorizer = &policy.JWT{} })
	pub := f.publish("s")
	data := bytes.Repeat([]byte("0123456789"), 100)
	for range 7 {
		pub.Append(hub.Input{Duration: 1, Data: data})
	}
	epoch := pub.Epoch()
	seg := "/hls/s/" + epoch + "/-/"

	r := f.get(seg + "6.ts")
	if r.status != http.StatusOK || r.body != string(data) {
		t.Fatalf("segment: %d, %d bytes", r.status, len(r.body))
	}
	for name, want := range map[string]string{
		"Content-Type":                "video/mp2t",
		"Cache-Control":               "public, max-age=31536000, immutable",
		"Content-Length":              "1000",
		"Access-Control-Allow-Origin": "*",
		"ETag":                        `"` + epoch + `-6"`,
	} {
		if got := r.header.Get(name); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	// Evicted (the ring holds 5), not yet published, another epoch.
	for _, path := range []string{seg + "1.ts", seg + "7.ts", "/hls/s/0123456789/-/6.ts"} {
		if r := f.get(path); r.status != http.StatusNotFound || r.header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: %d %q", path, r.status, r.header.Get("Cache-Control"))
		}
	}
	// HEAD, a range, revalidation.
	if r := f.do(http.MethodHead, seg+"6.ts"); r.status != http.StatusOK || r.body != "" || r.header.Get("Content-Length") != "1000" {
		t.Errorf("HEAD: %d %q %v", r.status, r.body, r.header)
	}
	if r := f.get(seg+"6.ts", "Range", "bytes=10-19"); r.status != http.StatusPartialContent || r.body != "0123456789" {
		t.Errorf("range: %d %q", r.status, r.body)
	}
	if r := f.get(seg+"6.ts", "If-None-Match", `"`+epoch+`-6"`); r.status != http.StatusNotModified {
		t.Errorf("If-None-Match: %d", r.status)
	}
	// A new instance of the stream: the old URLs are gone.
	pub.End()
	pub2 := f.publish("s")
	f.appendN(pub2, 7)
	if r := f.get(seg + "6.ts"); r.status != http.StatusNotFound {
		t.Errorf("segment of the ended instance: %d", r.status)
	}
	if r := f.get("/hls/s/" + pub2.Epoch() + "/-/6.ts"); r.status != http.StatusOK {
		t.Errorf("segment of the new instance: %d", r.status)
	}
}

func TestPlaylistHeaders(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *Config) { c.Authorizer = &policy.JWT{} })
	f.appendN(f.publish("s"), 2)
	r := f.get("/hls/s/index.m3u8")
	if r.status != http.StatusOK {
		t.Fatal(r.status, r.body)
	}
	if got := r.header.Get("Content-Type"); got != "application/vnd.apple.mpegurl" {
		t.Errorf("Content-Type %q", got)
	}
	if got := r.header.Get("Cache-Control"); got != "public, max-age=1" {
		t.Errorf("Cache-Control %q", got)
	}
	if r := f.get("/hls/s/index.m3u8?_HLS_msn=1"); r.header.Get("Cache-Control") != "public, max-age=1" || r.status != http.StatusOK {
		t.Errorf("blocking request: %d %q", r.status, r.header.Get("Cache-Control"))
	}
	if r := f.get("/hls/nobody/index.m3u8"); r.status != http.StatusNotFound {
		t.Errorf("unknown stream: %d", r.status)
	}
}

func TestCORS(t *testing.T) {
	t.Parallel()
	list := newFixture(t, func(c *Config) {
		c.Authorizer = &policy.JWT{}
		c.CORSOrigins = []string{"https://player.example.com", "http://localhost:8080"}
	})
	list.appendN(list.publish("s"), 1)
	r := list.get("/hls/s/index.m3u8", "Origin", "https://player.example.com")
	if r.header.Get("Access-Control-Allow-Origin") != "https://player.example.com" || r.header.Get("Vary") != "Origin" {
		t.Errorf("allowed origin: %v", r.header)
	}
	r = list.get("/hls/s/index.m3u8", "Origin", "https://evil.example")
	if r.header.Get("Access-Control-Allow-Origin") != "" || r.header.Get("Vary") != "Origin" {
		t.Errorf("other origin: %v", r.header)
	}
	pre := list.do(http.MethodOptions, "/hls/s/index.m3u8", "Origin", "http://localhost:8080", "Access-Control-Request-Headers", "authorization")
	if pre.status != http.StatusNoContent || !strings.Contains(pre.header.Get("Access-Control-Allow-Headers"), "Authorization") ||
		pre.header.Get("Access-Control-Allow-Origin") != "http://localhost:8080" {
		t.Errorf("preflight: %d %v", pre.status, pre.header)
	}

	none := newFixture(t, func(c *Config) { c.Authorizer = &policy.JWT{}; c.CORSOrigins = nil })
	none.appendN(none.publish("s"), 1)
	r = none.get("/hls/s/index.m3u8", "Origin", "https://player.example.com")
	if r.header.Get("Access-Control-Allow-Origin") != "" || r.status != http.StatusOK {
		t.Errorf("CORS off: %d %v", r.status, r.header)
	}
	// Errors carry CORS headers too, so a page can read why it was refused.
	any := newFixture(t, nil)
	if r := any.get("/hls/s/index.m3u8"); r.status != http.StatusUnauthorized || r.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("refusal: %d %v", r.status, r.header)
	}
}

func TestBadRequests(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *Config) { c.Authorizer = &policy.JWT{} })
	f.appendN(f.publish("s"), 2)
	for _, tc := range []struct {
		path   string
		status int
	}{
		{"/hls/" + strings.Repeat("a/", 8200) + "index.m3u8", http.StatusRequestURITooLong},
		{"/hls/s/index.m3u8?x=" + strings.Repeat("a", 9000), http.StatusRequestURITooLong},
		{"/hls/s/index.m3u8?token=" + strings.Repeat("a", 2100), http.StatusBadRequest},
		{"/hls/s/index.m3u8?a=%zz", http.StatusBadRequest},
		{"/hls/s/index.m3u8?_HLS_msn=x", http.StatusBadRequest},
		{"/hls/s/index.m3u8?_HLS_msn=-1", http.StatusBadRequest},
		{"/hls/s/index.m3u8?_HLS_part=0", http.StatusBadRequest},
		{"/hls/s/index.m3u8?_HLS_msn=1&_HLS_part=x", http.StatusBadRequest},
		{"/hls/s/index.m3u8?_HLS_msn=1&_HLS_part=3", http.StatusOK}, // no parts: ignored
		{"/hls/s/index.m3u8?_HLS_msn=1&_HLS_skip=YES", http.StatusOK},
		{"/hls/s/e/-/01.ts", http.StatusBadRequest},
	} {
		if r := f.get(tc.path); r.status != tc.status {
			t.Errorf("%.60s: %d %q, want %d", tc.path, r.status, r.body, tc.status)
		}
	}
}

func TestHandles(t *testing.T) {
	t.Parallel()
	h := New(Config{Prefix: "/live"})
	if h.Prefix() != "/live/" {
		t.Errorf("prefix %q", h.Prefix())
	}
	for _, tc := range []struct {
		method, target string
		want           bool
	}{
		{"GET", "/live/s/index.m3u8", true},
		{"HEAD", "/live/s/e/-/1.ts", true},
		{"OPTIONS", "/live/s/index.m3u8", true},
		{"POST", "/live/s/index.m3u8", false},
		{"GET", "/live/", false},
		{"GET", "/hls/s/index.m3u8", false},
		{"GET", "/", false},
	} {
		r := httptest.NewRequest(tc.method, tc.target, nil)
		if got := h.Handles(r); got != tc.want {
			t.Errorf("%s %s: %v", tc.method, tc.target, got)
		}
	}
}
