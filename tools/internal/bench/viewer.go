package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/hlsrelay/hlsrelay/sdk-go/protocol"
)

// readChunk is the read buffer of a viewer that checks fragments. It is
// allocated on the first binary message, so idle viewers never hold one.
const readChunk = 32 << 10

// viewer reads one PULL connection until it ends. Fields without atomics are
// written only by the viewer's goroutine and read after done is closed.
type viewer struct {
	conn    *websocket.Conn
	run     *runClock
	checker *Checker // nil: discard binary messages unchecked (idle mode)
	buf     []byte
	text    [256]byte

	highest   atomic.Int64 // highest in-order sequence number received, -1 before any
	bytesRead atomic.Int64 // binary bytes received
	lastAt    atomic.Int64 // run clock at the last measured receipt

	fragments  int64 // binary messages received
	measured   int64 // distinct in-order fragments of the measured window
	outOfOrder int64 // sequence number not above the previous one
	missing    int64 // sequence numbers skipped over
	corrupt    int64 // bad length, body or trailer
	foreign    int64 // not a fragment of this run
	protoErrs  int64 // binary without F, unknown message
	latencies  []uint32
	stride     int64 // record the latency of every stride-th measured fragment
	gotClose   bool  // the relay sent CLOSE
	relayErr   error // the relay sent E
	readErr    error // the connection failed
	done       chan struct{}
	// stop ends an HLS viewer's loop (hls.go); such a viewer has no conn.
	stop context.CancelFunc
}

// runClock is the shared time base of one run: every timestamp in a fragment
// is nanoseconds since epoch on the monotonic clock.
type runClock struct {
	epoch time.Time
	// firstMeasured is the first sequence number of the measured window;
	// math.MaxInt64 until the warm-up ends.
	firstMeasured atomic.Int64
}

func newRunClock() *runClock {
	r := &runClock{epoch: time.Now()}
	r.firstMeasured.Store(math.MaxInt64)
	return r
}

func (r *runClock) now() int64 { return int64(time.Since(r.epoch)) }

// newViewer makes a viewer that keeps at most samples latencies of the
// expected measured fragments, evenly spread over the run.
func newViewer(c *websocket.Conn, run *runClock, checker *Checker, expected, samples int) *viewer {
	v := &viewer{conn: c, run: run, checker: checker, done: make(chan struct{}), stride: 1}
	v.highest.Store(-1)
	if checker != nil {
		samples = max(min(samples, expected), 1)
		v.stride = int64((expected + samples - 1) / samples)
		v.latencies = make([]uint32, 0, samples+1)
	}
	return v
}

// loop reads messages until the connection closes. It does not allocate per
// message: F and H are recognised without parsing, and binary messages
// stream through the Checker (or io.Discard's pooled buffer).
func (v *viewer) loop() {
	defer close(v.done)
	expectBinary := false
	ctx := context.Background() // no per-read timer; the bench ends reads by closing the connection
	for {
		typ, r, err := v.conn.Reader(ctx)
		if err != nil {
			if !v.gotClose {
				v.readErr = err
			}
			return
		}
		if typ == websocket.MessageBinary {
			if !expectBinary {
				v.protoErrs++
			}
			expectBinary = false
			if err := v.readFragment(r); err != nil {
				v.readErr = err
				return
			}
			continue
		}
		n, err := io.ReadFull(r, v.text[:])
		if err == nil {
			// Longer than any message the bench cares about.
			_, err = io.Copy(io.Discard, r)
		} else if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			err = nil
		}
		if err != nil {
			v.readErr = err
			return
		}
		msg := v.text[:n]
		switch {
		case isType(msg, protocol.TypeFragment):
			if expectBinary {
				v.protoErrs++
			}
			expectBinary = true
		case isType(msg, protocol.TypeHeartbeat):
		case isType(msg, protocol.TypeClose):
			v.gotClose = true
		case isType(msg, protocol.TypeError):
			if m, err := protocol.Parse(msg); err == nil {
				v.relayErr, _ = protocol.ParseError(m)
			} else {
				v.relayErr = fmt.Errorf("relay error %q", msg)
			}
		default:
			v.protoErrs++
		}
	}
}

// isType reports whether msg is a message of type typ (case-insensitive),
// with or without parameters.
func isType(msg []byte, typ string) bool {
	if len(msg) < len(typ) || !bytes.EqualFold(msg[:len(typ)], []byte(typ)) {
		return false
	}
	return len(msg) == len(typ) || msg[len(typ)] == ':'
}

func (v *viewer) readFragment(r io.Reader) error {
	if v.checker == nil {
		n, err := io.Copy(io.Discard, r)
		v.bytesRead.Add(n)
		v.fragments++
		return err
	}
	if v.buf == nil {
		v.buf = make([]byte, readChunk)
	}
	v.checker.Reset()
	var total int64
	for {
		n, err := r.Read(v.buf)
		if n > 0 {
			_, _ = v.checker.Write(v.buf[:n])
			total += int64(n)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	v.bytesRead.Add(total)
	return v.record()
}

// record checks the fragment the Checker has just seen and counts it.
func (v *viewer) record() error {
	received := v.run.now()
	v.fragments++
	seq, sent, err := v.checker.Finish()
	switch {
	case errors.Is(err, ErrForeign):
		v.foreign++
		return nil
	case err != nil:
		v.corrupt++
		return nil
	}
	prev := v.highest.Load()
	if int64(seq) <= prev {
		v.outOfOrder++
		return nil
	}
	if prev >= 0 && int64(seq) > prev+1 {
		v.missing += int64(seq) - prev - 1
	}
	v.highest.Store(int64(seq))
	if int64(seq) >= v.run.firstMeasured.Load() {
		v.lastAt.Store(received)
		lat := max(received-sent, 0) / int64(time.Microsecond)
		v.measured++
		if (v.measured-1)%v.stride == 0 && len(v.latencies) < cap(v.latencies) {
			v.latencies = append(v.latencies, uint32(min(lat, math.MaxUint32)))
		}
	}
	return nil
}
