package admission

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"
)

// clock is a manual time source.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Unix(1_700_000_000, 0)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

// requests makes n requests from a and returns how many were admitted.
func requests(t *rateTable, a netip.Addr, n int) int {
	ok := 0
	for range n {
		if t.request(a) == nil {
			ok++
		}
	}
	return ok
}

func TestRequestBucket(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name             string
		rate, burst      int
		first, perSecond int // admitted at once, then per second
	}{
		// The existing server's rule: the bucket holds max(burst, rate).
		{"burst 0 means the rate", 5, 0, 5, 5},
		{"burst below the rate", 5, 2, 5, 5},
		{"burst above the rate", 2, 10, 10, 2},
		{"one per second", 1, 0, 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clk := newClock()
			tbl := newRateTable(rateConfig{requestsPerSecond: tc.rate, burst: tc.burst, now: clk.Now})
			a := addr("198.51.100.7")
			if got := requests(tbl, a, 100); got != tc.first {
				t.Fatalf("at once: %d admitted, want %d", got, tc.first)
			}
			if err := tbl.request(a); !errors.Is(err, errRateLimited) {
				t.Fatalf("over the bucket: err = %v", err)
			}
			clk.Advance(time.Second)
			if got := requests(tbl, a, 100); got != tc.perSecond {
				t.Fatalf("a second later: %d admitted, want %d", got, tc.perSecond)
			}
			// Another address has its own bucket.
			if got := requests(tbl, addr("198.51.100.8"), 100); got != tc.first {
				t.Fatalf("another address: %d admitted, want %d", got, tc.first)
			}
		})
	}
}

func TestIPv6CountsBy64(t *testing.T) {
	t.Parallel()
	tbl := newRateTable(rateConfig{requestsPerSecond: 3, now: newClock().Now})
	admitted := 0
	for i := range 10 {
		admitted += requests(tbl, addr(fmt.Sprintf("2001:db8:1:2::%x", i+1)), 1)
	}
	if admitted != 3 {
		t.Errorf("10 addresses of one /64: %d admitted, want 3", admitted)
	}
	if got := requests(tbl, addr("2001:db8:1:3::1"), 1); got != 1 {
		t.Errorf("another /64 refused")
	}
	// An IPv4-mapped IPv6 address counts as the IPv4 address.
	if got := requests(tbl, addr("192.0.2.1"), 3) + requests(tbl, addr("::ffff:192.0.2.1"), 3); got != 3 {
		t.Errorf("192.0.2.1 and ::ffff:192.0.2.1: %d admitted, want 3", got)
	}
}

func TestWhitelistIsExempt(t *testing.T) {
	t.Parallel()
	tbl := newRateTable(rateConfig{
		requestsPerSecond: 1, maxConnections: 1, now: newClock().Now,
		whitelist: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")},
	})
	for _, a := range []string{"10.1.2.3", "::1", "::ffff:10.9.9.9"} {
		if got := requests(tbl, addr(a), 50); got != 50 {
			t.Errorf("%s: %d of 50 admitted", a, got)
		}
		for range 5 {
			if _, err := tbl.connect(addr(a)); err != nil {
				t.Errorf("%s: connect: %v", a, err)
			}
		}
	}
	if n := tbl.tracked(); n != 0 {
		t.Errorf("whitelisted addresses tracked: %d", n)
	}
}

func TestConnectionsPerAddress(t *testing.T) {
	t.Parallel()
	tbl := newRateTable(rateConfig{maxConnections: 2, now: newClock().Now})
	a := addr("203.0.113.5")
	r1, err := tbl.connect(a)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tbl.connect(a); err != nil {
		t.Fatal(err)
	}
	if _, err := tbl.connect(a); !errors.Is(err, errTooManyConnections) {
		t.Fatalf("third connection: err = %v", err)
	}
	if _, err := tbl.connect(addr("203.0.113.6")); err != nil {
		t.Fatalf("another address: %v", err)
	}
	r1()
	r1() // a second release changes nothing
	if _, err := tbl.connect(a); err != nil {
		t.Fatalf("after a release: %v", err)
	}
	if _, err := tbl.connect(a); !errors.Is(err, errTooManyConnections) {
		t.Fatalf("double release freed two slots: err = %v", err)
	}
}

func TestCleanupForgetsIdleAddresses(t *testing.T) {
	t.Parallel()
	clk := newClock()
	tbl := newRateTable(rateConfig{requestsPerSecond: 10, maxConnections: 5, cleanup: 10 * time.Second, now: clk.Now})
	for i := range 100 {
		requests(tbl, addr(fmt.Sprintf("192.0.2.%d", i)), 3)
	}
	release, err := tbl.connect(addr("198.51.100.1"))
	if err != nil {
		t.Fatal(err)
	}
	if n := tbl.tracked(); n != 101 {
		t.Fatalf("tracked %d, want 101", n)
	}
	clk.Advance(11 * time.Second)
	requests(tbl, addr("192.0.2.200"), 1) // the sweep runs on the next request
	// Left: the address holding a connection and the one that just asked.
	if n := tbl.tracked(); n != 2 {
		t.Fatalf("after the sweep: tracked %d, want 2", n)
	}
	release()
	clk.Advance(11 * time.Second)
	requests(tbl, addr("192.0.2.201"), 1)
	if n := tbl.tracked(); n != 1 {
		t.Fatalf("after the release and a sweep: tracked %d, want 1", n)
	}
}

func TestTableIsBounded(t *testing.T) {
	t.Parallel()
	clk := newClock()
	tbl := newRateTable(rateConfig{requestsPerSecond: 1, maxConnections: 1, maxTracked: 1000, now: clk.Now})
	// A flood from 50,000 addresses, each spending its bucket.
	for i := range 50000 {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		if err := tbl.request(a); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	if n := tbl.tracked(); n > 1000 {
		t.Fatalf("tracked %d addresses, bound is 1000", n)
	}
	// When every tracked address holds a connection, a new one is refused
	// instead of growing the table.
	clk.Advance(time.Hour)
	var releases []func()
	for i := range 1000 {
		r, err := tbl.connect(netip.AddrFrom4([4]byte{172, 16, byte(i >> 8), byte(i)}))
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		releases = append(releases, r)
	}
	if _, err := tbl.connect(addr("192.0.2.99")); !errors.Is(err, errTableFull) {
		t.Fatalf("new address with a full table: err = %v", err)
	}
	releases[0]()
	if _, err := tbl.connect(addr("192.0.2.99")); err != nil {
		t.Fatalf("after a connection closed: %v", err)
	}
	if n := tbl.tracked(); n > 1000 {
		t.Fatalf("tracked %d addresses, bound is 1000", n)
	}
}
