// Package sample embeds a short live-like stream for demos and tests: about
// 6 s of test pattern with a burnt-in timecode and a tone, 640x360 at 30 fps,
// H.264 baseline + AAC, cut into 1 s MPEG-TS segments, each starting with a
// keyframe. The files in data/ are made by tools/sample/make-sample.sh; the
// manifest data/sample.json lists the segments in order with their exact
// durations (from the playlist's EXTINF).
//
// The same content also exists as fragmented MP4 for publishing in parts
// (CMAF, cmaf.go): 8 s in 200 ms chunks, made by
// tools/sample/make-cmaf-sample.sh.
package sample

import (
	"embed"
	"encoding/json"
	"fmt"
	"path"
	"sync"
	"time"
)

//go:embed data/sample.json data/*.ts data/cmaf.mp4 data/cmaf.json
var files embed.FS

// ManifestFile is the manifest's path inside the embedded data.
const ManifestFile = "data/sample.json"

// Segment is one MPEG-TS segment of the sample.
type Segment struct {
	// Name is the file name, e.g. "seg000.ts".
	Name string
	// Duration is the segment's duration from the playlist.
	Duration time.Duration
	// Data is the segment's bytes. It is shared by every caller of
	// Segments and must not be modified.
	Data []byte
}

// Manifest is the decoded data/sample.json.
type Manifest struct {
	Description string          `json:"description"`
	Segments    []ManifestEntry `json:"segments"`
}

// ManifestEntry describes one segment file in the manifest.
type ManifestEntry struct {
	Name string `json:"name"`
	// Duration in seconds.
	Duration float64 `json:"duration"`
	Size     int     `json:"size"`
	SHA256   string  `json:"sha256"`
}

var load = sync.OnceValues(func() ([]Segment, error) {
	m, err := ReadManifest()
	if err != nil {
		return nil, err
	}
	segs := make([]Segment, 0, len(m.Segments))
	for _, e := range m.Segments {
		data, err := files.ReadFile(path.Join("data", e.Name))
		if err != nil {
			return nil, fmt.Errorf("sample: segment listed in the manifest: %w", err)
		}
		segs = append(segs, Segment{
			Name:     e.Name,
			Duration: time.Duration(e.Duration * float64(time.Second)),
			Data:     data,
		})
	}
	if len(segs) == 0 {
		return nil, fmt.Errorf("sample: the manifest lists no segments")
	}
	return segs, nil
})

// ReadManifest decodes the embedded manifest.
func ReadManifest() (Manifest, error) {
	raw, err := files.ReadFile(ManifestFile)
	if err != nil {
		return Manifest{}, fmt.Errorf("sample: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return Manifest{}, fmt.Errorf("sample: decode %s: %w", ManifestFile, err)
	}
	return m, nil
}

// Segments returns the sample's segments in playback order. The returned
// slice is a fresh copy; the segment bytes are shared and read-only. It
// panics if the embedded data is broken, which the package's tests rule out.
func Segments() []Segment {
	segs, err := load()
	if err != nil {
		panic(err)
	}
	return append([]Segment(nil), segs...)
}

// Duration returns the sum of the segments' durations.
func Duration() time.Duration {
	var total time.Duration
	for _, s := range Segments() {
		total += s.Duration
	}
	return total
}
