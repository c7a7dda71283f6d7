// Package feed produces the MPEG-TS segments that tools/cmd/publish sends:
// a replay of a fixed list (the embedded sample, a directory of segments)
// paced in real time, or the live output of ffmpeg's HLS muxer. For
// publishing in parts it produces fragmented MP4 chunks instead (cmaf.go):
// a looped recording, ffmpeg's fMP4 output on a pipe, or any reader of fMP4.
package feed

import (
	"context"
	"time"
)

// Segment is one MPEG-TS segment ready to publish.
type Segment struct {
	// Name identifies the segment in logs (a file name).
	Name     string
	Duration time.Duration
	Data     []byte
	// Time is the wall-clock time of the segment's first frame; zero when
	// unknown.
	Time time.Time
	// Disc marks a discontinuity before the segment: timestamps jump (a
	// replay restarted, segments were lost, the source changed).
	Disc bool
}

// Sink receives segments in order. An error stops the feed and is returned
// by it.
type Sink func(ctx context.Context, s Segment) error
