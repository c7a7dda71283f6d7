// Package relayconn is the client side of one WebSocket connection to a
// relay, shared by the publisher and the subscriber: dial, send the first
// message (PUSH or PULL) and wait for OK, then heartbeats, size-limited
// reads, liveness, and writes that keep each F next to its binary message.
package relayconn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/hlsrelay/hlsrelay/sdk-go/protocol"
)

// MaxTextSize is the largest text message the protocol allows (16 KiB).
const MaxTextSize = 16 << 10

// Timing holds the protocol's intervals. Tests shorten them.
type Timing struct {
	// Heartbeat: an H is sent when nothing was sent for this long (30 s).
	Heartbeat time.Duration
	// Idle: a connection on which nothing arrived for this long is dead (60 s).
	Idle time.Duration
	// Dial bounds the TCP, TLS and WebSocket handshakes (30 s).
	Dial time.Duration
}

// DefaultTiming returns the intervals of the protocol.
func DefaultTiming() Timing {
	return Timing{Heartbeat: 30 * time.Second, Idle: 60 * time.Second, Dial: 30 * time.Second}
}

var (
	// ErrIdle is wrapped by reads and writes on a connection that the
	// relay left silent for Timing.Idle.
	ErrIdle = errors.New("nothing received from the relay")
	// ErrTooLarge is wrapped by Read for a binary message over its limit;
	// the message was discarded and the connection is still usable.
	ErrTooLarge = errors.New("fragment larger than the limit")
)

// CheckURL reports whether s is a ws:// or wss:// URL with a host.
func CheckURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("relay URL: %w", err)
	}
	if u.Scheme != "ws" && u.Scheme != "wss" {
		return fmt.Errorf("relay URL %q: scheme must be ws or wss", s)
	}
	if u.Host == "" {
		return fmt.Errorf("relay URL %q has no host", s)
	}
	return nil
}

// Conn is an accepted connection to a relay. Writes are safe for
// concurrent use; Read must be called from one goroutine at a time.
type Conn struct {
	ws     *websocket.Conn
	tcp    *rawConn
	timing Timing
	ctx    context.Context // the connection's lifetime
	cancel context.CancelFunc
	start  time.Time

	writeMu   sync.Mutex
	lastWrite atomic.Int64 // time.Since(start) at the end of the last write

	watchdog *time.Timer // closes the connection after Timing.Idle of silence
	idle     atomic.Bool // the watchdog fired

	closeOnce sync.Once
	hbDone    chan struct{} // closed when the heartbeat goroutine ended
}

// Dial connects to the relay at rawURL, sends first (PUSH or PULL) and waits
// for the relay's OK, skipping heartbeats. The relay's E answer is returned
// as a *protocol.Error. Cancelling ctx closes the connection, during Dial and
// after.
func Dial(ctx context.Context, rawURL string, first []byte, timing Timing) (*Conn, protocol.OK, error) {
	if err := CheckURL(rawURL); err != nil {
		return nil, protocol.OK{}, err
	}
	dialCtx, cancelDial := context.WithTimeout(ctx, timing.Dial)
	var tcp rawConn
	ws, resp, err := websocket.Dial(dialCtx, rawURL, &websocket.DialOptions{HTTPClient: tcp.client(timing.Dial)})
	cancelDial()
	if err != nil {
		tcp.close()
		if ctx.Err() != nil {
			return nil, protocol.OK{}, ctx.Err()
		}
		if resp != nil && resp.Header.Get(protocol.ErrorHeader) != "" {
			// A relay's limit refused the handshake (RATE_LIMITED, ...).
			err = &protocol.Error{Code: resp.Header.Get(protocol.ErrorHeader), Message: "handshake refused: " + resp.Status}
		}
		return nil, protocol.OK{}, fmt.Errorf("connect: %w", err)
	}
	ws.SetReadLimit(-1) // Read applies its own limits per message type
	c := &Conn{ws: ws, tcp: &tcp, timing: timing, start: time.Now(), hbDone: make(chan struct{})}
	c.ctx, c.cancel = context.WithCancel(ctx)
	context.AfterFunc(c.ctx, c.abort)
	c.watchdog = time.AfterFunc(timing.Idle, func() {
		c.idle.Store(true)
		c.abort()
	})
	c.watchdog.Stop()

	ok, err := c.handshake(first)
	if err != nil {
		close(c.hbDone)
		c.Close()
		if ctx.Err() != nil {
			return nil, protocol.OK{}, ctx.Err()
		}
		return nil, protocol.OK{}, err
	}
	go c.heartbeat()
	return c, ok, nil
}

func (c *Conn) handshake(first []byte) (protocol.OK, error) {
	if err := c.WriteText(first); err != nil {
		return protocol.OK{}, err
	}
	for {
		m, err := c.Read(0)
		if m.Binary || errors.Is(err, ErrTooLarge) {
			return protocol.OK{}, errors.New("relay sent a binary message before OK")
		}
		if err != nil {
			return protocol.OK{}, err
		}
		switch m.Text.Type {
		case protocol.TypeHeartbeat:
			continue
		case protocol.TypeOK:
			ok, err := protocol.ParseOK(m.Text)
			if err != nil {
				return protocol.OK{}, fmt.Errorf("relay answered: %w", err)
			}
			return ok, nil
		case protocol.TypeError:
			perr, _ := protocol.ParseError(m.Text) // never fails for an E
			return protocol.OK{}, perr
		case protocol.TypeClose:
			return protocol.OK{}, errors.New("relay answered CLOSE instead of OK")
		default:
			return protocol.OK{}, fmt.Errorf("relay answered %s instead of OK", m.Text.Type)
		}
	}
}

// Message is a message read from the relay: a text message, or the bytes of
// a binary one.
type Message struct {
	Text   protocol.Message
	Binary bool
	Data   []byte
}

// Read returns the next message. A text message longer than MaxTextSize or
// that does not parse is an error, after which the connection must be
// closed. A binary message longer than maxBinary bytes is read to its end
// and discarded: Read then returns Message{Binary: true} and an error
// wrapping ErrTooLarge, and the connection stays usable. Silence for
// Timing.Idle, even in the middle of a message, closes the connection and
// Read returns an error wrapping ErrIdle.
func (c *Conn) Read(maxBinary int64) (Message, error) {
	c.watchdog.Reset(c.timing.Idle)
	defer c.watchdog.Stop()
	typ, r, err := c.ws.Reader(c.ctx)
	if err != nil {
		return Message{}, c.ioError("read from relay", err)
	}
	r = progressReader{r: r, c: c}
	if typ == websocket.MessageBinary {
		data, err := io.ReadAll(io.LimitReader(r, maxBinary+1))
		if err != nil {
			return Message{}, c.ioError("read from relay", err)
		}
		if int64(len(data)) <= maxBinary {
			return Message{Binary: true, Data: data}, nil
		}
		n, err := io.Copy(io.Discard, r)
		if err != nil {
			return Message{}, c.ioError("read from relay", err)
		}
		return Message{Binary: true}, fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLarge, int64(len(data))+n, maxBinary)
	}
	text, err := io.ReadAll(io.LimitReader(r, MaxTextSize+1))
	if err != nil {
		return Message{}, c.ioError("read from relay", err)
	}
	if len(text) > MaxTextSize {
		return Message{}, fmt.Errorf("relay sent a text message over %d bytes", MaxTextSize)
	}
	m, err := protocol.Parse(text)
	if err != nil {
		return Message{}, fmt.Errorf("relay sent %q: %w", truncate(text), err)
	}
	return Message{Text: m}, nil
}

// progressReader restarts the idle watchdog whenever bytes arrive, so that
// a large fragment on a slow link is not mistaken for silence.
type progressReader struct {
	r io.Reader
	c *Conn
}

func (p progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if n > 0 {
		p.c.watchdog.Reset(p.c.timing.Idle)
	}
	return n, err
}

// WriteText sends one text message.
func (c *Conn) WriteText(text []byte) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	return c.write(websocket.MessageText, text)
}

// WriteFragment sends an F message and the fragment's bytes, with no other
// message between them.
func (c *Conn) WriteFragment(header, data []byte) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if err := c.write(websocket.MessageText, header); err != nil {
		return err
	}
	return c.write(websocket.MessageBinary, data)
}

func (c *Conn) write(typ websocket.MessageType, p []byte) error {
	err := c.ws.Write(c.ctx, typ, p)
	c.lastWrite.Store(int64(time.Since(c.start)))
	if err != nil {
		return c.ioError("write to relay", err)
	}
	return nil
}

// heartbeat sends H whenever nothing was sent for Timing.Heartbeat.
func (c *Conn) heartbeat() {
	defer close(c.hbDone)
	t := time.NewTimer(c.timing.Heartbeat)
	defer t.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
		}
		quiet := time.Since(c.start) - time.Duration(c.lastWrite.Load())
		if quiet >= c.timing.Heartbeat {
			if err := c.WriteText([]byte(protocol.TypeHeartbeat)); err != nil {
				return // the connection is broken; its reader reports why
			}
			quiet = 0
		}
		t.Reset(c.timing.Heartbeat - quiet)
	}
}

// Close closes the connection at once, without the WebSocket close
// handshake, and waits for the heartbeat goroutine. It is idempotent.
func (c *Conn) Close() {
	c.close(nil)
}

// CloseGracefully closes the connection with the WebSocket close handshake
// (status 1000), waiting for the relay's answer until ctx is done.
func (c *Conn) CloseGracefully(ctx context.Context) error {
	var err error
	c.close(func() {
		stop := context.AfterFunc(ctx, c.abort)
		defer stop()
		c.writeMu.Lock()
		defer c.writeMu.Unlock()
		err = c.ws.Close(websocket.StatusNormalClosure, "")
		if ctx.Err() != nil {
			err = ctx.Err() // aborted: the relay did not answer in time
		}
	})
	if err != nil {
		return fmt.Errorf("close connection: %w", err)
	}
	return nil
}

func (c *Conn) close(graceful func()) {
	c.closeOnce.Do(func() {
		if graceful != nil {
			graceful()
		}
		c.cancel() // aborts the connection, if it is still open
		c.watchdog.Stop()
		<-c.hbDone
	})
}

// abort ends the connection now, even in the middle of a close handshake
// (which websocket.Conn.CloseNow does not interrupt).
func (c *Conn) abort() {
	c.tcp.close()
	_ = c.ws.CloseNow()
}

// rawConn keeps the network connection under the WebSocket, so that it can
// be closed whatever the WebSocket is doing.
type rawConn struct {
	mu   sync.Mutex
	conn net.Conn
	done bool
}

// client returns an HTTP client for one WebSocket handshake that records
// the connection it dials. It honours the proxy environment variables.
func (r *rawConn) client(timeout time.Duration) *http.Client {
	tr := &http.Transport{Proxy: http.ProxyFromEnvironment, TLSHandshakeTimeout: timeout}
	if dt, ok := http.DefaultTransport.(*http.Transport); ok {
		tr = dt.Clone()
	}
	dialer := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dialer.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.done {
			conn.Close()
			return nil, net.ErrClosed
		}
		r.conn = conn // the transport dials once per handshake; keep the last
		return conn, nil
	}
	return &http.Client{Transport: tr}
}

func (r *rawConn) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.done = true
	if r.conn != nil {
		_ = r.conn.Close()
	}
}

// ioError describes a failed read or write: silence, a close by the relay,
// or a broken connection.
func (c *Conn) ioError(op string, err error) error {
	if c.idle.Load() {
		return fmt.Errorf("%s: %w for %v", op, ErrIdle, c.timing.Idle)
	}
	if c.ctx.Err() != nil {
		return fmt.Errorf("%s: connection closed: %w", op, context.Cause(c.ctx))
	}
	if status := websocket.CloseStatus(err); status != -1 {
		return fmt.Errorf("%s: relay closed the connection (status %d)", op, status)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		// Not wrapped: callers must not mistake a lost connection for the
		// end of a stream.
		return fmt.Errorf("%s: connection lost: %v", op, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

func truncate(b []byte) string {
	if len(b) > 64 {
		return string(b[:64]) + "..."
	}
	return string(b)
}
