package admission

import (
	"net/http"
	"net/netip"
	"testing"
)

func TestClientAddr(t *testing.T) {
	t.Parallel()
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8:ffff::/48")}
	for _, tc := range []struct {
		name      string
		remote    string
		xff       []string // X-Forwarded-For headers, in order
		trusted   []netip.Prefix
		want      string
		forwarded bool
	}{
		{"no trusted proxies: header ignored", "203.0.113.9:5000", []string{"198.51.100.1"}, nil, "203.0.113.9", false},
		{"untrusted peer: header ignored", "203.0.113.9:5000", []string{"198.51.100.1"}, proxies, "203.0.113.9", false},
		{"trusted peer without header", "10.0.0.2:5000", nil, proxies, "10.0.0.2", false},
		{"trusted peer", "10.0.0.2:5000", []string{"198.51.100.1"}, proxies, "198.51.100.1", true},
		{"client forges entries on the left", "10.0.0.2:5000", []string{"1.2.3.4, 198.51.100.1"}, proxies, "198.51.100.1", true},
		{"chain of trusted proxies", "10.0.0.2:5000", []string{"198.51.100.1, 10.9.9.9, 10.0.0.3"}, proxies, "198.51.100.1", true},
		{"several headers", "10.0.0.2:5000", []string{"1.2.3.4", "198.51.100.1, 10.0.0.3"}, proxies, "198.51.100.1", true},
		{"only proxies: the left-most", "10.0.0.2:5000", []string{"10.0.0.5, 10.0.0.3"}, proxies, "10.0.0.5", true},
		{"entry with a port", "10.0.0.2:5000", []string{"198.51.100.1:4711"}, proxies, "198.51.100.1", true},
		{"IPv6 entry with a port", "10.0.0.2:5000", []string{"[2001:db8::7]:4711"}, proxies, "2001:db8::7", true},
		{"IPv6 proxy", "[2001:db8:ffff::1]:443", []string{"2001:db8::7"}, proxies, "2001:db8::7", true},
		{"garbage stops at the last trusted hop", "10.0.0.2:5000", []string{"198.51.100.1, unknown, 10.0.0.3"}, proxies, "10.0.0.3", true},
		{"garbage right away", "10.0.0.2:5000", []string{"unknown"}, proxies, "10.0.0.2", false},
		{"IPv4-mapped peer", "[::ffff:10.0.0.2]:5000", []string{"198.51.100.1"}, proxies, "198.51.100.1", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := &http.Request{RemoteAddr: tc.remote, Header: http.Header{}}
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			got, forwarded := clientAddr(r, tc.trusted)
			if got != netip.MustParseAddr(tc.want) || forwarded != tc.forwarded {
				t.Errorf("clientAddr = %v, %v; want %s, %v", got, forwarded, tc.want, tc.forwarded)
			}
		})
	}
}

func TestClientAddrBoundsHops(t *testing.T) {
	t.Parallel()
	all := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	r := &http.Request{RemoteAddr: "10.0.0.1:1", Header: http.Header{}}
	for range 1000 {
		r.Header.Add("X-Forwarded-For", "10.1.1.1")
	}
	r.Header.Set("X-Forwarded-For", "198.51.100.1") // replaces them: one entry
	if got, _ := clientAddr(r, all); got != netip.MustParseAddr("198.51.100.1") {
		t.Fatalf("got %v", got)
	}
	r.Header.Del("X-Forwarded-For")
	for range 1000 {
		r.Header.Add("X-Forwarded-For", "10.1.1.1")
	}
	// 1,000 trusted hops: the walk stops after maxForwardedHops.
	if got, _ := clientAddr(r, all); got != netip.MustParseAddr("10.1.1.1") {
		t.Fatalf("got %v", got)
	}
}

func TestControllerRewritesRemoteAddr(t *testing.T) {
	t.Parallel()
	c := New(Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	r := &http.Request{RemoteAddr: "127.0.0.1:5000", Header: http.Header{"X-Forwarded-For": {"198.51.100.1"}}}
	if got := c.ClientAddr(r); got != netip.MustParseAddr("198.51.100.1") || r.RemoteAddr != "198.51.100.1:0" {
		t.Errorf("ClientAddr = %v, RemoteAddr = %q", got, r.RemoteAddr)
	}
	r = &http.Request{RemoteAddr: "192.0.2.1:5000", Header: http.Header{"X-Forwarded-For": {"198.51.100.1"}}}
	if got := c.ClientAddr(r); got != netip.MustParseAddr("192.0.2.1") || r.RemoteAddr != "192.0.2.1:5000" {
		t.Errorf("untrusted: ClientAddr = %v, RemoteAddr = %q", got, r.RemoteAddr)
	}
	var none *Controller
	if got := none.ClientAddr(r); got != netip.MustParseAddr("192.0.2.1") {
		t.Errorf("nil controller: %v", got)
	}
}
