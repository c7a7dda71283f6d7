package cmaf

import (
	"bytes"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
)

func TestShiftDecodeTimes(t *testing.T) {
	t.Parallel()
	in := synthInit(videoTrack, audioTrack)
	chunk := slices.Concat(
		box("styp", []byte("msdh")),
		synthChunk(synthTraf{id: 1, samples: 6, tfdt: 3072}, synthTraf{id: 2, samples: 10, tfdt: 100, tfdtV0: true}),
	)
	orig := bytes.Clone(chunk)
	shifted, err := ShiftDecodeTimes(chunk, map[uint32]int64{1: 122880, 2: 384000, 9: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(chunk, orig) {
		t.Fatal("the input was modified")
	}
	_, chunks, err := readAll(t, slices.Concat(in, shifted), nil)
	if err != nil {
		t.Fatal(err)
	}
	c := chunks[0]
	if c.Tracks[0].DecodeTime != 3072+122880 || c.Tracks[1].DecodeTime != 100+384000 || c.DecodeTime != 3072+122880 {
		t.Errorf("decode times %+v", c.Tracks)
	}
	back, err := ShiftDecodeTimes(shifted, map[uint32]int64{1: -122880, 2: -384000})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back, orig) {
		t.Error("shifting back does not restore the chunk")
	}
	if same, err := ShiftDecodeTimes(chunk, nil); err != nil || !bytes.Equal(same, orig) {
		t.Errorf("no offsets: %v", err)
	}
}

func TestShiftDecodeTimesErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		chunk   []byte
		offsets map[uint32]int64
		want    string
	}{
		{"below zero", synthChunk(synthTraf{id: 1, tfdt: 5}), map[uint32]int64{1: -6}, "out of range"},
		{"above 2^64", synthChunk(synthTraf{id: 1, tfdt: math.MaxUint64 - 1}), map[uint32]int64{1: 2}, "out of range"},
		{"min int64", synthChunk(synthTraf{id: 1, tfdt: 5}), map[uint32]int64{1: math.MinInt64}, "out of range"},
		{"version 0 overflow", synthChunk(synthTraf{id: 1, tfdt: math.MaxUint32, tfdtV0: true}), map[uint32]int64{1: 1}, "does not fit in a version 0 tfdt"},
		{"no tfdt", synthChunk(synthTraf{id: 1, noTfdt: true}), map[uint32]int64{1: 1}, "traf without tfdt"},
		{"no tfhd", box("moof", box("traf", fullBox("tfdt", 1, 0, u64(1)))), map[uint32]int64{1: 1}, "traf without tfhd"},
		{"truncated tfdt", box("moof", box("traf", fullBox("tfhd", 0, 0, u32(1)), fullBox("tfdt", 1, 0, u32(1)))), map[uint32]int64{1: 1}, "tfdt of 8 bytes is truncated"},
		{"malformed", []byte{0, 0, 0, 9, 'm', 'o', 'o', 'f'}, map[uint32]int64{1: 1}, "does not fit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := ShiftDecodeTimes(tt.chunk, tt.offsets); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
}

// TestLoopTestdata plays the committed stream twice, the second time
// shifted by its duration per track: decode times keep increasing without
// a gap.
func TestLoopTestdata(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(testdataStream)
	if err != nil {
		t.Fatal(err)
	}
	in, chunks, err := readAll(t, data, nil)
	if err != nil {
		t.Fatal(err)
	}
	total := map[uint32]int64{}
	for _, c := range chunks {
		for _, tf := range c.Tracks {
			total[tf.TrackID] += int64(tf.Duration)
		}
	}
	stream := slices.Clone(in.Data)
	for _, c := range chunks {
		stream = append(stream, c.Data...)
	}
	for _, c := range chunks {
		shifted, err := ShiftDecodeTimes(c.Data, total)
		if err != nil {
			t.Fatal(err)
		}
		stream = append(stream, shifted...)
	}
	_, looped, err := readAll(t, stream, nil)
	if err != nil {
		t.Fatal(err)
	}
	next := map[uint32]uint64{}
	for i, c := range looped {
		for _, tf := range c.Tracks {
			if tf.DecodeTime != next[tf.TrackID] {
				t.Fatalf("chunk %d, track %d: decode time %d, want %d", i, tf.TrackID, tf.DecodeTime, next[tf.TrackID])
			}
			next[tf.TrackID] += tf.Duration
		}
	}
}
