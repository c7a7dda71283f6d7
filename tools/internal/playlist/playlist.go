// Package playlist reads HLS media playlists (.m3u8) as ffmpeg's HLS muxer
// writes them, watches a growing live playlist for new segments, and writes
// simple media playlists of received fragments.
//
// It understands what a segment publisher needs: EXTINF durations, segment
// URIs, EXT-X-MEDIA-SEQUENCE, EXT-X-DISCONTINUITY, EXT-X-TARGETDURATION and
// EXT-X-ENDLIST. Other tags are ignored.
package playlist

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Playlist is a parsed media playlist.
type Playlist struct {
	TargetDuration time.Duration
	// MediaSequence is the sequence number of the first entry.
	MediaSequence uint64
	Entries       []Entry
	// EndList reports #EXT-X-ENDLIST: no more segments will be added.
	EndList bool
}

// Entry is one media segment.
type Entry struct {
	// URI as written in the playlist (usually a file name relative to it).
	URI      string
	Duration time.Duration
	// Sequence is the segment's media sequence number.
	Sequence uint64
	// Discontinuity reports #EXT-X-DISCONTINUITY before this segment.
	Discontinuity bool
}

// ErrNotPlaylist is wrapped by Parse errors for input that is not a media
// playlist.
var ErrNotPlaylist = errors.New("not an HLS media playlist")

// Parse reads a media playlist. Only complete lines count: text after the
// last newline is ignored, so a playlist read while it is being written
// yields the entries finished so far.
func Parse(data []byte) (*Playlist, error) {
	if i := bytes.LastIndexByte(data, '\n'); i >= 0 {
		data = data[:i+1]
	} else {
		data = nil
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	p := &Playlist{}
	var (
		first       = true
		pending     *Entry // EXTINF seen, URI not yet
		disc        bool
		index       uint64
		lineNo      int
		seenEntries bool
	)
	for sc.Scan() {
		lineNo++
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		if first {
			if line != "#EXTM3U" {
				return nil, fmt.Errorf("%w: first line is %q, want #EXTM3U", ErrNotPlaylist, truncate(line))
			}
			first = false
			continue
		}
		if !strings.HasPrefix(line, "#") {
			if pending == nil {
				return nil, fmt.Errorf("playlist line %d: URI %q without #EXTINF", lineNo, truncate(line))
			}
			pending.URI = line
			pending.Sequence = p.MediaSequence + index
			pending.Discontinuity = disc
			p.Entries = append(p.Entries, *pending)
			pending, disc = nil, false
			index++
			seenEntries = true
			continue
		}
		tag, value, _ := strings.Cut(line, ":")
		switch tag {
		case "#EXTINF":
			d, err := parseSeconds(strings.SplitN(value, ",", 2)[0])
			if err != nil {
				return nil, fmt.Errorf("playlist line %d: EXTINF: %w", lineNo, err)
			}
			pending = &Entry{Duration: d}
		case "#EXT-X-TARGETDURATION":
			d, err := parseSeconds(value)
			if err != nil {
				return nil, fmt.Errorf("playlist line %d: EXT-X-TARGETDURATION: %w", lineNo, err)
			}
			p.TargetDuration = d
		case "#EXT-X-MEDIA-SEQUENCE":
			if seenEntries {
				return nil, fmt.Errorf("playlist line %d: EXT-X-MEDIA-SEQUENCE after the first segment", lineNo)
			}
			n, err := strconv.ParseUint(value, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("playlist line %d: EXT-X-MEDIA-SEQUENCE %q is not a number", lineNo, truncate(value))
			}
			p.MediaSequence = n
		case "#EXT-X-DISCONTINUITY":
			disc = true
		case "#EXT-X-ENDLIST":
			p.EndList = true
		case "#EXT-X-STREAM-INF":
			return nil, fmt.Errorf("%w: a multivariant playlist (EXT-X-STREAM-INF); give a media playlist", ErrNotPlaylist)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read playlist: %w", err)
	}
	if first {
		return nil, fmt.Errorf("%w: empty", ErrNotPlaylist)
	}
	return p, nil
}

func parseSeconds(s string) (time.Duration, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(f) || f < 0 || f > 1e6 {
		return 0, fmt.Errorf("%q is not a duration in seconds", truncate(s))
	}
	return time.Duration(math.Round(f * float64(time.Second))), nil
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}
