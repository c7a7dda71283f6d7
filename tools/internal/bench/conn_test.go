package bench

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/hlsrelay/hlsrelay/tools/internal/procstat"
	"github.com/hlsrelay/hlsrelay/tools/internal/relaytest"
)

func TestLoopbackSources(t *testing.T) {
	t.Parallel()
	lo, hi, err := procstat.LocalPortRange()
	if err != nil {
		t.Skipf("no ephemeral port range: %v", err)
	}
	perSource := (hi - lo + 1) * 3 / 4
	tests := []struct {
		name string
		url  string
		n    int
		want int
	}{
		{name: "few", url: "ws://127.0.0.1:8080/", n: 100, want: 1},
		{name: "just fits", url: "ws://127.0.0.1:8080/", n: perSource, want: 1},
		{name: "needs two", url: "ws://127.0.0.1:8080/", n: perSource + 1, want: 2},
		{name: "other loopback", url: "ws://127.0.0.5:8080/", n: 2*perSource + 1, want: 3},
		{name: "not loopback", url: "ws://10.0.0.1:8080/", n: 10 * perSource, want: 1},
		{name: "host name", url: "ws://localhost:8080/", n: 10 * perSource, want: 1},
		{name: "IPv6 loopback", url: "ws://[::1]:8080/", n: 10 * perSource, want: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := loopbackSources(tt.url, tt.n); got != tt.want {
				t.Errorf("loopbackSources(%q, %d) = %d, want %d", tt.url, tt.n, got, tt.want)
			}
		})
	}
}

// TestDialerSpreadsSources connects from several loopback addresses.
func TestDialerSpreadsSources(t *testing.T) {
	t.Parallel()
	relay := relaytest.New(t, relaytest.Options{})
	d, err := newDialer(strings.Replace(relay.URL(), "localhost", "127.0.0.1", 1), false, 3)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for range 6 {
		conn, err := d.transport().DialContext(t.Context(), "tcp", strings.TrimSuffix(strings.TrimPrefix(relay.URL(), "ws://"), "/"))
		if err != nil {
			t.Fatal(err)
		}
		host, _, _ := net.SplitHostPort(conn.LocalAddr().String())
		seen[host] = true
		conn.Close()
	}
	if len(seen) != 3 {
		t.Errorf("connected from %v, want 3 loopback addresses", seen)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	cfg := Config{Stream: "s"}
	c, err := d.open(ctx, cfg.pushMessage(), 1024)
	if err != nil {
		t.Fatalf("PUSH through a spread dialer: %v", err)
	}
	c.CloseNow()
}
