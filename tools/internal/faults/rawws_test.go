package faults

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// rawConn is a WebSocket client written byte by byte, so that tests can
// send frames no well-behaved library would.
type rawConn struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

// dialRaw connects to the relay at addr (host:port) and completes the
// WebSocket handshake on path /.
func dialRaw(t *testing.T, addr string) *rawConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	key := make([]byte, 16)
	_, _ = rand.Read(key)
	fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n", addr, base64.StdEncoding.EncodeToString(key))
	br := bufio.NewReader(c)
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("handshake: %v", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake: %s", resp.Status)
	}
	return &rawConn{t: t, c: c, br: br}
}

// frame writes one frame: fin, rsv bits, opcode, the given length header
// (which may lie about the payload), masked unless unmasked.
func (r *rawConn) frame(fin bool, rsv, opcode byte, payload []byte, length uint64, unmasked bool) {
	b0 := opcode | rsv<<4
	if fin {
		b0 |= 0x80
	}
	hdr := []byte{b0}
	mask := byte(0x80)
	if unmasked {
		mask = 0
	}
	switch {
	case length < 126:
		hdr = append(hdr, mask|byte(length))
	case length <= 0xffff:
		hdr = append(hdr, mask|126, byte(length>>8), byte(length))
	default:
		hdr = append(hdr, mask|127)
		hdr = binary.BigEndian.AppendUint64(hdr, length)
	}
	body := append([]byte(nil), payload...)
	if !unmasked {
		key := []byte{1, 2, 3, 4}
		hdr = append(hdr, key...)
		for i := range body {
			body[i] ^= key[i%4]
		}
	}
	_ = r.c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	_, _ = r.c.Write(append(hdr, body...))
}

func (r *rawConn) text(s string) { r.frame(true, 0, 0x1, []byte(s), uint64(len(s)), false) }

// readFrame reads one server frame (servers do not mask).
func (r *rawConn) readFrame(timeout time.Duration) (opcode byte, payload []byte, err error) {
	_ = r.c.SetReadDeadline(time.Now().Add(timeout))
	var h [2]byte
	if _, err := io.ReadFull(r.br, h[:]); err != nil {
		return 0, nil, err
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		if _, err := io.ReadFull(r.br, b[:]); err != nil {
			return 0, nil, err
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err := io.ReadFull(r.br, b[:]); err != nil {
			return 0, nil, err
		}
		n = binary.BigEndian.Uint64(b[:])
	}
	if n > 1<<20 {
		return 0, nil, fmt.Errorf("server frame of %d bytes", n)
	}
	payload = make([]byte, n)
	_, err = io.ReadFull(r.br, payload)
	return h[0] & 0x0f, payload, err
}

// outcome reads until the connection ends and returns the E message's code
// (if one came), the close frame's status (if one came), and whether the
// connection ended within timeout.
func (r *rawConn) outcome(timeout time.Duration) (code string, status uint16, ended bool) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		op, payload, err := r.readFrame(time.Until(deadline))
		if err != nil {
			return code, status, !isTimeout(err)
		}
		switch op {
		case 0x1:
			if s := string(payload); strings.HasPrefix(s, "E:") {
				if i := strings.Index(s, "code="); i >= 0 {
					code, _, _ = strings.Cut(s[i+len("code="):], "&")
				}
			}
		case 0x8:
			if len(payload) >= 2 {
				status = binary.BigEndian.Uint16(payload)
			}
			return code, status, true
		}
	}
	return code, status, false
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}
