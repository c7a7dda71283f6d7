// Package backoff computes reconnection delays for the SDK's clients:
// exponential growth from a first delay up to a ceiling, with jitter so that
// many clients cut off by the same relay restart do not all come back in the
// same instant.
package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// Backoff yields the delay before each reconnection attempt. The zero value
// is not usable; set Min and Max. It is not safe for concurrent use.
type Backoff struct {
	// Min is the delay before the first retry.
	Min time.Duration
	// Max caps the delay; values below Min are treated as Min.
	Max time.Duration

	failures int
}

// Next returns the delay before the next attempt and counts a failure. The
// n-th consecutive delay is Min*2^(n-1), capped at Max, plus up to a quarter
// more of random jitter (the cap applies after the jitter).
func (b *Backoff) Next() time.Duration {
	d := b.Min
	for i := 0; i < b.failures && d < b.Max; i++ {
		d *= 2
	}
	b.failures++
	if d > 0 {
		d += rand.N(d/4 + 1)
	}
	return min(d, max(b.Max, b.Min))
}

// Reset starts again from Min, after a connection succeeded.
func (b *Backoff) Reset() { b.failures = 0 }

// Sleep waits for d or until ctx is done, and reports whether it waited the
// whole time.
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
