package feed

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hlsrelay/hlsrelay/tools/internal/mpegts"
	"github.com/hlsrelay/hlsrelay/tools/internal/playlist"
)

// MaxDirBytes bounds what LoadDir reads into memory.
const MaxDirBytes = 1 << 30

// maxProbedGap: a PTS step between consecutive segments longer than this is
// taken as a timestamp jump, not a duration.
const maxProbedGap = 60 * time.Second

// LoadDir reads a directory of MPEG-TS segments into memory, in order, with
// their durations:
//
//   - with fixed > 0, every segment lasts fixed;
//   - else, if the directory holds exactly one .m3u8 media playlist, its
//     segments, order, EXTINF durations and discontinuities are used;
//   - else every .ts file is taken in natural order (seg2 before seg10) and
//     durations are measured from the segments' presentation timestamps.
func LoadDir(dir string, fixed time.Duration) ([]Segment, error) {
	if fixed < 0 {
		return nil, fmt.Errorf("segment duration %v is negative", fixed)
	}
	playlists, err := filepath.Glob(filepath.Join(globEscape(dir), "*.m3u8"))
	if err != nil {
		return nil, err
	}
	var segs []Segment
	switch {
	case len(playlists) > 1:
		return nil, fmt.Errorf("%s holds %d playlists (%s); keep one, or none to take every .ts file", dir, len(playlists), strings.Join(baseNames(playlists), ", "))
	case len(playlists) == 1:
		if segs, err = fromPlaylist(dir, playlists[0]); err != nil {
			return nil, err
		}
	default:
		if segs, err = fromFiles(dir); err != nil {
			return nil, err
		}
	}
	var total int64
	for i := range segs {
		data, err := os.ReadFile(filepath.Join(dir, segs[i].Name))
		if err != nil {
			return nil, err
		}
		if err := mpegts.CheckFraming(data); err != nil {
			return nil, fmt.Errorf("%s: %w", segs[i].Name, err)
		}
		if total += int64(len(data)); total > MaxDirBytes {
			return nil, fmt.Errorf("%s: segments exceed %d MiB; publish a shorter set", dir, MaxDirBytes>>20)
		}
		segs[i].Data = data
	}
	switch {
	case fixed > 0:
		for i := range segs {
			segs[i].Duration = fixed
		}
	case len(playlists) == 0:
		if err := probeDurations(segs); err != nil {
			return nil, err
		}
	}
	return segs, nil
}

func fromPlaylist(dir, path string) ([]Segment, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	p, err := playlist.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(p.Entries) == 0 {
		return nil, fmt.Errorf("%s lists no segments", path)
	}
	segs := make([]Segment, 0, len(p.Entries))
	for _, e := range p.Entries {
		if strings.Contains(e.URI, "://") || filepath.IsAbs(e.URI) || strings.Contains(e.URI, "..") {
			return nil, fmt.Errorf("%s: segment %q is not a file beside the playlist", path, e.URI)
		}
		if e.Duration <= 0 {
			return nil, fmt.Errorf("%s: segment %s has duration 0", path, e.URI)
		}
		segs = append(segs, Segment{Name: filepath.FromSlash(e.URI), Duration: e.Duration, Disc: e.Discontinuity})
	}
	return segs, nil
}

func fromFiles(dir string) ([]Segment, error) {
	files, err := filepath.Glob(filepath.Join(globEscape(dir), "*.ts"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		if _, err := os.Stat(dir); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("%s holds no .ts segments", dir)
	}
	names := baseNames(files)
	slices.SortFunc(names, naturalCompare)
	segs := make([]Segment, len(names))
	for i, n := range names {
		segs[i].Name = n
	}
	return segs, nil
}

// probeDurations sets each duration from the distance between the first
// timestamps of consecutive segments, or from a segment's own timestamps for
// the last one and around jumps (which are marked as discontinuities).
func probeDurations(segs []Segment) error {
	timings := make([]mpegts.Timing, len(segs))
	for i, s := range segs {
		t, err := mpegts.ReadTiming(s.Data)
		if err != nil {
			return fmt.Errorf("%s: measure duration: %w (give -segment-duration)", s.Name, err)
		}
		timings[i] = t
	}
	for i := range segs {
		d := timings[i].Duration()
		if i+1 < len(segs) && timings[i+1].PID == timings[i].PID {
			if gap := timings[i+1].Since(timings[i]); gap > 0 && gap < maxProbedGap {
				d = gap
			} else {
				segs[i+1].Disc = true
			}
		}
		if d <= 0 {
			return fmt.Errorf("%s: cannot measure its duration from one frame (give -segment-duration)", segs[i].Name)
		}
		segs[i].Duration = d
	}
	return nil
}

func baseNames(paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = filepath.Base(p)
	}
	return out
}

func globEscape(dir string) string {
	r := strings.NewReplacer(`*`, `\*`, `?`, `\?`, `[`, `\[`, `\`, `\\`)
	return r.Replace(dir)
}

// naturalCompare orders strings with embedded numbers numerically:
// "seg2.ts" < "seg10.ts".
func naturalCompare(a, b string) int {
	for a != "" && b != "" {
		da, db := digitPrefix(a), digitPrefix(b)
		if da > 0 && db > 0 {
			na, errA := strconv.ParseUint(a[:da], 10, 64)
			nb, errB := strconv.ParseUint(b[:db], 10, 64)
			if errA == nil && errB == nil && na != nb {
				if na < nb {
					return -1
				}
				return 1
			}
			if c := strings.Compare(a[:da], b[:db]); c != 0 {
				return c
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			if a[0] < b[0] {
				return -1
			}
			return 1
		}
		a, b = a[1:], b[1:]
	}
	return len(a) - len(b)
}

func digitPrefix(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}

// ErrNoFFmpeg reports that the ffmpeg binary was not found.
var ErrNoFFmpeg = errors.New("ffmpeg not found")
