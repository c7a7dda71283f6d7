package faults

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// throttled is a client socket that reads at most rate bytes a second.
type throttled struct {
	net.Conn
	rate int
}

func (c *throttled) Read(p []byte) (int, error) {
	chunk := max(c.rate/4, 1)
	if len(p) > chunk {
		p = p[:chunk]
	}
	time.Sleep(time.Duration(len(p)) * time.Second / time.Duration(c.rate))
	return c.Conn.Read(p)
}

// dialThrottled connects a viewer whose socket reads at rate bytes/s, with
// a small receive buffer so that the kernel cannot hide the slowness.
func dialThrottled(t *testing.T, url string, rate int) *conn {
	d := &net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 16<<10)
		})
		return errors.Join(err, serr)
	}}
	transport := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &throttled{Conn: c, rate: rate}, nil
	}}
	return dial(t, url, &websocket.DialOptions{HTTPClient: &http.Client{Transport: transport}})
}

// TestViewerReadingAt1kBps: a viewer that reads 1 kB/s from a 1.6 Mbit/s
// stream is disconnected after the write timeout; fast viewers get every
// fragment in order and the relay's memory stays bounded.
func TestViewerReadingAt1kBps(t *testing.T) {
	relay := startRelay(t, map[string]string{"WRITE_TIMEOUT_SECONDS": "3"})
	before := rssMiB(t, relay)
	const stream, size, total = "slow/viewer", 100_000, 120 // 2 fragments/s for 60 s
	pub := dial(t, relay.URL(), nil)
	pub.push(stream)
	slow := dialThrottled(t, relay.URL(), 1000)
	slow.pull(stream)
	fast := make([]*conn, 5)
	for i := range fast {
		fast[i] = dial(t, relay.URL(), nil)
		fast[i].pull(stream)
	}
	slowDone := make(chan time.Duration, 1)
	start := time.Now()
	go func() {
		for {
			if _, _, err := slow.read(2 * time.Minute); err != nil {
				slowDone <- time.Since(start)
				return
			}
		}
	}()
	go func() {
		frag := make([]byte, size)
		for i := 0; i < total; i++ {
			binary.BigEndian.PutUint32(frag, uint32(i))
			if pub.fragment(frag) != nil {
				return
			}
			time.Sleep(500 * time.Millisecond)
		}
	}()
	peak := before
	var dropped time.Duration
	for i := 0; i < total; i++ {
		for _, f := range fast {
			b, err := f.nextFragment(10 * time.Second)
			if err != nil {
				t.Fatalf("fast viewer at fragment %d: %v", i, err)
			}
			if got := binary.BigEndian.Uint32(b); got != uint32(i) || len(b) != size {
				t.Fatalf("fast viewer got fragment %d (%d bytes), want %d", got, len(b), i)
			}
		}
		peak = max(peak, rssMiB(t, relay))
		select {
		case dropped = <-slowDone:
			i = total // done: the slow viewer is gone and the others kept up
		default:
		}
	}
	if dropped == 0 {
		select {
		case dropped = <-slowDone:
		case <-time.After(30 * time.Second):
			t.Fatal("the viewer reading 1 kB/s was never disconnected")
		}
	}
	healthy(t, relay.URL())
	t.Logf("viewer at 1 kB/s disconnected after %v; 5 fast viewers got every fragment in order; relay RSS %.1f MiB before, peak %.1f MiB",
		dropped.Round(100*time.Millisecond), before, peak)
	if peak > before+128 {
		t.Errorf("relay RSS grew by %.1f MiB", peak-before)
	}
}
