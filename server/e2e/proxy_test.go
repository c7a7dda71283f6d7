package e2e

import (
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// cutter is a TCP proxy in front of the relay whose connections a test can
// break the way networks do.
type cutter struct {
	l      net.Listener
	target string

	mu    sync.Mutex
	pairs []*pair
}

// pair is one proxied connection: the client's side and the relay's side.
type pair struct {
	client, relay net.Conn
	holed         atomic.Bool
}

func newCutter(t *testing.T, relayURL string) *cutter {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &cutter{l: l, target: strings.TrimSuffix(strings.TrimPrefix(relayURL, "ws://"), "/")}
	go c.accept()
	t.Cleanup(func() {
		l.Close()
		c.cut()
	})
	return c
}

// url is the WebSocket URL that goes through the proxy.
func (c *cutter) url() string { return "ws://" + c.l.Addr().String() + "/" }

func (c *cutter) accept() {
	for {
		client, err := c.l.Accept()
		if err != nil {
			return
		}
		relay, err := net.Dial("tcp", c.target)
		if err != nil {
			client.Close()
			continue
		}
		p := &pair{client: client, relay: relay}
		c.mu.Lock()
		c.pairs = append(c.pairs, p)
		c.mu.Unlock()
		go func() {
			_, _ = io.Copy(relay, client)
			if !p.holed.Load() {
				relay.Close()
			}
		}()
		go func() { _, _ = io.Copy(client, relay); client.Close() }()
	}
}

// cut closes both sides of every connection: the relay sees the drop.
func (c *cutter) cut() {
	for _, p := range c.take() {
		p.client.Close()
		p.relay.Close()
	}
}

// blackhole closes the client side of every connection and leaves the relay
// side open and silent, as a network path that died without a trace: the
// relay learns of it only from its receive timeout.
func (c *cutter) blackhole() {
	for _, p := range c.take() {
		p.holed.Store(true)
		p.client.Close()
	}
}

func (c *cutter) take() []*pair {
	c.mu.Lock()
	defer c.mu.Unlock()
	pairs := c.pairs
	c.pairs = nil
	return pairs
}
