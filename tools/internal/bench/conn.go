package bench

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/hlsrelay/hlsrelay/sdk-go/protocol"
	"github.com/hlsrelay/hlsrelay/tools/internal/procstat"
)

// ErrStreamEnded reports that the relay answered a PULL with OK then CLOSE,
// or closed the stream while the bench was using it.
var ErrStreamEnded = errors.New("stream ended (CLOSE)")

// dialer opens WebSocket connections to one relay URL.
type dialer struct {
	url    string
	client *http.Client
}

// newDialer returns a dialer for rawURL. sources > 1 spreads connections
// over that many loopback source addresses (127.0.0.1, .2, ...), for more
// connections than one address has ephemeral ports; it needs a 127.x target.
func newDialer(rawURL string, insecure bool, sources int) (*dialer, error) {
	if err := CheckURL(rawURL); err != nil {
		return nil, err
	}
	transport := &http.Transport{
		// Only the URL the user gave: no proxy from the environment.
		Proxy:               nil,
		DialContext:         sourceDialer(sources),
		TLSHandshakeTimeout: 10 * time.Second,
		DisableCompression:  true,
		MaxIdleConns:        1,
	}
	if insecure {
		transport.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // -insecure is an explicit opt-in for self-signed test relays
	}
	return &dialer{url: rawURL, client: &http.Client{Transport: transport}}, nil
}

func (d *dialer) transport() *http.Transport {
	return d.client.Transport.(*http.Transport)
}

// CheckURL accepts only absolute ws:// or wss:// URLs with a host.
func CheckURL(rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return fmt.Errorf("relay URL: %w", err)
	}
	if u.Scheme != "ws" && u.Scheme != "wss" {
		return fmt.Errorf("relay URL %q: scheme must be ws or wss", rawURL)
	}
	if u.Host == "" {
		return fmt.Errorf("relay URL %q: no host", rawURL)
	}
	return nil
}

// loopbackSources returns how many loopback source addresses n connections
// to rawURL need (1 unless the target is an IPv4 loopback address and n
// exceeds three quarters of the ephemeral port range).
func loopbackSources(rawURL string, n int) int {
	u, err := url.Parse(rawURL)
	if err != nil {
		return 1
	}
	ip := net.ParseIP(u.Hostname())
	if ip == nil || ip.To4() == nil || !ip.IsLoopback() {
		return 1
	}
	lo, hi, err := procstat.LocalPortRange()
	if err != nil {
		return 1
	}
	perSource := max((hi-lo+1)*3/4, 1)
	return min((n+perSource-1)/perSource, 250)
}

// open dials the relay, sends first (a PUSH or PULL) and waits for OK.
func (d *dialer) open(ctx context.Context, first []byte, readLimit int64) (*websocket.Conn, error) {
	c, resp, err := websocket.Dial(ctx, d.url, &websocket.DialOptions{HTTPClient: d.client})
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("connect %s: HTTP %s", d.url, resp.Status)
		}
		return nil, fmt.Errorf("connect: %w", err)
	}
	c.SetReadLimit(readLimit)
	if err := c.Write(ctx, websocket.MessageText, first); err != nil {
		c.CloseNow()
		return nil, fmt.Errorf("send %s: %w", firstType(first), err)
	}
	if err := awaitOK(ctx, c); err != nil {
		c.CloseNow()
		return nil, err
	}
	return c, nil
}

func firstType(first []byte) string {
	typ, _, _ := bytes.Cut(first, []byte(":"))
	return string(typ)
}

// awaitOK reads the relay's answer to PUSH or PULL, skipping heartbeats.
func awaitOK(ctx context.Context, c *websocket.Conn) error {
	for {
		typ, data, err := c.Read(ctx)
		if err != nil {
			return fmt.Errorf("wait for OK: %w", err)
		}
		if typ != websocket.MessageText {
			return errors.New("wait for OK: got a binary message")
		}
		m, err := protocol.Parse(data)
		if err != nil {
			return fmt.Errorf("wait for OK: %w", err)
		}
		switch m.Type {
		case protocol.TypeOK:
			return nil
		case protocol.TypeHeartbeat:
		case protocol.TypeError:
			e, _ := protocol.ParseError(m)
			return e
		case protocol.TypeClose:
			return ErrStreamEnded
		default:
			return fmt.Errorf("wait for OK: unexpected %s", m.Type)
		}
	}
}

// HeartbeatInterval is how often the bench sends H on every connection; the
// protocol asks for one after 30 s of silence and lets the relay close a
// connection it heard nothing from for 60 s.
const HeartbeatInterval = 25 * time.Second

// heartbeats sends H on every registered connection every interval, from one
// goroutine with bounded concurrency, so idle connections cost no goroutine
// or timer of their own.
type heartbeats struct {
	mu    sync.Mutex
	conns map[*websocket.Conn]struct{}
}

func newHeartbeats() *heartbeats {
	return &heartbeats{conns: map[*websocket.Conn]struct{}{}}
}

func (h *heartbeats) add(c *websocket.Conn) {
	h.mu.Lock()
	h.conns[c] = struct{}{}
	h.mu.Unlock()
}

func (h *heartbeats) remove(c *websocket.Conn) {
	h.mu.Lock()
	delete(h.conns, c)
	h.mu.Unlock()
}

func (h *heartbeats) run(ctx context.Context, interval time.Duration, concurrency int) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		h.mu.Lock()
		conns := make([]*websocket.Conn, 0, len(h.conns))
		for c := range h.conns {
			conns = append(conns, c)
		}
		h.mu.Unlock()
		forEach(ctx, conns, concurrency, func(c *websocket.Conn) {
			wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			_ = c.Write(wctx, websocket.MessageText, []byte(protocol.TypeHeartbeat))
			cancel()
		})
	}
}

// forEach calls f for every item with at most concurrency calls in flight,
// and returns when all calls have returned or ctx ended (calls already
// started still finish).
func forEach[T any](ctx context.Context, items []T, concurrency int, f func(T)) {
	sem := make(chan struct{}, max(concurrency, 1))
	var wg sync.WaitGroup
	for _, it := range items {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return
		}
		wg.Go(func() {
			defer func() { <-sem }()
			f(it)
		})
	}
	wg.Wait()
}
