package cmaf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// ShiftDecodeTimes returns a copy of chunk, a sequence of top-level boxes
// such as Chunk.Data, in which the tfdt baseMediaDecodeTime of each traf
// is moved by offsets[trackID] (in that track's timescale; tracks not in
// offsets keep theirs). Looping a recording with an offset of the
// recording's duration per track gives timestamps that keep increasing, as
// a live encoder's do. Other boxes that carry media times (sidx, prft,
// emsg) are copied unchanged.
//
// It fails, leaving chunk untouched, if a box is malformed, a traf to shift
// has no tfdt, or a time would fall below 0 or, for a version 0 tfdt,
// above 2^32-1.
func ShiftDecodeTimes(chunk []byte, offsets map[uint32]int64) ([]byte, error) {
	out := append([]byte(nil), chunk...)
	err := eachBox(out, func(t boxType, moof []byte, _ int) error {
		if t != typeMoof {
			return nil
		}
		return eachBox(moof, func(t boxType, traf []byte, _ int) error {
			if t != typeTraf {
				return nil
			}
			return shiftTraf(traf, offsets)
		})
	})
	if err != nil {
		return nil, fmt.Errorf("cmaf: shift decode times: %w", err)
	}
	return out, nil
}

// shiftTraf moves the tfdt of one traf, in place.
func shiftTraf(traf []byte, offsets map[uint32]int64) error {
	var id uint32
	haveID := false
	var tfdt []byte
	err := eachBox(traf, func(t boxType, body []byte, _ int) error {
		switch t {
		case typeTfhd:
			if len(body) < 8 {
				return fmt.Errorf("tfhd of %d bytes is truncated", len(body))
			}
			id, haveID = binary.BigEndian.Uint32(body[4:]), true
		case typeTfdt:
			if tfdt != nil {
				return errors.New("traf with two tfdt boxes")
			}
			tfdt = body
		}
		return nil
	})
	switch {
	case err != nil:
		return err
	case !haveID:
		return errors.New("traf without tfhd")
	}
	off, shift := offsets[id]
	if !shift || off == 0 {
		return nil
	}
	if tfdt == nil {
		return fmt.Errorf("track %d: traf without tfdt", id)
	}
	if len(tfdt) < 1 {
		return fmt.Errorf("track %d: empty tfdt", id)
	}
	if tfdt[0] == 1 {
		if len(tfdt) < 12 {
			return fmt.Errorf("track %d: tfdt of %d bytes is truncated", id, len(tfdt))
		}
		v, ok := add(binary.BigEndian.Uint64(tfdt[4:]), off, math.MaxUint64)
		if !ok {
			return fmt.Errorf("track %d: decode time %d moved by %d is out of range", id, binary.BigEndian.Uint64(tfdt[4:]), off)
		}
		binary.BigEndian.PutUint64(tfdt[4:], v)
		return nil
	}
	if len(tfdt) < 8 {
		return fmt.Errorf("track %d: tfdt of %d bytes is truncated", id, len(tfdt))
	}
	old := uint64(binary.BigEndian.Uint32(tfdt[4:]))
	v, ok := add(old, off, math.MaxUint32)
	if !ok {
		return fmt.Errorf("track %d: decode time %d moved by %d does not fit in a version 0 tfdt", id, old, off)
	}
	binary.BigEndian.PutUint32(tfdt[4:], uint32(v))
	return nil
}

// add returns v+d if it lies in [0, limit].
func add(v uint64, d int64, limit uint64) (uint64, bool) {
	if d >= 0 {
		u := uint64(d)
		if v > limit || u > limit-v {
			return 0, false
		}
		return v + u, true
	}
	u := uint64(-(d + 1)) + 1 // |d| without overflowing for MinInt64
	if u > v {
		return 0, false
	}
	return v - u, v-u <= limit
}
