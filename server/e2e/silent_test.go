package e2e

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hlsrelay/hlsrelay/sdk-go/protocol"
)

// silent is a WebSocket client that completed the handshake and says
// nothing: a raw socket, so that thousands of them cost the test little.
type silent struct {
	conn net.Conn
	br   *bufio.Reader
}

func openSilent(addr string) (*silent, error) {
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return nil, err
	}
	var k [16]byte
	_, _ = rand.Read(k[:])
	req := "GET / HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + base64.StdEncoding.EncodeToString(k[:]) + "\r\nSec-WebSocket-Version: 13\r\n\r\n"
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Write([]byte(req)); err != nil {
		conn.Close()
		return nil, err
	}
	br := bufio.NewReaderSize(conn, 512)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		conn.Close()
		return nil, err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSwitchingProtocols {
		conn.Close()
		return nil, fmt.Errorf("handshake: %s", resp.Status)
	}
	_ = conn.SetDeadline(time.Time{})
	return &silent{conn: conn, br: br}, nil
}

// awaitError waits for the relay's first message and returns the code of
// its E, or what happened instead.
func (s *silent) awaitError(timeout time.Duration) string {
	_ = s.conn.SetReadDeadline(time.Now().Add(timeout))
	var h [2]byte
	if _, err := io.ReadFull(s.br, h[:]); err != nil {
		return "no message: " + err.Error()
	}
	if h[0]&0x0f != 0x1 {
		return fmt.Sprintf("frame opcode %d", h[0]&0x0f)
	}
	n := int(h[1] & 0x7f)
	if n == 126 {
		var ext [2]byte
		if _, err := io.ReadFull(s.br, ext[:]); err != nil {
			return "truncated frame"
		}
		n = int(binary.BigEndian.Uint16(ext[:]))
	} else if n > 126 {
		return "oversize frame"
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(s.br, body); err != nil {
		return "truncated frame"
	}
	msg, err := protocol.Parse(body)
	if err != nil || msg.Type != protocol.TypeError {
		return fmt.Sprintf("message %q", body)
	}
	e, _ := protocol.ParseError(msg)
	return e.Code
}

// footprint is the test process's memory: the live heap and goroutine
// stacks after a collection, and the resident set.
type footprint struct {
	heap, stacks, rss int64
	goroutines        int
}

func memory(t *testing.T) footprint {
	t.Helper()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return footprint{heap: int64(ms.HeapAlloc), stacks: int64(ms.StackInuse), rss: rss(t), goroutines: runtime.NumGoroutine()}
}

func (f footprint) String() string {
	return fmt.Sprintf("heap %.1f MiB, stacks %.1f MiB, RSS %.1f MiB, %d goroutines",
		float64(f.heap)/(1<<20), float64(f.stacks)/(1<<20), float64(f.rss)/(1<<20), f.goroutines)
}

// rss reads VmRSS from /proc (0 where there is none).
func rss(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Logf("VmRSS %q: %v", v, err)
				return 0
			}
			return kb << 10
		}
	}
	return 0
}
