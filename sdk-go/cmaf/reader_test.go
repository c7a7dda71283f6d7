package cmaf

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// readAll reads a whole stream.
func readAll(t *testing.T, data []byte, opts *ReaderOptions) (*Init, []Chunk, error) {
	t.Helper()
	r := NewReader(bytes.NewReader(data), opts)
	in, err := r.Init()
	if err != nil {
		return nil, nil, err
	}
	var chunks []Chunk
	for {
		c, err := r.Next()
		if err == io.EOF {
			in, _ = r.Init() // the latest
			return in, chunks, nil
		}
		if err != nil {
			return in, chunks, err
		}
		chunks = append(chunks, c)
	}
}

func TestChunkFields(t *testing.T) {
	t.Parallel()
	av := synthInit(videoTrack, audioTrack)
	tests := []struct {
		name            string
		init            []byte
		trafs           []synthTraf
		wantDuration    time.Duration
		wantDecodeTime  uint64
		wantIndependent bool
	}{
		{
			name:  "per-sample durations, first_sample_flags sync over a non-sync default",
			init:  av,
			trafs: []synthTraf{{id: 1, samples: 3, durations: []uint32{512, 1024, 1536}, firstFlags: ptr(syncFlags), tfhdFlags: ptr(nonSyncFlags), tfdt: 99}},
			// 3072 / 15360 s
			wantDuration: 200 * time.Millisecond, wantDecodeTime: 99, wantIndependent: true,
		},
		{
			name:         "tfhd default duration; first_sample_flags non-sync over a sync default",
			init:         av,
			trafs:        []synthTraf{{id: 1, samples: 6, tfhdDur: ptr(256), firstFlags: ptr(nonSyncFlags), tfhdFlags: ptr(syncFlags)}},
			wantDuration: 100 * time.Millisecond,
		},
		{
			name:         "trex default duration and flags (non-sync)",
			init:         av,
			trafs:        []synthTraf{{id: 1, samples: 30}},
			wantDuration: time.Second,
		},
		{
			name:            "trex default flags sync",
			init:            synthInit(synthTrack{id: 1, handler: "vide", timescale: 1000, trexDur: 40}),
			trafs:           []synthTraf{{id: 1, samples: 5}},
			wantDuration:    200 * time.Millisecond,
			wantIndependent: true,
		},
		{
			name:            "per-sample flags of the first sample, over tfhd and trex",
			init:            av,
			trafs:           []synthTraf{{id: 1, samples: 2, flags: []uint32{syncFlags, nonSyncFlags}, tfhdFlags: ptr(nonSyncFlags)}},
			wantDuration:    66666667, // 1024/15360 s, to the nearest nanosecond
			wantIndependent: true,
		},
		{
			name:         "per-sample flags non-sync over a sync tfhd default",
			init:         av,
			trafs:        []synthTraf{{id: 1, samples: 2, flags: []uint32{nonSyncFlags, syncFlags}, tfhdFlags: ptr(syncFlags)}},
			wantDuration: 66666667,
		},
		{
			name:         "tfhd default flags non-sync over a sync trex",
			init:         synthInit(synthTrack{id: 1, handler: "vide", timescale: 1000, trexDur: 40}),
			trafs:        []synthTraf{{id: 1, samples: 5, tfhdFlags: ptr(nonSyncFlags)}},
			wantDuration: 200 * time.Millisecond,
		},
		{
			name: "video decides, even when audio is longer and comes first",
			init: av,
			trafs: []synthTraf{
				{id: 2, samples: 10, tfdt: 7},
				{id: 1, samples: 6, firstFlags: ptr(syncFlags), tfdt: 3072},
			},
			wantDuration: 200 * time.Millisecond, wantDecodeTime: 3072, wantIndependent: true,
		},
		{
			name:  "no video: the longest track",
			init:  synthInit(audioTrack, synthTrack{id: 3, handler: "soun", timescale: 1000, trexDur: 20, trexFlags: nonSyncFlags}),
			trafs: []synthTraf{{id: 2, samples: 10, tfdt: 5}, {id: 3, samples: 11, tfdt: 6}},
			// 10*1024/48000 = 213.33 ms < 220 ms
			wantDuration: 220 * time.Millisecond, wantDecodeTime: 6,
		},
		{
			name:         "two truns: durations add up, the first sample of the first decides",
			init:         av,
			trafs:        []synthTraf{{id: 1, samples: 1, durations: []uint32{512}, firstFlags: ptr(syncFlags), extraTrunOf: 5}},
			wantDuration: 200 * time.Millisecond, wantIndependent: true,
		},
		{
			name:         "empty first trun: the first sample is in the second",
			init:         av,
			trafs:        []synthTraf{{id: 1, samples: 0, firstFlags: ptr(syncFlags), extraTrunOf: 6}},
			wantDuration: 200 * time.Millisecond,
		},
		{
			name:           "version 0 tfdt",
			init:           av,
			trafs:          []synthTraf{{id: 1, samples: 6, tfdt: 1 << 31, tfdtV0: true}},
			wantDuration:   200 * time.Millisecond,
			wantDecodeTime: 1 << 31,
		},
		{
			name:         "no tfdt",
			init:         av,
			trafs:        []synthTraf{{id: 1, samples: 6, noTfdt: true}},
			wantDuration: 200 * time.Millisecond,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			chunk := synthChunk(tt.trafs...)
			_, chunks, err := readAll(t, slices.Concat(tt.init, chunk), nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(chunks) != 1 {
				t.Fatalf("%d chunks, want 1", len(chunks))
			}
			c := chunks[0]
			if c.Duration != tt.wantDuration || c.DecodeTime != tt.wantDecodeTime || c.Independent != tt.wantIndependent {
				t.Errorf("duration %v, decode time %d, independent %v; want %v, %d, %v",
					c.Duration, c.DecodeTime, c.Independent, tt.wantDuration, tt.wantDecodeTime, tt.wantIndependent)
			}
			if !bytes.Equal(c.Data, chunk) {
				t.Errorf("chunk data differs from the moof+mdat")
			}
			if len(c.Tracks) != len(tt.trafs) {
				t.Errorf("%d track fragments, want %d", len(c.Tracks), len(tt.trafs))
			}
		})
	}
}

func TestReaderLayout(t *testing.T) {
	t.Parallel()
	init := synthInit(videoTrack, audioTrack)
	key := synthChunk(synthTraf{id: 1, samples: 6, firstFlags: ptr(syncFlags)}, synthTraf{id: 2, samples: 10})
	delta := synthChunk(synthTraf{id: 1, samples: 6, tfdt: 3072}, synthTraf{id: 2, samples: 9})
	styp := box("styp", []byte("msdh"), u32(0), []byte("msdhmsix"))
	prft := fullBox("prft", 1, 0, u32(1), u64(1), u64(2))
	emsg := fullBox("emsg", 0, 0, []byte("urn:x\x00\x00"), u32(1), u32(0), u32(0), u32(1))
	sidx := fullBox("sidx", 0, 0, u32(1), u32(15360), u32(0), u32(0), u32(0))
	free := box("free", []byte("padding"))
	udta := box("udta", []byte("x"))

	tests := []struct {
		name       string
		stream     []byte
		wantInit   []byte
		wantChunks [][]byte
	}{
		{"plain", slices.Concat(init, key, delta), init, [][]byte{key, delta}},
		{
			"boxes before a moof belong to its chunk",
			slices.Concat(init, styp, prft, key, emsg, sidx, delta),
			init, [][]byte{slices.Concat(styp, prft, key), slices.Concat(emsg, sidx, delta)},
		},
		{
			"styp after the moov belongs to the first chunk",
			slices.Concat(init, styp, key),
			init, [][]byte{slices.Concat(styp, key)},
		},
		{
			"other boxes before the first moof are part of the init segment",
			slices.Concat(init, styp, udta, key),
			slices.Concat(init, styp, udta), [][]byte{key},
		},
		{
			"a box between a styp and its moof stays in the chunk",
			slices.Concat(init, key, styp, free, delta),
			init, [][]byte{key, slices.Concat(styp, free, delta)},
		},
		{
			"boxes between chunks are skipped",
			slices.Concat(init, key, free, box("mfra", []byte("index")), delta, free),
			init, [][]byte{key, delta},
		},
		{
			"64-bit sizes",
			slices.Concat(box64("ftyp", []byte("iso6"), u32(0)), init[24:], box64("moof", key[8:len(key)-15]), box64("mdat", []byte("samples"))),
			slices.Concat(box64("ftyp", []byte("iso6"), u32(0)), init[24:]),
			[][]byte{slices.Concat(box64("moof", key[8:len(key)-15]), box64("mdat", []byte("samples")))},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// One byte at a time, as a slow pipe delivers them.
			r := NewReader(iotest.OneByteReader(bytes.NewReader(tt.stream)), nil)
			in, err := r.Init()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(in.Data, tt.wantInit) {
				t.Errorf("init segment of %d bytes, want %d", len(in.Data), len(tt.wantInit))
			}
			if len(in.Tracks) != 2 || in.Tracks[0] != (Track{ID: 1, Handler: "vide", Timescale: 15360, defaultDuration: 512, defaultFlags: nonSyncFlags}) {
				t.Errorf("tracks %+v", in.Tracks)
			}
			for i, want := range tt.wantChunks {
				c, err := r.Next()
				if err != nil {
					t.Fatalf("chunk %d: %v", i, err)
				}
				if !bytes.Equal(c.Data, want) {
					t.Errorf("chunk %d: %d bytes, want %d", i, len(c.Data), len(want))
				}
				if c.Duration != 200*time.Millisecond || c.Independent != (i == 0) || c.Init != nil {
					t.Errorf("chunk %d: %v, independent %v, init %v", i, c.Duration, c.Independent, c.Init != nil)
				}
			}
			if _, err := r.Next(); err != io.EOF {
				t.Fatalf("after the last chunk: %v, want io.EOF", err)
			}
			if _, err := r.Next(); err != io.EOF {
				t.Fatalf("again: %v, want io.EOF", err)
			}
		})
	}
}

func TestNewInitSegment(t *testing.T) {
	t.Parallel()
	first := synthInit(videoTrack)
	second := synthInit(synthTrack{id: 7, handler: "vide", timescale: 90000, trexDur: 3000, trexFlags: syncFlags})
	stream := slices.Concat(first, synthChunk(synthTraf{id: 1, samples: 6}), second, synthChunk(synthTraf{id: 7, samples: 6}))
	in, chunks, err := readAll(t, stream, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(in.Data, second) {
		t.Error("Init does not return the latest init segment")
	}
	if len(chunks) != 2 || chunks[0].Init != nil || chunks[1].Init == nil {
		t.Fatalf("%d chunks; want 2, the second with the new init segment", len(chunks))
	}
	if c := chunks[1]; !bytes.Equal(c.Init.Data, second) || c.Init.Tracks[0].ID != 7 || c.Duration != 200*time.Millisecond || !c.Independent {
		t.Errorf("second chunk: init of %d bytes, tracks %+v, %v, independent %v", len(c.Init.Data), c.Init.Tracks, c.Duration, c.Independent)
	}
}

func TestReaderErrors(t *testing.T) {
	t.Parallel()
	init := synthInit(videoTrack, audioTrack)
	chunk := synthChunk(synthTraf{id: 1, samples: 6})
	tests := []struct {
		name    string
		stream  []byte
		opts    *ReaderOptions
		want    string
		wantErr error
	}{
		{"empty", nil, nil, "the stream is empty", io.ErrUnexpectedEOF},
		{"no moof", init, nil, "ended before the first moof", io.ErrUnexpectedEOF},
		{"no moov", slices.Concat(box("ftyp", []byte("iso6")), chunk), nil, "no moov", nil},
		{"mdat first", slices.Concat(init, box("mdat", []byte("x"))), nil, "before any moof", nil},
		{"mdat without moof", slices.Concat(init, chunk, box("mdat", []byte("x"))), nil, "without a moof", nil},
		{"moof then moof", slices.Concat(init, chunk[:len(chunk)-15], chunk), nil, "followed by a moof box, want mdat", nil},
		{"moof at the end", slices.Concat(init, chunk[:len(chunk)-15]), nil, "before its mdat", io.ErrUnexpectedEOF},
		{"styp at the end", slices.Concat(init, chunk, box("styp", []byte("msdh"))), nil, "boxes that precede a moof", io.ErrUnexpectedEOF},
		{"size 0", slices.Concat(init, chunk, []byte{0, 0, 0, 0, 'm', 'd', 'a', 't'}), nil, "size 0", nil},
		{"size below the header", slices.Concat(init, []byte{0, 0, 0, 7, 'm', 'o', 'o', 'f'}), nil, "invalid size of 7", nil},
		{"64-bit size below the header", slices.Concat(init, u32(1), []byte("moof"), u64(15)), nil, "invalid size of 15", nil},
		{"truncated 64-bit size", slices.Concat(init, u32(1), []byte("moof"), []byte{0, 0}), nil, "64-bit size", io.ErrUnexpectedEOF},
		{"truncated header", slices.Concat(init, chunk, []byte{0, 0}), nil, "box header", io.ErrUnexpectedEOF},
		{"truncated mdat", slices.Concat(init, chunk[:len(chunk)-1]), nil, "inside the mdat box", io.ErrUnexpectedEOF},
		{"chunk over the limit", slices.Concat(init, chunk), &ReaderOptions{MaxChunkSize: int64(len(chunk) - 1)}, "mdat box of 15 bytes", ErrTooLarge},
		{"moof over the limit", slices.Concat(init, chunk), &ReaderOptions{MaxChunkSize: 20}, "moof box of", ErrTooLarge},
		{"init over the limit", slices.Concat(init, chunk), &ReaderOptions{MaxInitSize: 100}, "moov box of", ErrTooLarge},
		{"huge box", slices.Concat(init, u32(1), []byte("moof"), u64(1<<40)), nil, "exceed its limit of 16777216 bytes", ErrTooLarge},
		{"unknown track", slices.Concat(init, synthChunk(synthTraf{id: 9, samples: 1})), nil, "track 9, which the init segment does not declare", nil},
		{"moof without traf", slices.Concat(init, box("moof", fullBox("mfhd", 0, 0, u32(1))), box("mdat")), nil, "moof without traf", nil},
		{"samples beyond the trun", slices.Concat(init, box("moof", box("traf", fullBox("tfhd", 0, 0, u32(1)), fullBox("trun", 0, trunSampleDuration, u32(1000)))), box("mdat")), nil, "1000 samples of 4 bytes do not fit", nil},
		{"truncated tfhd", slices.Concat(init, box("moof", box("traf", fullBox("tfhd", 0, 0, []byte{0, 0}))), box("mdat")), nil, "tfhd of 6 bytes is truncated", nil},
		{"child box beyond its parent", slices.Concat(init, box("moof", u32(100), []byte("traf")), box("mdat")), nil, "does not fit", nil},
		{"track without timescale", slices.Concat(synthInit(synthTrack{id: 1, handler: "vide"}), chunk), nil, "timescale is 0", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := readAll(t, tt.stream, tt.opts)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "cmaf: ") {
				t.Errorf("error %q, want it to contain %q", err, tt.want)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("error %q does not wrap %v", err, tt.wantErr)
			}
		})
	}
}

// TestTruncatedAnywhere cuts a stream at every byte: the reader returns the
// chunks before the cut, then io.EOF at a chunk boundary and otherwise an
// error wrapping io.ErrUnexpectedEOF.
func TestTruncatedAnywhere(t *testing.T) {
	t.Parallel()
	init := synthInit(videoTrack, audioTrack)
	c1 := slices.Concat(box("styp", []byte("msdh")), synthChunk(synthTraf{id: 1, samples: 6, firstFlags: ptr(syncFlags)}, synthTraf{id: 2, samples: 10}))
	c2 := synthChunk(synthTraf{id: 1, samples: 6}, synthTraf{id: 2, samples: 9})
	stream := slices.Concat(init, c1, c2)
	for n := range len(stream) + 1 {
		_, chunks, err := readAll(t, stream[:n], nil)
		switch n {
		case len(init) + len(c1), len(stream):
			if err != nil {
				t.Fatalf("cut at %d (a chunk boundary): %v", n, err)
			}
			if want := 1 + btoi(n == len(stream)); len(chunks) != want {
				t.Fatalf("cut at %d: %d chunks, want %d", n, len(chunks), want)
			}
		default:
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("cut at %d: %v, want an unexpected EOF", n, err)
			}
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// errReader fails after its data.
type errReader struct {
	data []byte
	err  error
}

func (r *errReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestReadErrorIsWrapped(t *testing.T) {
	t.Parallel()
	broken := errors.New("pipe broke")
	init := synthInit(videoTrack)
	r := NewReader(&errReader{data: init[:30], err: broken}, nil)
	_, err := r.Next()
	if !errors.Is(err, broken) || !strings.Contains(err.Error(), "box header at offset 24") {
		t.Fatalf("got %v", err)
	}
	if _, again := r.Next(); again != err {
		t.Fatalf("second call: %v, want the same error", again)
	}
}
