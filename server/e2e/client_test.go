package e2e

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/hlsrelay/hlsrelay/sdk-go/protocol"
)

// wire is a raw protocol client: it sends and expects exact messages, the
// way a client written only against the base protocol would.
type wire struct {
	t    *testing.T
	conn *websocket.Conn
}

func dial(t *testing.T, url string) *wire {
	t.Helper()
	return dialWith(t, url, nil)
}

// dialSmallReceiveBuffer connects with a fixed 64 KiB socket receive
// buffer (128 KiB of memory on Linux), so that a client that stops reading
// fills it quickly (Linux would otherwise grow it up to tcp_rmem's maximum).
func dialSmallReceiveBuffer(t *testing.T, url string) *wire {
	t.Helper()
	d := &net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 64<<10)
		})
		return errors.Join(err, serr)
	}}
	client := &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
	return dialWith(t, url, &websocket.DialOptions{HTTPClient: client})
}

// sendBufferMax is the most a socket's send buffer holds when the
// application does not set SO_SNDBUF: Linux grows it up to tcp_wmem's
// maximum. Where that cannot be read, the Linux default of 4 MiB.
func sendBufferMax(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/sys/net/ipv4/tcp_wmem")
	if err == nil {
		f := strings.Fields(string(b))
		if len(f) != 3 {
			err = fmt.Errorf("unexpected tcp_wmem %q", b)
		} else {
			var n int
			if n, err = strconv.Atoi(f[2]); err == nil {
				return n
			}
		}
	}
	t.Logf("tcp_wmem: %v; assuming a 4 MiB send buffer maximum", err)
	return 4 << 20
}

func dialWith(t *testing.T, url string, opts *websocket.DialOptions) *wire {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, url, opts)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	conn.SetReadLimit(64 << 20)
	t.Cleanup(func() { conn.CloseNow() })
	return &wire{t: t, conn: conn}
}

func (w *wire) sendText(s string) {
	w.t.Helper()
	if err := w.conn.Write(context.Background(), websocket.MessageText, []byte(s)); err != nil {
		w.t.Fatalf("send %q: %v", s, err)
	}
}

func (w *wire) sendBinary(b []byte) {
	w.t.Helper()
	if err := w.conn.Write(context.Background(), websocket.MessageBinary, b); err != nil {
		w.t.Fatalf("send binary: %v", err)
	}
}

func (w *wire) sendFragment(duration float64, data []byte) {
	w.t.Helper()
	w.sendText(string(protocol.AppendFragment(nil, protocol.Fragment{Duration: duration}, false)))
	w.sendBinary(data)
}

// read returns the next message, skipping heartbeats.
func (w *wire) read(timeout time.Duration) (websocket.MessageType, []byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		typ, b, err := w.conn.Read(ctx)
		if err != nil {
			return 0, nil, err
		}
		if typ == websocket.MessageText && string(b) == protocol.TypeHeartbeat {
			continue
		}
		return typ, b, nil
	}
}

func (w *wire) readText() string {
	w.t.Helper()
	typ, b, err := w.read(5 * time.Second)
	if err != nil {
		w.t.Fatalf("read: %v", err)
	}
	if typ != websocket.MessageText {
		w.t.Fatalf("expected a text message, got %d binary bytes", len(b))
	}
	return string(b)
}

func (w *wire) expectText(want string) {
	w.t.Helper()
	if got := w.readText(); got != want {
		w.t.Fatalf("got %q, want %q", got, want)
	}
}

// expectError reads an E message with the given code, then the close.
func (w *wire) expectError(code string) *protocol.Error {
	w.t.Helper()
	text := w.readText()
	msg, err := protocol.Parse([]byte(text))
	if err != nil || msg.Type != protocol.TypeError {
		w.t.Fatalf("expected E:code=%s, got %q", code, text)
	}
	e, _ := protocol.ParseError(msg)
	if e.Code != code {
		w.t.Fatalf("expected code %s, got %q", code, text)
	}
	w.expectClosed()
	return e
}

func (w *wire) expectClosed() {
	w.t.Helper()
	typ, b, err := w.read(5 * time.Second)
	if err == nil {
		w.t.Fatalf("expected the relay to close, got message type %d: %q", typ, truncate(b))
	}
	if errors.Is(err, context.DeadlineExceeded) {
		w.t.Fatal("the relay did not close the connection")
	}
}

// readFragment reads an F message and its binary.
func (w *wire) readFragment() (protocol.Fragment, []byte) {
	w.t.Helper()
	text := w.readText()
	msg, err := protocol.Parse([]byte(text))
	if err != nil {
		w.t.Fatalf("parse %q: %v", text, err)
	}
	f, err := protocol.ParseFragment(msg)
	if err != nil {
		w.t.Fatalf("expected F, got %q: %v", text, err)
	}
	typ, b, err := w.read(5 * time.Second)
	if err != nil || typ != websocket.MessageBinary {
		w.t.Fatalf("expected the binary after %q: type %d err %v", text, typ, err)
	}
	return f, b
}

func truncate(b []byte) string {
	if len(b) > 80 {
		return fmt.Sprintf("%s... (%d bytes)", b[:80], len(b))
	}
	return string(b)
}
