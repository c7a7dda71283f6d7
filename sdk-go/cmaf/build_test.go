package cmaf

import (
	"encoding/binary"
	"slices"
)

// Builders of synthetic boxes for tests that need exact control over the
// fields the parser reads.

func u32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

func box(t string, body ...[]byte) []byte {
	b := slices.Concat(body...)
	return slices.Concat(u32(uint32(8+len(b))), []byte(t), b)
}

// box64 is box with a 64-bit size field.
func box64(t string, body ...[]byte) []byte {
	b := slices.Concat(body...)
	return slices.Concat(u32(1), []byte(t), u64(uint64(16+len(b))), b)
}

func fullBox(t string, version uint8, flags uint32, body ...[]byte) []byte {
	return box(t, append([]byte{version, byte(flags >> 16), byte(flags >> 8), byte(flags)}, slices.Concat(body...)...))
}

type synthTrack struct {
	id        uint32
	handler   string
	timescale uint32
	trexDur   uint32
	trexFlags uint32
}

func synthInit(tracks ...synthTrack) []byte {
	var traks, trexes [][]byte
	for _, t := range tracks {
		traks = append(traks, box("trak",
			fullBox("tkhd", 0, 3, u32(0), u32(0), u32(t.id), make([]byte, 68)),
			box("mdia",
				fullBox("mdhd", 0, 0, u32(0), u32(0), u32(t.timescale), u32(0), make([]byte, 4)),
				fullBox("hdlr", 0, 0, u32(0), []byte(t.handler), make([]byte, 13)),
			),
		))
		trexes = append(trexes, fullBox("trex", 0, 0, u32(t.id), u32(1), u32(t.trexDur), u32(0), u32(t.trexFlags)))
	}
	return slices.Concat(
		box("ftyp", []byte("iso6"), u32(0), []byte("iso6cmfc")),
		box("moov", fullBox("mvhd", 0, 0, make([]byte, 96)), slices.Concat(traks...), box("mvex", slices.Concat(trexes...))),
	)
}

// synthTraf describes one traf: optional tfhd defaults, a tfdt, and one
// trun.
type synthTraf struct {
	id          uint32
	tfhdDur     *uint32
	tfhdFlags   *uint32
	tfdt        uint64
	tfdtV0      bool
	noTfdt      bool
	samples     uint32
	durations   []uint32 // per-sample durations, if set
	flags       []uint32 // per-sample flags, if set
	firstFlags  *uint32
	extraTrunOf uint32 // a second trun with this many samples (default durations)
}

func ptr(v uint32) *uint32 { return &v }

func (s synthTraf) box() []byte {
	var tfhdFlags uint32 = 0x020000 // default-base-is-moof
	var opt [][]byte
	if s.tfhdDur != nil {
		tfhdFlags |= tfhdDefaultDuration
		opt = append(opt, u32(*s.tfhdDur))
	}
	if s.tfhdFlags != nil {
		tfhdFlags |= tfhdDefaultFlags
		opt = append(opt, u32(*s.tfhdFlags))
	}
	parts := [][]byte{fullBox("tfhd", 0, tfhdFlags, u32(s.id), slices.Concat(opt...))}
	switch {
	case s.noTfdt:
	case s.tfdtV0:
		parts = append(parts, fullBox("tfdt", 0, 0, u32(uint32(s.tfdt))))
	default:
		parts = append(parts, fullBox("tfdt", 1, 0, u64(s.tfdt)))
	}
	var trunFlags uint32 = trunDataOffset
	trun := [][]byte{u32(s.samples), u32(0)}
	if s.firstFlags != nil {
		trunFlags |= trunFirstSampleFlags
		trun = append(trun, u32(*s.firstFlags))
	}
	if s.durations != nil {
		trunFlags |= trunSampleDuration
	}
	if s.flags != nil {
		trunFlags |= trunSampleFlags
	}
	trunFlags |= trunSampleSize
	for i := range s.samples {
		if s.durations != nil {
			trun = append(trun, u32(s.durations[i]))
		}
		trun = append(trun, u32(10))
		if s.flags != nil {
			trun = append(trun, u32(s.flags[i]))
		}
	}
	parts = append(parts, fullBox("trun", 0, trunFlags, slices.Concat(trun...)))
	if s.extraTrunOf > 0 {
		parts = append(parts, fullBox("trun", 0, trunSampleSize, u32(s.extraTrunOf), slices.Repeat(u32(10), int(s.extraTrunOf))))
	}
	return box("traf", slices.Concat(parts...))
}

func synthChunk(trafs ...synthTraf) []byte {
	var b [][]byte
	for _, t := range trafs {
		b = append(b, t.box())
	}
	return slices.Concat(box("moof", fullBox("mfhd", 0, 0, u32(1)), slices.Concat(b...)), box("mdat", []byte("samples")))
}

const (
	syncFlags    = 0x02000000 // depends on no other sample
	nonSyncFlags = 0x01010000 // depends on others, sample_is_non_sync_sample
)

var (
	videoTrack = synthTrack{id: 1, handler: "vide", timescale: 15360, trexDur: 512, trexFlags: nonSyncFlags}
	audioTrack = synthTrack{id: 2, handler: "soun", timescale: 48000, trexDur: 1024}
)
