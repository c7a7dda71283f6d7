package feed

import (
	"context"
	"time"

	"github.com/rs/zerolog"
)

// schedule paces recorded media as if it were live: media that ends at
// offset (since the start) is due when its last frame would have been
// captured, at speed times real time. A sink that falls behind by more than
// maxLag restarts the schedule from now instead of bursting to catch up.
type schedule struct {
	anchor time.Time // carries the monotonic reading used for waits
	speed  float64
	maxLag time.Duration
	log    zerolog.Logger
}

func newSchedule(speed float64, maxLag time.Duration, log zerolog.Logger) *schedule {
	if speed <= 0 {
		speed = 1
	}
	if maxLag <= 0 {
		maxLag = 3 * time.Second
	}
	return &schedule{anchor: time.Now(), speed: speed, maxLag: maxLag, log: log}
}

func (s *schedule) scale(d time.Duration) time.Duration {
	return time.Duration(float64(d) / s.speed)
}

// at is the wall-clock time of media offset.
func (s *schedule) at(offset time.Duration) time.Time {
	return s.anchor.Add(s.scale(offset))
}

// waitEnd waits until media ending at end is due, or ctx ends.
func (s *schedule) waitEnd(ctx context.Context, end time.Duration) error {
	wait := time.Until(s.at(end))
	if wait < -s.maxLag {
		s.log.Warn().Stringer("behind", -wait).Msg("replay fell behind its schedule; restarting the schedule from now")
		s.anchor = time.Now().Add(-s.scale(end))
		return nil
	}
	if wait <= 0 {
		return nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
