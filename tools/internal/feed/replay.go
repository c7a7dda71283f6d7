package feed

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"
)

// Replay sends a fixed list of segments in real time, like a live encoder:
// each segment is handed to the sink when its last frame would have been
// captured (the end of its slot on a monotonic clock), stamped with the
// wall-clock time of its first frame. The schedule is computed from the
// cumulative durations since the start, so it does not drift. Each restart
// of the list is marked as a discontinuity, since timestamps jump back.
type Replay struct {
	// Segments to replay, in order; every Duration must be positive.
	Segments []Segment
	// Loops is how many times to play the list; 0 means forever.
	Loops int
	// Speed multiplies the pace (2: twice real time). Defaults to 1.
	Speed float64
	// MaxLag: when the sink falls behind the schedule by more than this
	// (a blocked connection), the schedule restarts from now instead of
	// bursting to catch up. Defaults to 3 s.
	MaxLag time.Duration
	// Log receives a line per loop and per schedule reset.
	Log zerolog.Logger
}

// Run replays until the loops are done (nil), the sink fails, or ctx ends
// (ctx.Err()).
func (r *Replay) Run(ctx context.Context, sink Sink) error {
	if len(r.Segments) == 0 {
		return errors.New("replay: no segments")
	}
	for _, s := range r.Segments {
		if s.Duration <= 0 {
			return fmt.Errorf("replay: segment %s has duration %v", s.Name, s.Duration)
		}
	}
	if r.Loops < 0 {
		return fmt.Errorf("replay: loops %d is negative", r.Loops)
	}
	sched := newSchedule(r.Speed, r.MaxLag, r.Log)
	var offset time.Duration // media time since the start
	for loop := 0; r.Loops == 0 || loop < r.Loops; loop++ {
		if loop > 0 {
			r.Log.Info().Int("loop", loop+1).Msg("replay restarts (discontinuity)")
		}
		for i, s := range r.Segments {
			if err := sched.waitEnd(ctx, offset+s.Duration); err != nil {
				return err
			}
			s.Time = sched.at(offset).Round(0) // wall clock of the first frame
			s.Disc = s.Disc || (loop > 0 && i == 0)
			if err := sink(ctx, s); err != nil {
				return err
			}
			offset += s.Duration
		}
	}
	return nil
}
