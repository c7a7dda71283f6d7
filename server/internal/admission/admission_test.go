package admission

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	dto "github.com/prometheus/client_model/go"

	"github.com/hlsrelay/hlsrelay/sdk-go/protocol"
	"github.com/hlsrelay/hlsrelay/server/internal/metrics"
)

func handshake(origin string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "http://relay.example.net/", nil)
	if origin != "" {
		r.Header.Set("Origin", origin)
	}
	return r
}

func TestHandshakeRefusals(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	clk := newClock()
	c := New(Config{
		RateLimit: true, RequestsPerSecond: 3, MaxConnectionsPerAddr: 2,
		Whitelist:      []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")},
		MaxConnections: 4, AllowedOrigins: []string{"https://player.example.com"},
		Metrics: m, now: clk.Now,
	})
	a, b := addr("198.51.100.1"), addr("198.51.100.2")
	refused := func(r *Refusal) string {
		if r == nil {
			return ""
		}
		return r.Code
	}

	// Two connections from a; the third is over its connection limit.
	rel1, r := c.Handshake(handshake("https://player.example.com"), a)
	if r != nil {
		t.Fatal(r)
	}
	if _, r := c.Handshake(handshake(""), a); r != nil {
		t.Fatal(r)
	}
	if _, r := c.Handshake(handshake(""), a); refused(r) != protocol.CodeTooManyConnections || r.Status != 429 {
		t.Fatalf("third connection of a: %+v", r)
	}
	// Its fourth request this second is over the rate.
	if _, r := c.Handshake(handshake(""), a); refused(r) != protocol.CodeRateLimited || r.Status != 429 {
		t.Fatalf("fourth request of a: %+v", r)
	}
	// A page of another origin.
	if _, r := c.Handshake(handshake("https://evil.example"), b); refused(r) != protocol.CodeOriginNotAllowed || r.Status != 403 {
		t.Fatalf("other origin: %+v", r)
	}
	// The node takes two more connections, then is full; whitelisted
	// addresses count towards the node's bound too.
	if _, r := c.Handshake(handshake(""), b); r != nil {
		t.Fatal(r)
	}
	if _, r := c.Handshake(handshake(""), addr("192.0.2.1")); r != nil {
		t.Fatal(r)
	}
	if _, r := c.Handshake(handshake(""), addr("192.0.2.2")); refused(r) != protocol.CodeNodeFull || r.Status != 503 {
		t.Fatalf("fifth connection of the node: %+v", r)
	}
	if n := c.Connections(); n != 4 {
		t.Fatalf("Connections() = %d, want 4", n)
	}
	rel1()
	rel1()
	if n := c.Connections(); n != 3 {
		t.Fatalf("after one release: Connections() = %d, want 3", n)
	}
	clk.Advance(1e9)
	if _, r := c.Handshake(handshake(""), a); r != nil {
		t.Fatalf("a after a release and a second: %+v", r)
	}
	for code, want := range map[string]float64{
		protocol.CodeTooManyConnections: 1, protocol.CodeRateLimited: 1,
		protocol.CodeOriginNotAllowed: 1, protocol.CodeNodeFull: 1,
	} {
		if got := refusals(t, m, code); got != want {
			t.Errorf("refusals{code=%s} = %v, want %v", code, got, want)
		}
	}
}

func TestRequestRate(t *testing.T) {
	t.Parallel()
	c := New(Config{RateLimit: true, RequestsPerSecond: 2, Burst: 5, now: newClock().Now})
	ok := 0
	for range 20 {
		if c.Request(addr("198.51.100.1")) == nil {
			ok++
		}
	}
	if ok != 5 {
		t.Errorf("%d of 20 requests admitted, want the burst of 5", ok)
	}
	var none *Controller
	if none.Request(addr("198.51.100.1")) != nil {
		t.Error("nil controller refused")
	}
	if rel, r := none.Handshake(handshake("https://evil.example"), addr("198.51.100.1")); r != nil || rel == nil {
		t.Error("nil controller refused a handshake")
	}
	// Disabled: nothing is limited or tracked.
	off := New(Config{RequestsPerSecond: 1, MaxConnectionsPerAddr: 1})
	for range 10 {
		if _, r := off.Handshake(handshake(""), addr("198.51.100.1")); r != nil {
			t.Fatalf("rate limit disabled, refused: %+v", r)
		}
	}
	if off.TrackedAddrs() != 0 {
		t.Error("disabled limiter tracks addresses")
	}
}

func TestRefusalResponse(t *testing.T) {
	t.Parallel()
	w := httptest.NewRecorder()
	(&Refusal{Status: 429, Code: protocol.CodeRateLimited, Message: "slow down"}).Write(w)
	if w.Code != 429 || w.Header().Get(protocol.ErrorHeader) != "RATE_LIMITED" || w.Header().Get("Retry-After") != "1" ||
		w.Body.String() != "RATE_LIMITED: slow down\n" {
		t.Errorf("response: %d %v %q", w.Code, w.Header(), w.Body.String())
	}
	w = httptest.NewRecorder()
	(&Refusal{Status: 403, Code: protocol.CodeOriginNotAllowed}).Write(w)
	if w.Header().Get("Retry-After") != "" {
		t.Error("403 with Retry-After")
	}
}

// refusals reads the refusals counter of code.
func refusals(t *testing.T, m *metrics.Metrics, code string) float64 {
	t.Helper()
	var out dto.Metric
	if err := m.Refusals.WithLabelValues(code).Write(&out); err != nil {
		t.Fatal(err)
	}
	return out.GetCounter().GetValue()
}
