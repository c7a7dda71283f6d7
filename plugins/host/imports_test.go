package host

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/hlsrelay/hlsrelay/plugins/abi"
	"github.com/hlsrelay/hlsrelay/plugins/internal/testclock"
)

type mapRegistry map[string]string

func (m mapRegistry) Lookup(_ context.Context, key string) ([]byte, bool, error) {
	if key == "broken" {
		return nil, false, errors.New("connection refused")
	}
	v, ok := m[key]
	return []byte(v), ok, nil
}

func TestFields(t *testing.T) {
	t.Parallel()
	p := load(t, testRuntime(t), "probe", PluginConfig{
		Config: []byte("cfg bytes\x00\xff"), NodeID: "node-7", NodeURL: "wss://n7.example/ws",
	})
	req := &Request{Action: "PUSH", Stream: "room/cam", RemoteAddr: "198.51.100.4:1234", OnlySource: true}
	for _, tt := range []struct {
		field byte
		want  string
	}{
		{'1', "PUSH"}, {'2', "room/cam"}, {'4', "198.51.100.4:1234"}, {'5', "node-7"},
		{'6', "cfg bytes\x00\xff"}, {'7', "true"}, {'8', "wss://n7.example/ws"},
	} {
		req.Token = "F" + string(tt.field)
		d := probe(t, p, req)
		if d.Code != "FOUND" || d.Reason != strings.ToValidUTF8(tt.want, "\uFFFD") {
			t.Errorf("field %c: %+v, want FOUND %q", tt.field, d, tt.want)
		}
	}
	req.Token = "F3"
	if d := probe(t, p, req); d.Reason != "F3" {
		t.Errorf("token field: %+v", d)
	}
	for _, f := range []string{"F0", "F9"} {
		req.Token = f
		if d := probe(t, p, req); d.Code != "ABSENT" {
			t.Errorf("%s: %+v, want ABSENT", f, d)
		}
	}
}

func TestHeadersAndQuery(t *testing.T) {
	t.Parallel()
	p := load(t, testRuntime(t), "probe", PluginConfig{})
	req := pull("s", "")
	req.Header = http.Header{"X-Forwarded-For": {"203.0.113.9", "second"}, "raw-key": {"raw"}}
	req.Query = url.Values{"auth": {"tok"}, "Case": {"sensitive"}, "empty": {""}}
	for _, tt := range []struct{ token, code, reason string }{
		{"Hx-forwarded-for", "FOUND", "203.0.113.9"},
		{"HX-FORWARDED-FOR", "FOUND", "203.0.113.9"},
		{"HRaw-Key", "FOUND", "raw"},
		{"HUser-Agent", "ABSENT", ""},
		{"Qauth", "FOUND", "tok"},
		{"QCase", "FOUND", "sensitive"},
		{"Qcase", "ABSENT", ""},
		{"Qempty", "FOUND", ""},
	} {
		req.Token = tt.token
		if d := probe(t, p, req); d.Code != tt.code || d.Reason != tt.reason {
			t.Errorf("%s: %+v, want %s %q", tt.token, d, tt.code, tt.reason)
		}
	}
	// Without headers or query, every name is absent.
	for _, tok := range []string{"Hx", "Qx"} {
		if d := probe(t, p, pull("s", tok)); d.Code != "ABSENT" {
			t.Errorf("%s without headers: %+v", tok, d)
		}
	}
}

func TestDecisions(t *testing.T) {
	t.Parallel()
	p := load(t, testRuntime(t), "probe", PluginConfig{})
	long := strings.Repeat("é", 600) // 1200 bytes
	for _, tt := range []struct {
		name, token, reason string
		want                Decision
	}{
		{"allow", "", "", Decision{Allowed: true}},
		{"valid code", "DNO_SUCH_STREAM_9", "why", Decision{Code: "NO_SUCH_STREAM_9", Reason: "why"}},
		{"lower case code", "Dforbidden", "x", Decision{Code: "AUTH_ERROR", Reason: "x"}},
		{"empty code", "D", "x", Decision{Code: "AUTH_ERROR", Reason: "x"}},
		{"long code", "D" + strings.Repeat("A", 65), "", Decision{Code: "AUTH_ERROR"}},
		{"64 code", "D" + strings.Repeat("A", 64), "", Decision{Code: strings.Repeat("A", 64)}},
		{"long reason cut at a rune", "DX", long, Decision{Code: "X", Reason: long[:1024]}},
		{"invalid utf-8", "DX", "a\xffb", Decision{Code: "X", Reason: "a\uFFFDb"}},
		{"no decision", "N", "", Decision{Code: "AUTH_ERROR", Reason: noDecisionReason}},
		{"last wins", "W", "", Decision{Allowed: true}},
	} {
		req := pull("s", tt.token)
		req.Query = url.Values{"reason": {tt.reason}}
		d := probe(t, p, req)
		if d != tt.want {
			t.Errorf("%s: got %+v, want %+v", tt.name, d, tt.want)
		}
		if !utf8.ValidString(d.Reason) || len(d.Reason) > abi.MaxReasonLen {
			t.Errorf("%s: reason not valid or too long", tt.name)
		}
	}
}

func TestText(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in   string
		max  int
		want string
	}{
		{"abc", 3, "abc"},
		{"abcd", 3, "abc"},
		{"aé", 2, "a"},
		{"\xff\xff\xff", 2, "\uFFFD"[:0]},
		{"a\xffb", 10, "a\uFFFDb"},
	} {
		if got := text([]byte(tt.in), tt.max); got != tt.want || len(got) > tt.max {
			t.Errorf("text(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
	}
}

func TestRoute(t *testing.T) {
	t.Parallel()
	p := load(t, testRuntime(t), "probe", PluginConfig{})
	ctx := context.Background()
	d, err := p.Route(ctx, pull("s", ""))
	if err != nil || len(d.Sources) != 2 || d.Sources[0].Kind != abi.RouteLocal || d.Sources[1].Kind != abi.RouteRegistry {
		t.Fatalf("default route: %+v, %v", d, err)
	}
	d, err = p.Route(ctx, pull("s", "uwss://edge.example:443/ws"))
	if err != nil || len(d.Sources) != 2 || d.Sources[1] != (Source{Kind: abi.RouteUpstream, URL: "wss://edge.example:443/ws"}) {
		t.Fatalf("upstream: %+v, %v", d, err)
	}
	d, err = p.Route(ctx, pull("s", "rGONE"))
	if err != nil || !d.Rejected || d.Code != "GONE" || d.Reason != "no" || d.Sources != nil {
		t.Fatalf("reject: %+v, %v", d, err)
	}
	for _, tt := range []struct{ token, want string }{
		{"n", "more than 8 route sources"},
		{"uhttp://x/", "not a ws:// or wss:// URL"},
		{"uws://", "not a ws:// or wss:// URL"},
		{"uws://a b", "not a ws:// or wss:// URL"},
		{"uws://" + strings.Repeat("a", 2048), "over 2048"},
		{"x", "hlsrelay_route returned 1 (not 0)"},
		{"A", "decision_allow called during hlsrelay_route"},
	} {
		_, err := p.Route(ctx, pull("s", tt.token))
		var ce *CallError
		if !errors.As(err, &ce) || ce.Kind != FailBadResult || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%.20s: %v, want bad result %q", tt.token, err, tt.want)
		}
	}
	if _, err := p.Route(ctx, pull("s", "")); err != nil {
		t.Fatalf("after failures: %v", err)
	}
	if _, err := p.Authorize(ctx, pull("s", "a")); err == nil || !strings.Contains(err.Error(), "route import called during hlsrelay_authorize") {
		t.Fatalf("route import during authorize: %v", err)
	}
}

func TestRegistryLookup(t *testing.T) {
	t.Parallel()
	r := testRuntime(t)
	reg := mapRegistry{"stream:a": "node-1", "other:b": "x", "stream:long": strings.Repeat("v", 9000)}
	p := load(t, r, "probe", PluginConfig{Registry: reg, RegistryPrefixes: []string{"stream:", "broken"}})
	for _, tt := range []struct{ token, code, reason string }{
		{"Rstream:a", "FOUND", "node-1"},
		{"Rstream:zzz", "ABSENT", ""},
		{"Rother:b", "DENIED", ""},
		{"Rbroken", "UNAVAILABLE", ""},
		{"Rstream:long", "FOUND", strings.Repeat("\x00", 8192)}, // too long: nothing copied
	} {
		d := probe(t, p, pull("s", tt.token))
		if d.Code != tt.code || (tt.code == "FOUND" && tt.token != "Rstream:long" && d.Reason != tt.reason) {
			t.Errorf("%s: %+v, want %s %q", tt.token, d, tt.code, tt.reason)
		}
	}
	none := load(t, r, "probe", PluginConfig{RegistryPrefixes: []string{""}})
	if d := probe(t, none, pull("s", "Rstream:a")); d.Code != "UNAVAILABLE" {
		t.Errorf("no registry: %+v", d)
	}
	closed := load(t, r, "probe", PluginConfig{Registry: reg})
	if d := probe(t, closed, pull("s", "Rstream:a")); d.Code != "DENIED" {
		t.Errorf("no prefixes: %+v", d)
	}
}

// slowRegistry honours its context: the look-up ends at the earlier of
// the registry timeout and the call deadline.
type slowRegistry struct{ got chan time.Duration }

func (s slowRegistry) Lookup(ctx context.Context, _ string) ([]byte, bool, error) {
	start := time.Now()
	<-ctx.Done()
	s.got <- time.Since(start)
	return nil, false, ctx.Err()
}

func TestRegistryTimeout(t *testing.T) {
	t.Parallel()
	reg := slowRegistry{got: make(chan time.Duration, 4)}
	p := load(t, testRuntime(t), "probe", PluginConfig{
		Registry: reg, RegistryPrefixes: []string{""}, RegistryTimeout: 20 * time.Millisecond, CallTimeout: time.Second,
	})
	if d := probe(t, p, pull("s", "Rk")); d.Code != "UNAVAILABLE" {
		t.Fatalf("%+v", d)
	}
	if got := <-reg.got; got < 15*time.Millisecond || got > 500*time.Millisecond {
		t.Fatalf("look-up took %v, want about 20ms", got)
	}
}

func TestTimeAndClockHook(t *testing.T) {
	t.Parallel()
	r := testRuntime(t)
	p := load(t, r, "probe", PluginConfig{})
	before := time.Now().UnixMilli()
	d := probe(t, p, pull("s", "T"))
	ms, err := strconv.ParseInt(d.Reason, 10, 64)
	if err != nil || ms < before || ms > time.Now().UnixMilli() {
		t.Fatalf("time_now_ms = %q (%v), want about %d", d.Reason, err, before)
	}
	fixed := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	ctx := testclock.With(context.Background(), func() time.Time { return fixed })
	fp, err := r.Load(ctx, PluginConfig{Name: "probe", Wasm: fixture(t, "probe"), Role: RoleAuthorize})
	if err != nil {
		t.Fatal(err)
	}
	defer fp.Close(ctx)
	if d := probe(t, fp, pull("s", "T")); d.Reason != strconv.FormatInt(fixed.UnixMilli(), 10) {
		t.Fatalf("fake clock: %q", d.Reason)
	}
}

func TestLog(t *testing.T) {
	t.Parallel()
	var l logs
	p := load(t, testRuntime(t), "probe", PluginConfig{Log: l.log})
	probe(t, p, pull("s", "lhello "+strings.Repeat("x", 2000)))
	probe(t, p, pull("s", "w"))
	got := l.all()
	if len(got) != 3 || got[0].level != abi.LogInfo || len(got[0].msg) != abi.MaxLogLen ||
		got[1] != (logLineRec{abi.LogDebug, "hello"}) || got[2] != (logLineRec{abi.LogDebug, "world"}) {
		t.Fatalf("log lines: %+v", got)
	}
	probe(t, p, pull("s", "M")) // 200 lines: about 100 pass the rate limit
	n := len(l.all()) - 3
	dropped := p.Stats().LogDropped
	if n < 90 || n > 110 || uint64(n)+dropped != 200 {
		t.Fatalf("rate limit: %d lines logged, %d dropped", n, dropped)
	}
}

func TestReactorInitialize(t *testing.T) {
	t.Parallel()
	p := load(t, testRuntime(t), "probe", PluginConfig{})
	if d := probe(t, p, pull("s", "I")); d.Code != "READY" {
		t.Fatalf("_initialize not called: %+v", d)
	}
}

func TestDecisionCache(t *testing.T) {
	t.Parallel()
	r := testRuntime(t)
	p := load(t, r, "probe", PluginConfig{MaxCacheTTL: 10 * time.Second})
	ctx := context.Background()
	d1, _ := p.Authorize(ctx, pull("s", "C"))
	d2, _ := p.Authorize(ctx, pull("s", "C"))
	if !d1.Allowed || d1.Cached || d1.CacheTTL != 10*time.Second || !d2.Allowed || !d2.Cached {
		t.Fatalf("first %+v, second %+v", d1, d2)
	}
	if s := p.Stats(); s.Calls != 1 || s.CacheHits != 1 {
		t.Fatalf("stats %+v", s)
	}
	// Other key, not cached; a plugin that does not ask is not cached.
	if d, _ := p.Authorize(ctx, pull("other", "C")); d.Cached {
		t.Fatal("cached across streams")
	}
	probe(t, p, pull("s", ""))
	if d := probe(t, p, pull("s", "")); d.Cached {
		t.Fatal("cached without decision_cache")
	}
	// Denials are cached too, for the plugin's TTL (1 s) when shorter.
	if d := probe(t, p, pull("s", "c")); d.Allowed || d.CacheTTL != time.Second {
		t.Fatalf("deny: %+v", d)
	}
	// Disabled cache.
	off := load(t, r, "probe", PluginConfig{})
	probe(t, off, pull("s", "C"))
	if d := probe(t, off, pull("s", "C")); d.Cached || d.CacheTTL != 0 {
		t.Fatalf("disabled cache: %+v", d)
	}
}

func TestDecisionCacheBounds(t *testing.T) {
	t.Parallel()
	c := newDecisionCache(3)
	now := time.Now()
	for i := range 5 {
		c.put(pull(strconv.Itoa(i), ""), Decision{Allowed: true, CacheTTL: time.Minute}, now)
	}
	if c.len() != 3 {
		t.Fatalf("len %d, want 3", c.len())
	}
	for i := range 5 {
		_, ok := c.get(pull(strconv.Itoa(i), ""), now)
		if ok != (i >= 2) {
			t.Errorf("entry %d present = %v", i, ok)
		}
	}
	if _, ok := c.get(pull("4", ""), now.Add(time.Minute)); ok {
		t.Error("expired entry returned")
	}
	// Re-putting a key keeps one entry, and its old ring slot does not
	// evict the new one.
	c = newDecisionCache(2)
	c.put(pull("a", ""), Decision{CacheTTL: time.Minute}, now)
	c.put(pull("a", ""), Decision{CacheTTL: time.Minute}, now)
	c.put(pull("b", ""), Decision{CacheTTL: time.Minute}, now)
	if _, ok := c.get(pull("a", ""), now); !ok {
		t.Error("re-put entry evicted by its own stale slot")
	}
}
