package sample

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	"github.com/hlsrelay/hlsrelay/sdk-go/cmaf"
)

func TestCMAFManifest(t *testing.T) {
	t.Parallel()
	m, err := ReadCMAFManifest()
	if err != nil {
		t.Fatal(err)
	}
	data := CMAFData()
	if "data/"+m.Name != CMAFFile || len(data) != m.Size {
		t.Errorf("manifest names %s of %d bytes; embedded %s has %d", m.Name, m.Size, CMAFFile, len(data))
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != m.SHA256 {
		t.Errorf("sha256 %s, manifest %s", got, m.SHA256)
	}
	if len(data) > 600_000 {
		t.Errorf("the fMP4 sample is %d bytes, keep it under 600 kB", len(data))
	}
	s := CMAF()
	if got := s.Duration.Seconds(); got != m.Duration {
		t.Errorf("duration %v, manifest %v", got, m.Duration)
	}
}

// TestCMAFLayout checks what the script promises: 200 ms chunks, an
// independent chunk exactly every second and only there, decode times
// without gaps, and audio as long as video, so that loops stay in sync.
func TestCMAFLayout(t *testing.T) {
	t.Parallel()
	m, err := ReadCMAFManifest()
	if err != nil {
		t.Fatal(err)
	}
	chunkDur := time.Duration(m.ChunkDuration * float64(time.Second))
	perGOP := int(m.GOP / m.ChunkDuration)
	s := CMAF()
	if len(s.Init.Tracks) != 2 {
		t.Fatalf("tracks %+v, want video and audio", s.Init.Tracks)
	}
	video, audio := s.Init.Tracks[0], s.Init.Tracks[1]
	if video.Handler != "vide" || audio.Handler != "soun" || audio.Timescale != 48000 {
		t.Fatalf("tracks %+v, want video then 48 kHz audio", s.Init.Tracks)
	}
	if want := int(m.Duration / m.ChunkDuration); len(s.Chunks) != want {
		t.Fatalf("%d chunks, want %d", len(s.Chunks), want)
	}
	size := len(s.Init.Data)
	next := map[uint32]uint64{}
	for i, c := range s.Chunks {
		size += len(c.Data)
		if c.Duration != chunkDur {
			t.Errorf("chunk %d: duration %v, want %v", i, c.Duration, chunkDur)
		}
		if c.Independent != (i%perGOP == 0) {
			t.Errorf("chunk %d: independent %v; want a key frame at every %d chunks", i, c.Independent, perGOP)
		}
		if len(c.Tracks) != 2 {
			t.Errorf("chunk %d: %d track fragments, want audio and video muxed", i, len(c.Tracks))
		}
		for _, tf := range c.Tracks {
			if tf.DecodeTime != next[tf.TrackID] {
				t.Errorf("chunk %d, track %d: decode time %d, want %d", i, tf.TrackID, tf.DecodeTime, next[tf.TrackID])
			}
			next[tf.TrackID] += tf.Duration
		}
	}
	if size != len(CMAFData()) {
		t.Errorf("init and chunks hold %d bytes, the file %d", size, len(CMAFData()))
	}
	want := time.Duration(m.Duration * float64(time.Second))
	for _, tr := range s.Init.Tracks {
		d := s.TrackDurations[tr.ID]
		tf := cmaf.TrackFragment{Duration: uint64(d), Timescale: tr.Timescale}
		if got := tf.Seconds(); got != want {
			t.Errorf("track %d (%s) lasts %v (%d/%d), want exactly %v", tr.ID, tr.Handler, got, d, tr.Timescale, want)
		}
	}
}

func TestCMAFIsACopy(t *testing.T) {
	t.Parallel()
	a := CMAF()
	a.Chunks[0].Data[0] ^= 0xff
	a.Init.Data[0] ^= 0xff
	b := CMAF()
	if b.Chunks[0].Data[0] == a.Chunks[0].Data[0] || b.Init.Data[0] == a.Init.Data[0] {
		t.Error("CMAF returned shared bytes")
	}
}
