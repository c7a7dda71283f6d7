package playlist

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// Watcher polls a live playlist file and reports each segment once, in
// order, as soon as the playlist lists it. ffmpeg's HLS muxer adds a segment
// to the playlist only after the segment file is complete, and (for live
// playlists) replaces the playlist file atomically, so a listed segment is
// ready to read.
type Watcher struct {
	// Path of the .m3u8 file. It need not exist yet.
	Path string
	// Interval between polls. Defaults to 50 ms.
	Interval time.Duration

	next    uint64 // sequence number of the next segment to report
	started bool
	last    []byte
}

// Next returns the segments added since the previous call (possibly none)
// and whether the playlist has ended (EXT-X-ENDLIST). If the playlist
// dropped segments that were never reported (the caller fell behind a
// sliding window), the first returned entry is marked Discontinuity and
// skipped reports how many were lost.
func (w *Watcher) Next() (entries []Entry, ended bool, skipped uint64, err error) {
	data, err := os.ReadFile(w.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, 0, nil
	}
	if err != nil {
		return nil, false, 0, fmt.Errorf("read playlist: %w", err)
	}
	if w.started && string(data) == string(w.last) {
		return nil, false, 0, nil
	}
	p, err := Parse(data)
	if err != nil {
		return nil, false, 0, fmt.Errorf("%s: %w", w.Path, err)
	}
	w.last = data
	for _, e := range p.Entries {
		if w.started && e.Sequence < w.next {
			continue
		}
		if w.started && e.Sequence > w.next && len(entries) == 0 {
			skipped = e.Sequence - w.next
			e.Discontinuity = true
		}
		entries = append(entries, e)
		w.next = e.Sequence + 1
		w.started = true
	}
	if len(p.Entries) > 0 {
		w.started = true
	}
	return entries, p.EndList, skipped, nil
}

// Watch calls fn for every new segment until the playlist ends, fn returns
// an error, or ctx ends. stop, if not nil, is polled after each empty poll:
// when it reports true (e.g. the writer exited), Watch reads the playlist a
// last time and returns.
func (w *Watcher) Watch(ctx context.Context, stop func() bool, fn func(Entry, uint64) error) error {
	interval := w.Interval
	if interval <= 0 {
		interval = 50 * time.Millisecond
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		stopping := stop != nil && stop()
		entries, ended, skipped, err := w.Next()
		if err != nil {
			return err
		}
		for i, e := range entries {
			lost := uint64(0)
			if i == 0 {
				lost = skipped
			}
			if err := fn(e, lost); err != nil {
				return err
			}
		}
		if ended || stopping {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}
