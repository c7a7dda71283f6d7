package bench

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
)

// A bench fragment carries, in its first HeaderSize bytes, what a viewer
// needs to measure latency and check order and integrity:
//
//	0  magic "HRB1"
//	4  sequence number (uint64, big endian)
//	12 send time: nanoseconds since the run's monotonic epoch (int64)
//	20 total length of the fragment (uint32)
//	24 run id (uint64): tells this run's fragments from any other's
//
// then a body that is the same pseudo-random pattern for every fragment of a
// run (so a viewer checks it with one memory compare per read), and a
// TrailerSize-byte trailer holding the sequence number XOR the run id, which
// catches truncated or spliced messages.
const (
	HeaderSize  = 32
	TrailerSize = 8
	// MinFragmentSize is the smallest fragment the bench can send.
	MinFragmentSize = HeaderSize + TrailerSize
)

var magic = [4]byte{'H', 'R', 'B', '1'}

// Payload builds and checks the fragments of one run. It is immutable after
// NewPayload and safe for concurrent use.
type Payload struct {
	size  int
	runID uint64
	body  []byte // len size-HeaderSize-TrailerSize
}

// NewPayload returns the payload format for fragments of size bytes.
func NewPayload(size int, runID uint64) (*Payload, error) {
	if size < MinFragmentSize || size > 1<<31-1 {
		return nil, fmt.Errorf("fragment size %d is out of range [%d, %d]", size, MinFragmentSize, 1<<31-1)
	}
	body := make([]byte, size-HeaderSize-TrailerSize)
	rng := rand.NewChaCha8([32]byte{0: byte(runID), 1: byte(runID >> 8), 2: byte(runID >> 16), 3: byte(runID >> 24)})
	_, _ = rng.Read(body)
	return &Payload{size: size, runID: runID, body: body}, nil
}

// Size returns the fragment size in bytes.
func (p *Payload) Size() int { return p.size }

// NewBuffer returns a fragment buffer with the body and magic filled in;
// Stamp completes it for each send.
func (p *Payload) NewBuffer() []byte {
	b := make([]byte, p.size)
	copy(b, magic[:])
	binary.BigEndian.PutUint32(b[20:], uint32(p.size))
	binary.BigEndian.PutUint64(b[24:], p.runID)
	copy(b[HeaderSize:], p.body)
	return b
}

// Stamp writes the sequence number and send time into a buffer made by
// NewBuffer.
func (p *Payload) Stamp(b []byte, seq uint64, sentNanos int64) {
	binary.BigEndian.PutUint64(b[4:], seq)
	binary.BigEndian.PutUint64(b[12:], uint64(sentNanos))
	binary.BigEndian.PutUint64(b[len(b)-TrailerSize:], seq^p.runID)
}

// Errors a Checker reports. They are counted, never fatal to a viewer.
var (
	ErrForeign = errors.New("not a fragment of this run")
	ErrCorrupt = errors.New("corrupt fragment")
)

// Checker verifies one viewer's incoming fragment as it streams in, without
// holding the whole message: Reset at the start of a binary message, Write
// every chunk read, Finish at its end. A Checker is owned by one viewer.
type Checker struct {
	p       *Payload
	off     int
	header  [HeaderSize]byte
	trailer [TrailerSize]byte
	bad     bool
}

// NewChecker returns a Checker for p's fragments.
func NewChecker(p *Payload) *Checker {
	return &Checker{p: p}
}

// Reset prepares for a new message.
func (c *Checker) Reset() {
	c.off = 0
	c.bad = false
}

// Write checks the next chunk of the message. It never fails; problems are
// reported by Finish.
func (c *Checker) Write(b []byte) (int, error) {
	n := len(b)
	size := c.p.size
	for len(b) > 0 && !c.bad {
		switch {
		case c.off < HeaderSize:
			k := copy(c.header[c.off:], b)
			c.off += k
			b = b[k:]
		case c.off < size-TrailerSize:
			end := min(len(b), size-TrailerSize-c.off)
			start := c.off - HeaderSize
			if !bytes.Equal(b[:end], c.p.body[start:start+end]) {
				c.bad = true
			}
			c.off += end
			b = b[end:]
		case c.off < size:
			k := copy(c.trailer[c.off-(size-TrailerSize):], b)
			c.off += k
			b = b[k:]
		default:
			c.off += len(b) // longer than the header says
			c.bad = true
		}
	}
	return n, nil
}

// Finish checks the complete message and returns its sequence number and
// send time.
func (c *Checker) Finish() (seq uint64, sentNanos int64, err error) {
	if c.off < HeaderSize || [4]byte(c.header[:4]) != magic {
		return 0, 0, ErrForeign
	}
	if binary.BigEndian.Uint64(c.header[24:]) != c.p.runID {
		return 0, 0, ErrForeign
	}
	seq = binary.BigEndian.Uint64(c.header[4:])
	sentNanos = int64(binary.BigEndian.Uint64(c.header[12:]))
	switch {
	case int(binary.BigEndian.Uint32(c.header[20:])) != c.p.size:
		err = fmt.Errorf("%w: header says %d bytes, this run sends %d", ErrCorrupt, binary.BigEndian.Uint32(c.header[20:]), c.p.size)
	case c.off != c.p.size:
		err = fmt.Errorf("%w: %d bytes, want %d", ErrCorrupt, c.off, c.p.size)
	case c.bad:
		err = fmt.Errorf("%w: body differs", ErrCorrupt)
	case binary.BigEndian.Uint64(c.trailer[:])^c.p.runID != seq:
		err = fmt.Errorf("%w: trailer does not match sequence number %d", ErrCorrupt, seq)
	}
	return seq, sentNanos, err
}
