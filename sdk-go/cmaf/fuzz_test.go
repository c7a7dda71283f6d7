package cmaf

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"testing"
)

// FuzzReader: any input ends in chunks then io.EOF or an error, never a
// panic; each chunk's bytes come from the input in order, and a chunk the
// Reader accepted can be shifted and shifted back.
func FuzzReader(f *testing.F) {
	init := synthInit(videoTrack, audioTrack)
	key := synthChunk(synthTraf{id: 1, samples: 6, firstFlags: ptr(syncFlags)}, synthTraf{id: 2, samples: 3, durations: []uint32{1024, 1024, 1000}})
	f.Add(slices.Concat(init, key))
	f.Add(slices.Concat(init, box("styp", []byte("msdh")), key, box("free"), key))
	f.Add(slices.Concat(box64("ftyp", []byte("iso6")), init[24:], box64("moof", key[8:len(key)-15]), box64("mdat", []byte("x"))))
	f.Add(slices.Concat(init, key, synthInit(audioTrack), synthChunk(synthTraf{id: 2, samples: 1})))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(bytes.NewReader(data), &ReaderOptions{MaxInitSize: 64 << 10, MaxChunkSize: 256 << 10})
		in, err := r.Init()
		if err != nil {
			if in != nil {
				t.Fatal("an init segment with an error")
			}
			return
		}
		rest := data
		if !bytes.HasPrefix(rest, in.Data) {
			t.Fatal("the init segment is not the start of the input")
		}
		rest = rest[len(in.Data):]
		for {
			c, err := r.Next()
			if err == io.EOF {
				return
			}
			if err != nil {
				if errors.Is(err, io.EOF) {
					t.Fatalf("error wraps io.EOF: %v", err)
				}
				return
			}
			i := bytes.Index(rest, c.Data)
			if len(c.Data) == 0 || i < 0 {
				t.Fatal("chunk bytes are not in the rest of the input")
			}
			rest = rest[i+len(c.Data):]
			offsets := map[uint32]int64{}
			for _, tf := range c.Tracks {
				offsets[tf.TrackID] = 1 << 20
			}
			checkShiftRoundTrip(t, c.Data, offsets)
		}
	})
}

// FuzzShiftDecodeTimes: any input fails or is shifted without a change of
// size, leaving the input alone, and shifting back restores it.
func FuzzShiftDecodeTimes(f *testing.F) {
	f.Add(synthChunk(synthTraf{id: 1, samples: 6, tfdt: 3072}), uint32(1), int64(122880))
	f.Add(synthChunk(synthTraf{id: 1, tfdt: 7, tfdtV0: true}, synthTraf{id: 2, tfdt: 9}), uint32(2), int64(-9))
	f.Fuzz(func(t *testing.T, data []byte, track uint32, offset int64) {
		checkShiftRoundTrip(t, data, map[uint32]int64{track: offset})
	})
}

func checkShiftRoundTrip(t *testing.T, data []byte, offsets map[uint32]int64) {
	t.Helper()
	orig := bytes.Clone(data)
	shifted, err := ShiftDecodeTimes(data, offsets)
	if !bytes.Equal(data, orig) {
		t.Fatal("the input was modified")
	}
	if err != nil {
		return
	}
	if len(shifted) != len(data) {
		t.Fatalf("%d bytes shifted into %d", len(data), len(shifted))
	}
	back := map[uint32]int64{}
	for id, d := range offsets {
		if d == -d && d != 0 { // MinInt64 cannot be negated; it never shifts successfully anyway
			return
		}
		back[id] = -d
	}
	restored, err := ShiftDecodeTimes(shifted, back)
	if err != nil {
		t.Fatalf("shifting back: %v", err)
	}
	if !bytes.Equal(restored, orig) {
		t.Fatal("shifting back does not restore the input")
	}
}
