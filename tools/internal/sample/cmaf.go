package sample

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/hlsrelay/hlsrelay/sdk-go/cmaf"
)

// The fMP4/CMAF sample: the same picture and sound as the MPEG-TS one, 8 s
// long, as one fragmented MP4 (audio and video muxed) made by
// tools/sample/make-cmaf-sample.sh: an init segment, then a chunk (moof +
// mdat) every 200 ms, with a key frame every second, i.e. every fifth
// chunk starts independent. Audio and video last exactly 8 s each, so the
// sample loops without drifting apart.

// CMAFFile and CMAFManifestFile are the fMP4 sample's paths inside the
// embedded data.
const (
	CMAFFile         = "data/cmaf.mp4"
	CMAFManifestFile = "data/cmaf.json"
)

// CMAFStream is the fMP4 sample split by sdk-go/cmaf.
type CMAFStream struct {
	// Init is the init segment (ftyp + moov) and its tracks.
	Init *cmaf.Init
	// Chunks are the chunks in order, with their bytes, duration,
	// independence and decode times.
	Chunks []cmaf.Chunk
	// Duration is the sum of the chunks' durations.
	Duration time.Duration
	// TrackDurations is each track's total duration in its timescale: the
	// offset by which each pass of a loop shifts that track's decode times
	// (cmaf.ShiftDecodeTimes) so that they keep increasing.
	TrackDurations map[uint32]int64
}

// CMAFManifest is the decoded data/cmaf.json.
type CMAFManifest struct {
	Description string `json:"description"`
	Name        string `json:"name"`
	// Duration, ChunkDuration and GOP in seconds.
	Duration      float64 `json:"duration"`
	ChunkDuration float64 `json:"chunk_duration"`
	GOP           float64 `json:"gop"`
	Size          int     `json:"size"`
	SHA256        string  `json:"sha256"`
}

// CMAFData returns the fMP4 sample's bytes: a fresh copy.
func CMAFData() []byte {
	data, err := files.ReadFile(CMAFFile)
	if err != nil {
		panic(fmt.Sprintf("sample: %v", err))
	}
	return data
}

// ReadCMAFManifest decodes the embedded data/cmaf.json.
func ReadCMAFManifest() (CMAFManifest, error) {
	raw, err := files.ReadFile(CMAFManifestFile)
	if err != nil {
		return CMAFManifest{}, fmt.Errorf("sample: %w", err)
	}
	var m CMAFManifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return CMAFManifest{}, fmt.Errorf("sample: decode %s: %w", CMAFManifestFile, err)
	}
	return m, nil
}

// CMAF returns the fMP4 sample split into its init segment and chunks,
// parsed afresh on each call (the bytes belong to the caller). It panics if
// the embedded data is broken, which the package's tests rule out.
func CMAF() CMAFStream {
	s, err := ParseCMAF(CMAFData())
	if err != nil {
		panic(fmt.Sprintf("sample: %s: %v", CMAFFile, err))
	}
	return s
}

// ParseCMAF splits an fMP4 stream such as the sample.
func ParseCMAF(data []byte) (CMAFStream, error) {
	r := cmaf.NewReader(bytes.NewReader(data), nil)
	in, err := r.Init()
	if err != nil {
		return CMAFStream{}, err
	}
	s := CMAFStream{Init: in, TrackDurations: map[uint32]int64{}}
	for {
		c, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return CMAFStream{}, err
		}
		if c.Init != nil {
			return CMAFStream{}, fmt.Errorf("a second init segment before chunk %d", len(s.Chunks))
		}
		s.Chunks = append(s.Chunks, c)
		s.Duration += c.Duration
		for _, tf := range c.Tracks {
			s.TrackDurations[tf.TrackID] += int64(tf.Duration)
		}
	}
	if len(s.Chunks) == 0 {
		return CMAFStream{}, fmt.Errorf("no chunk")
	}
	return s, nil
}
