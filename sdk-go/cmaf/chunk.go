package cmaf

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"time"
)

// Chunk is one CMAF chunk: a moof and its mdat, with the styp, prft, emsg
// and sidx boxes directly before the moof.
type Chunk struct {
	// Data is the chunk's bytes, as they appeared in the stream. It
	// belongs to the caller.
	Data []byte
	// Duration is the play time of the chunk's main track: its first
	// video track, or if it has none the track that lasts longest.
	Duration time.Duration
	// DecodeTime is the main track's tfdt baseMediaDecodeTime (0 if it
	// has none), in units of that track's Timescale.
	DecodeTime uint64
	// Independent says that the main track's first sample is a sync
	// sample (a key frame): a decoder can start at this chunk.
	Independent bool
	// Tracks describes each track fragment (traf) of the moof, in order.
	Tracks []TrackFragment
	// Init is set when the stream carried a new init segment (a new ftyp
	// or moov) since the previous chunk: this chunk and the following
	// ones need it. Nil otherwise, and for the first chunk (see
	// Reader.Init).
	Init *Init
}

// TrackFragment describes one traf of a chunk.
type TrackFragment struct {
	TrackID   uint32
	Timescale uint32
	// DecodeTime is the tfdt baseMediaDecodeTime, in Timescale units; 0
	// without a tfdt.
	DecodeTime uint64
	// Duration is the sum of the samples' durations, in Timescale units.
	Duration uint64
	// Samples is the number of samples.
	Samples uint64
	// Independent says the first sample is a sync sample. False without
	// samples.
	Independent bool
}

// Seconds returns Duration as a time.Duration.
func (tf TrackFragment) Seconds() time.Duration {
	return ticks(tf.Duration, tf.Timescale)
}

// ticks converts a media duration in units of timescale into a
// time.Duration, saturating instead of overflowing.
func ticks(n uint64, timescale uint32) time.Duration {
	if timescale == 0 {
		return 0
	}
	hi, lo := bits.Mul64(n, uint64(time.Second))
	if hi >= uint64(timescale) {
		return math.MaxInt64
	}
	q, r := bits.Div64(hi, lo, uint64(timescale))
	if r >= (uint64(timescale)+1)/2 {
		q++ // round to the nearest nanosecond
	}
	if q > math.MaxInt64 {
		return math.MaxInt64
	}
	return time.Duration(q)
}

// Flags of tfhd and trun, and the sample flag that marks a non-sync sample
// (ISO/IEC 14496-12).
const (
	tfhdBaseDataOffset    = 0x01
	tfhdSampleDescription = 0x02
	tfhdDefaultDuration   = 0x08
	tfhdDefaultSize       = 0x10
	tfhdDefaultFlags      = 0x20
	trunDataOffset        = 0x01
	trunFirstSampleFlags  = 0x04
	trunSampleDuration    = 0x100
	trunSampleSize        = 0x200
	trunSampleFlags       = 0x400
	trunSampleCTO         = 0x800
	sampleIsNonSyncSample = 0x00010000
)

// parseMoof describes the chunk whose moof body is moof, with the tracks of
// in.
func parseMoof(in *Init, moof []byte) (Chunk, error) {
	var c Chunk
	err := eachBox(moof, func(t boxType, body []byte, _ int) error {
		if t != typeTraf {
			return nil
		}
		tf, err := parseTraf(in, body)
		if err != nil {
			return err
		}
		c.Tracks = append(c.Tracks, tf)
		return nil
	})
	if err != nil {
		return Chunk{}, err
	}
	if len(c.Tracks) == 0 {
		return Chunk{}, errors.New("moof without traf")
	}
	main := -1
	for i, tf := range c.Tracks {
		if in.track(tf.TrackID).video() {
			main = i
			break
		}
	}
	if main < 0 {
		for i, tf := range c.Tracks {
			if main < 0 || tf.Seconds() > c.Tracks[main].Seconds() {
				main = i
			}
		}
	}
	m := c.Tracks[main]
	c.Duration, c.DecodeTime, c.Independent = m.Seconds(), m.DecodeTime, m.Independent
	return c, nil
}

func parseTraf(in *Init, traf []byte) (TrackFragment, error) {
	var tf TrackFragment
	var tr *Track
	var defDuration, defFlags uint32
	first := true // the next sample is the traf's first
	err := eachBox(traf, func(t boxType, body []byte, _ int) error {
		f := fields{b: body}
		switch t {
		case typeTfhd:
			if tr != nil {
				return errors.New("two tfhd boxes")
			}
			_, flags := f.fullBox()
			tf.TrackID = f.u32()
			if flags&tfhdBaseDataOffset != 0 {
				f.skip(8)
			}
			if flags&tfhdSampleDescription != 0 {
				f.skip(4)
			}
			if f.bad {
				break
			}
			if tr = in.track(tf.TrackID); tr == nil {
				return fmt.Errorf("traf of track %d, which the init segment does not declare", tf.TrackID)
			}
			tf.Timescale = tr.Timescale
			defDuration, defFlags = tr.defaultDuration, tr.defaultFlags
			if flags&tfhdDefaultDuration != 0 {
				defDuration = f.u32()
			}
			if flags&tfhdDefaultSize != 0 {
				f.skip(4)
			}
			if flags&tfhdDefaultFlags != 0 {
				defFlags = f.u32()
			}
		case typeTfdt:
			if v, _ := f.fullBox(); v == 1 {
				tf.DecodeTime = f.u64()
			} else {
				tf.DecodeTime = uint64(f.u32())
			}
		case typeTrun:
			if tr == nil {
				return errors.New("trun before tfhd")
			}
			_, flags := f.fullBox()
			n := f.u32()
			if flags&trunDataOffset != 0 {
				f.skip(4)
			}
			firstFlags, hasFirstFlags := uint32(0), flags&trunFirstSampleFlags != 0
			if hasFirstFlags {
				firstFlags = f.u32()
			}
			if f.bad {
				break
			}
			dur, sync, err := scanSamples(&f, flags, n, defDuration, defFlags)
			if err != nil {
				return err
			}
			if first && n > 0 {
				if hasFirstFlags {
					sync = firstFlags&sampleIsNonSyncSample == 0
				}
				tf.Independent, first = sync, false
			}
			var carry uint64
			tf.Duration, carry = bits.Add64(tf.Duration, dur, 0)
			tf.Samples += uint64(n)
			if carry != 0 {
				return fmt.Errorf("track %d: duration overflows", tf.TrackID)
			}
		}
		if f.bad {
			return fmt.Errorf("%s of %d bytes is truncated", t, len(body))
		}
		return nil
	})
	if err != nil {
		return TrackFragment{}, fmt.Errorf("traf: %w", err)
	}
	if tr == nil {
		return TrackFragment{}, errors.New("traf without tfhd")
	}
	return tf, nil
}

// scanSamples reads the n sample records of a trun with flags, and returns
// their total duration and whether the first is a sync sample, by its own
// flags or else the defaults.
func scanSamples(f *fields, flags, n, defDuration, defFlags uint32) (dur uint64, firstSync bool, err error) {
	firstSync = defFlags&sampleIsNonSyncSample == 0
	per := 0
	for _, bit := range []uint32{trunSampleDuration, trunSampleSize, trunSampleFlags, trunSampleCTO} {
		if flags&bit != 0 {
			per += 4
		}
	}
	if per == 0 {
		return uint64(n) * uint64(defDuration), firstSync, nil
	}
	if uint64(n)*uint64(per) > uint64(len(f.b)-f.off) {
		return 0, false, fmt.Errorf("trun: %d samples of %d bytes do not fit in %d bytes", n, per, len(f.b)-f.off)
	}
	for i := range n {
		d := defDuration
		if flags&trunSampleDuration != 0 {
			d = f.u32()
		}
		if flags&trunSampleSize != 0 {
			f.skip(4)
		}
		if flags&trunSampleFlags != 0 {
			sf := f.u32()
			if i == 0 {
				firstSync = sf&sampleIsNonSyncSample == 0
			}
		}
		if flags&trunSampleCTO != 0 {
			f.skip(4)
		}
		dur += uint64(d) // fewer than 2^32 samples of under 2^32: no overflow
	}
	return dur, firstSync, nil
}
