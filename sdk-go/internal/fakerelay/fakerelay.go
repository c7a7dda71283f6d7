// Package fakerelay is a scripted relay for the SDK's tests: an httptest
// server whose WebSocket connections the test accepts (or refuses) one by
// one and then drives message by message, checking what the client sends.
package fakerelay

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/hlsrelay/hlsrelay/sdk-go/protocol"
)

// Timeout bounds every wait of the fake relay; a test that waits longer
// fails.
const Timeout = 10 * time.Second

// Relay is a fake relay listening on a loopback port chosen by the system.
type Relay struct {
	// URL is the relay's ws:// URL.
	URL string

	srv      *httptest.Server
	incoming chan *Pending
	closed   chan struct{}

	mu    sync.Mutex
	peers []*Peer
}

// New starts a relay; it is shut down when the test ends.
func New(t testing.TB) *Relay {
	r := &Relay{incoming: make(chan *Pending), closed: make(chan struct{})}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	r.URL = "ws" + strings.TrimPrefix(r.srv.URL, "http") + "/"
	t.Cleanup(r.shutdown)
	return r
}

func (r *Relay) serve(w http.ResponseWriter, req *http.Request) {
	p := &Pending{relay: r, w: w, req: req, done: make(chan struct{})}
	select {
	case r.incoming <- p:
	case <-req.Context().Done():
		return
	case <-r.closed:
		return
	}
	select {
	case <-p.done:
	case <-r.closed:
	}
}

func (r *Relay) shutdown() {
	close(r.closed)
	r.mu.Lock()
	peers := r.peers
	r.mu.Unlock()
	for _, p := range peers {
		_ = p.c.CloseNow()
	}
	r.srv.Close()
}

// Pending is a WebSocket handshake request that the test has not answered.
type Pending struct {
	relay *Relay
	w     http.ResponseWriter
	req   *http.Request
	done  chan struct{}
}

// Dialed waits for the next connection attempt and holds it unanswered: the
// client's dial blocks until the test calls Accept or Refuse.
func (r *Relay) Dialed(t testing.TB) *Pending {
	t.Helper()
	select {
	case p := <-r.incoming:
		return p
	case <-time.After(Timeout):
		t.Fatalf("no connection attempt within %v", Timeout)
		return nil
	}
}

// NoDial checks that no connection attempt arrives within d.
func (r *Relay) NoDial(t testing.TB, d time.Duration) {
	t.Helper()
	select {
	case p := <-r.incoming:
		p.Refuse(http.StatusServiceUnavailable)
		t.Fatalf("unexpected connection attempt")
	case <-time.After(d):
	}
}

// Accept waits for the next connection attempt and accepts it.
func (r *Relay) Accept(t testing.TB) *Peer {
	t.Helper()
	return r.Dialed(t).Accept(t)
}

// Accept completes the WebSocket handshake.
func (p *Pending) Accept(t testing.TB) *Peer {
	t.Helper()
	defer close(p.done)
	c, err := websocket.Accept(p.w, p.req, nil)
	if err != nil {
		t.Fatalf("accept: %v", err)
	}
	c.SetReadLimit(-1)
	peer := &Peer{c: c}
	p.relay.mu.Lock()
	p.relay.peers = append(p.relay.peers, peer)
	p.relay.mu.Unlock()
	return peer
}

// Refuse answers the handshake with an HTTP error status.
func (p *Pending) Refuse(status int) {
	http.Error(p.w, http.StatusText(status), status)
	close(p.done)
}

// Peer is the relay's side of one accepted connection.
type Peer struct {
	c *websocket.Conn
}

func ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), Timeout)
}

// Read returns the next message, heartbeats included.
func (p *Peer) Read(t testing.TB) (websocket.MessageType, []byte) {
	t.Helper()
	ctx, cancel := ctx()
	defer cancel()
	typ, b, err := p.c.Read(ctx)
	if err != nil {
		t.Fatalf("relay read: %v", err)
	}
	return typ, b
}

// Expect reads text messages, skipping heartbeats, until one arrives; it
// must be of type typ.
func (p *Peer) Expect(t testing.TB, typ string) protocol.Message {
	t.Helper()
	for {
		mt, b := p.Read(t)
		if mt != websocket.MessageText {
			t.Fatalf("relay got a binary message (%d bytes), want %s", len(b), typ)
		}
		m, err := protocol.Parse(b)
		if err != nil {
			t.Fatalf("relay got %q: %v", b, err)
		}
		if m.Type == protocol.TypeHeartbeat && typ != protocol.TypeHeartbeat {
			continue
		}
		if m.Type != typ {
			t.Fatalf("relay got %q, want %s", b, typ)
		}
		return m
	}
}

// ExpectFragment reads an F message (skipping heartbeats) and the binary
// message that must follow it at once.
func (p *Peer) ExpectFragment(t testing.TB) (protocol.Fragment, []byte) {
	t.Helper()
	f, err := protocol.ParseFragment(p.Expect(t, protocol.TypeFragment))
	if err != nil {
		t.Fatalf("relay got a bad F: %v", err)
	}
	mt, data := p.Read(t)
	if mt != websocket.MessageBinary {
		t.Fatalf("relay got text %q right after F, want the binary fragment", data)
	}
	return f, data
}

// ExpectGone checks that the client closes the connection (or sends
// nothing more but a close) within Timeout.
func (p *Peer) ExpectGone(t testing.TB) {
	t.Helper()
	ctx, cancel := ctx()
	defer cancel()
	for {
		typ, b, err := p.c.Read(ctx)
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("client did not close the connection within %v", Timeout)
			}
			return
		}
		if typ == websocket.MessageText && string(b) == protocol.TypeHeartbeat {
			continue
		}
		t.Fatalf("relay got %q, want the connection closed", b)
	}
}

// Send sends a text message.
func (p *Peer) Send(t testing.TB, text string) {
	t.Helper()
	p.write(t, websocket.MessageText, []byte(text))
}

// SendBinary sends a binary message.
func (p *Peer) SendBinary(t testing.TB, data []byte) {
	t.Helper()
	p.write(t, websocket.MessageBinary, data)
}

// SendFragment sends an F message (extension form) and its bytes.
func (p *Peer) SendFragment(t testing.TB, f protocol.Fragment, data []byte) {
	t.Helper()
	p.write(t, websocket.MessageText, protocol.AppendFragment(nil, f, true))
	p.write(t, websocket.MessageBinary, data)
}

func (p *Peer) write(t testing.TB, typ websocket.MessageType, b []byte) {
	t.Helper()
	ctx, cancel := ctx()
	defer cancel()
	if err := p.c.Write(ctx, typ, b); err != nil {
		t.Fatalf("relay write: %v", err)
	}
}

// Writer opens a writer for one message; each Write of more than a few
// KiB goes out as its own frame at once.
func (p *Peer) Writer(ctx context.Context, typ websocket.MessageType) (io.WriteCloser, error) {
	return p.c.Writer(ctx, typ)
}

// Drop closes the connection at once, as a crashed relay or a broken
// network would.
func (p *Peer) Drop() {
	_ = p.c.CloseNow()
}

// CloseNormal closes the connection with the WebSocket close handshake.
func (p *Peer) CloseNormal() {
	_ = p.c.Close(websocket.StatusNormalClosure, "")
}

// CloseGoingAway closes the connection with status 1001, as a relay that
// drains does after its E:code=UNAVAILABLE.
func (p *Peer) CloseGoingAway() {
	_ = p.c.Close(websocket.StatusGoingAway, "")
}
