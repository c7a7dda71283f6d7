// Package mpegts inspects MPEG-TS segments just enough to publish them: it
// checks the 188-byte packet framing and reads presentation timestamps to
// measure a segment's duration when no playlist gives it.
package mpegts

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// PacketSize is the size of an MPEG-TS packet.
const PacketSize = 188

const syncByte = 0x47

// ErrNotTS is wrapped by errors for data that is not MPEG-TS.
var ErrNotTS = errors.New("not MPEG-TS")

// CheckFraming reports whether data is a whole number of packets, each
// starting with the sync byte 0x47.
func CheckFraming(data []byte) error {
	if len(data) == 0 {
		return fmt.Errorf("%w: empty", ErrNotTS)
	}
	if len(data)%PacketSize != 0 {
		return fmt.Errorf("%w: %d bytes is not a multiple of %d", ErrNotTS, len(data), PacketSize)
	}
	for off := 0; off < len(data); off += PacketSize {
		if data[off] != syncByte {
			return fmt.Errorf("%w: no sync byte at offset %d", ErrNotTS, off)
		}
	}
	return nil
}

// ptsHz is the 90 kHz clock of PES timestamps; timestamps wrap at 2^33.
const (
	ptsHz   = 90000
	ptsWrap = 1 << 33
)

// Timing is what the PES headers of a segment say about its timeline.
type Timing struct {
	// PID of the elementary stream the timing comes from: the first video
	// stream (PES stream_id 0xE0-0xEF) if any, else the first audio stream.
	PID uint16
	// First is the PTS of the first PES packet, in 90 kHz ticks.
	First int64
	// Span is the distance from the earliest to the latest PTS (ticks,
	// unwrapped).
	Span int64
	// FrameTicks is the most common PTS step between consecutive frames;
	// 0 with fewer than two frames.
	FrameTicks int64
	// Frames counts PES packets with a PTS.
	Frames int
}

// Duration estimates the segment's duration: the span of its timestamps
// plus one frame.
func (t Timing) Duration() time.Duration {
	return ticks(t.Span + t.FrameTicks)
}

func ticks(n int64) time.Duration {
	return time.Duration(n) * time.Second / ptsHz
}

// Since returns the duration from the first PTS of earlier to the first of
// t, handling the 33-bit wrap; it is the exact duration of earlier when t is
// the next segment of the same stream.
func (t Timing) Since(earlier Timing) time.Duration {
	return ticks(unwrapDelta(earlier.First, t.First))
}

func unwrapDelta(from, to int64) int64 {
	d := (to - from) % ptsWrap
	if d < -ptsWrap/2 {
		d += ptsWrap
	} else if d > ptsWrap/2 {
		d -= ptsWrap
	}
	return d
}

// ReadTiming scans the PES headers of a segment.
func ReadTiming(data []byte) (Timing, error) {
	if err := CheckFraming(data); err != nil {
		return Timing{}, err
	}
	type stream struct {
		video bool
		pts   []int64
		order int
	}
	streams := map[uint16]*stream{}
	for off := 0; off < len(data); off += PacketSize {
		pkt := data[off : off+PacketSize]
		pusi := pkt[1]&0x40 != 0
		pid := uint16(pkt[1]&0x1f)<<8 | uint16(pkt[2])
		afc := pkt[3] >> 4 & 0x3
		if !pusi || afc&0x1 == 0 || pid == 0x1fff {
			continue
		}
		payload := pkt[4:]
		if afc&0x2 != 0 {
			n := int(pkt[4])
			if 1+n >= len(payload) {
				continue
			}
			payload = payload[1+n:]
		}
		pts, streamID, ok := parsePES(payload)
		if !ok {
			continue
		}
		isVideo := streamID >= 0xE0 && streamID <= 0xEF
		isAudio := streamID >= 0xC0 && streamID <= 0xDF || streamID == 0xBD
		if !isVideo && !isAudio {
			continue
		}
		s := streams[pid]
		if s == nil {
			s = &stream{video: isVideo, order: len(streams)}
			streams[pid] = s
		}
		s.pts = append(s.pts, pts)
	}
	var best *stream
	var bestPID uint16
	for pid, s := range streams {
		if best == nil || s.video && !best.video || s.video == best.video && s.order < best.order {
			best, bestPID = s, pid
		}
	}
	if best == nil || len(best.pts) == 0 {
		return Timing{}, fmt.Errorf("%w: no PES packet with a timestamp", ErrNotTS)
	}
	return timingOf(bestPID, best.pts), nil
}

func timingOf(pid uint16, pts []int64) Timing {
	t := Timing{PID: pid, First: pts[0], Frames: len(pts)}
	// Positions relative to the first PTS, unwrapped; B-frames make PTS
	// non-monotonic, so take min and max.
	rel := make([]int64, len(pts))
	lo, hi := int64(0), int64(0)
	for i, p := range pts {
		rel[i] = unwrapDelta(pts[0], p)
		lo, hi = min(lo, rel[i]), max(hi, rel[i])
	}
	t.Span = hi - lo
	if len(rel) > 1 {
		sorted := append([]int64(nil), rel...)
		slices.Sort(sorted)
		counts := map[int64]int{}
		for i := 1; i < len(sorted); i++ {
			if d := sorted[i] - sorted[i-1]; d > 0 {
				counts[d]++
			}
		}
		bestN := 0
		for d, n := range counts {
			if n > bestN || n == bestN && d < t.FrameTicks {
				t.FrameTicks, bestN = d, n
			}
		}
	}
	return t
}

// parsePES reads the PTS of a PES packet header at the start of payload.
func parsePES(p []byte) (pts int64, streamID byte, ok bool) {
	if len(p) < 14 || p[0] != 0 || p[1] != 0 || p[2] != 1 {
		return 0, 0, false
	}
	streamID = p[3]
	if p[6]&0xC0 != 0x80 { // MPEG-2 PES header marker bits '10'
		return 0, 0, false
	}
	if p[7]&0x80 == 0 { // no PTS
		return 0, 0, false
	}
	b := p[9:14]
	pts = int64(b[0]>>1&0x07)<<30 | int64(b[1])<<22 | int64(b[2]>>1)<<15 | int64(b[3])<<7 | int64(b[4]>>1)
	return pts, streamID, true
}
