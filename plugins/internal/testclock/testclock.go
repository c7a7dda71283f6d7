// Package testclock carries a fake clock from the plugin test kit to the
// host through the Load context. It is internal so that only the test kit,
// not the relay, can give a plugin a time other than the real one.
package testclock

import (
	"context"
	"time"
)

type key struct{}

// With returns a context that makes host.Load give the plugin now as its
// clock (time_now_ms and the WASI wall clock).
func With(ctx context.Context, now func() time.Time) context.Context {
	return context.WithValue(ctx, key{}, now)
}

// From returns the clock set by With, or nil.
func From(ctx context.Context) func() time.Time {
	now, _ := ctx.Value(key{}).(func() time.Time)
	return now
}
