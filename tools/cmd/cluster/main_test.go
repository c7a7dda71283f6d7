package main

import (
	"io"
	"net/url"
	"testing"
)

func TestDemoURL(t *testing.T) {
	t.Parallel()
	tests := []struct{ ws, stream, want string }{
		{"ws://127.0.0.1:7403/", "demo/sample/640x360-30~400", "http://127.0.0.1:7403/demo/?stream=demo/sample/640x360-30~400&token=T"},
		{"ws://127.0.0.1:7404/", "a b&c=d/é", "http://127.0.0.1:7404/demo/?stream=a+b%26c%3Dd/%C3%A9&token=T"},
	}
	for _, tc := range tests {
		got := demoURL(tc.ws, tc.stream, "T")
		if got != tc.want {
			t.Errorf("demoURL(%q, %q) = %q, want %q", tc.ws, tc.stream, got, tc.want)
		}
		u, err := url.Parse(got)
		if err != nil || u.Query().Get("stream") != tc.stream {
			t.Errorf("%q does not give the stream %q back (%v)", got, tc.stream, err)
		}
	}
}

func TestBasePortZeroPicksFreePorts(t *testing.T) {
	t.Parallel()
	o, code := parseFlags([]string{"-base-port", "0"}, io.Discard)
	if o == nil || o.basePort != 0 {
		t.Fatalf("-base-port 0 refused (exit %d)", code)
	}
	if o, _ := parseFlags([]string{"-base-port", "-1"}, io.Discard); o != nil {
		t.Fatal("-base-port -1 accepted")
	}
}
