package playlist

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// Dated is an Entry with the wall-clock time of its first frame, written as
// EXT-X-PROGRAM-DATE-TIME when not zero.
type Dated struct {
	Entry
	Time time.Time
}

// Append appends a media playlist of entries to dst: version 3, a target
// duration that covers the longest entry, EXT-X-MEDIA-SEQUENCE from the
// first entry, discontinuities, program date times, and EXT-X-ENDLIST if
// ended. Parse reads it back.
func Append(dst []byte, entries []Dated, ended bool) []byte {
	target := 1.0
	for _, e := range entries {
		target = max(target, math.Ceil(e.Duration.Seconds()))
	}
	var first uint64
	if len(entries) > 0 {
		first = entries[0].Sequence
	}
	b := bytes.NewBuffer(dst)
	fmt.Fprintf(b, "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:%d\n#EXT-X-MEDIA-SEQUENCE:%d\n", int64(target), first)
	for _, e := range entries {
		if e.Discontinuity {
			b.WriteString("#EXT-X-DISCONTINUITY\n")
		}
		if !e.Time.IsZero() {
			b.WriteString("#EXT-X-PROGRAM-DATE-TIME:" + e.Time.UTC().Format("2006-01-02T15:04:05.000Z") + "\n")
		}
		b.WriteString("#EXTINF:" + strconv.FormatFloat(e.Duration.Seconds(), 'f', 6, 64) + ",\n" + e.URI + "\n")
	}
	if ended {
		b.WriteString("#EXT-X-ENDLIST\n")
	}
	return b.Bytes()
}

// WriteFile writes the playlist to path atomically (a temporary file renamed
// over it), so a player polling the file never reads half of it.
func WriteFile(path string, entries []Dated, ended bool) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(Append(nil, entries, ended)); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
