package admission

import (
	"net/http"
	"testing"
)

func TestOriginPolicy(t *testing.T) {
	t.Parallel()
	list := []string{"https://player.example.com", "https://*.example.org", "http://localhost:8080/"}
	for _, tc := range []struct {
		allowed []string
		origin  string
		want    bool
	}{
		{nil, "https://evil.example", true},
		{[]string{"*"}, "https://evil.example", true},
		{list, "", true}, // not a browser
		{list, "https://player.example.com", true},
		{list, "HTTPS://Player.Example.COM", true},
		{list, "http://player.example.com", false}, // another scheme is another origin
		{list, "https://player.example.com:8443", false},
		{list, "https://player.example.com.evil.example", false},
		{list, "https://a.example.org", true},
		{list, "https://a.b.example.org", true},
		{list, "https://example.org", false},
		{list, "https://evilexample.org", false},
		{list, "http://a.example.org", false},
		{list, "http://localhost:8080", true},
		{list, "null", false},
		{list, "https://relay.example.net", true}, // the relay's own host (a page it serves)
		{list, "%zz", false},
	} {
		r := &http.Request{Host: "relay.example.net", Header: http.Header{}}
		if tc.origin != "" {
			r.Header.Set("Origin", tc.origin)
		}
		if got := newOriginPolicy(tc.allowed).allows(r); got != tc.want {
			t.Errorf("allowed %v, Origin %q: %v, want %v", tc.allowed, tc.origin, got, tc.want)
		}
	}
}
