package wsconn

import (
	"bytes"
	"errors"
	"io"
	"net"
	"syscall"
	"testing"
	"time"
)

// recordingConn records each Write call's size.
type recordingConn struct {
	net.Conn
	buf    bytes.Buffer
	writes []int
}

func (r *recordingConn) Write(p []byte) (int, error) {
	r.writes = append(r.writes, len(p))
	return r.buf.Write(p)
}

func TestCorkCoalesces(t *testing.T) {
	t.Parallel()
	rec := &recordingConn{}
	c := New(rec)
	c.Cork()
	small1, small2, large := []byte("F:duration=1"), bytes.Repeat([]byte{1}, 256), bytes.Repeat([]byte{2}, 100_000)
	for _, p := range [][]byte{small1, small2, large} {
		if n, err := c.Write(p); n != len(p) || err != nil {
			t.Fatalf("Write: %d, %v", n, err)
		}
	}
	if err := c.Uncork(); err != nil {
		t.Fatal(err)
	}
	want := append(append(append([]byte{}, small1...), small2...), large...)
	if !bytes.Equal(rec.buf.Bytes(), want) {
		t.Fatal("bytes changed or reordered")
	}
	// The small writes go out together, right before the large one.
	if len(rec.writes) != 2 || rec.writes[0] != len(small1)+len(small2) {
		t.Fatalf("writes %v", rec.writes)
	}
}

func TestUncorkFlushesSmallWrites(t *testing.T) {
	t.Parallel()
	rec := &recordingConn{}
	c := New(rec)
	c.Cork()
	_, _ = c.Write([]byte("CLOSE"))
	if rec.buf.Len() != 0 {
		t.Fatal("wrote while corked")
	}
	_ = c.Uncork()
	_, _ = c.Write([]byte("H"))
	if got := rec.buf.String(); got != "CLOSEH" {
		t.Fatalf("got %q", got)
	}
}

func TestCorkOverTCP(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	got := make(chan []byte, 1)
	go func() {
		s, err := l.Accept()
		if err != nil {
			got <- nil
			return
		}
		b, _ := io.ReadAll(s)
		got <- b
	}()
	raw, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c := New(raw)
	c.Cork()
	_, _ = c.Write([]byte("ab"))
	_, _ = c.Write(bytes.Repeat([]byte("c"), 5000))
	_ = c.Uncork()
	raw.Close()
	b := <-got
	if len(b) != 5002 || string(b[:3]) != "abc" {
		t.Fatalf("received %d bytes", len(b))
	}
}

// Abort resets the connection: bytes the peer has not read yet are
// discarded, and the peer learns at once that the connection is gone.
func TestAbortResets(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err == nil {
			accepted <- c
		}
	}()
	client, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server := New(<-accepted)
	if _, err := server.Write(make([]byte, 64<<10)); err != nil {
		t.Fatal(err)
	}
	server.Abort()
	_ = client.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 1<<20)
	var rerr error
	for rerr == nil {
		_, rerr = client.Read(buf)
	}
	if !errors.Is(rerr, syscall.ECONNRESET) {
		t.Fatalf("peer read ended with %v, want a connection reset", rerr)
	}
}
