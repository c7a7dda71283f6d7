package backoff

import (
	"context"
	"testing"
	"time"
)

func TestNext(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		min, max time.Duration
		// want[i] is the delay before jitter of attempt i.
		want []time.Duration
	}{
		{"doubles up to max", time.Second, 10 * time.Second,
			[]time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second}},
		{"max below min", time.Second, 0, []time.Duration{time.Second, time.Second, time.Second}},
		{"min equals max", 3 * time.Second, 3 * time.Second, []time.Duration{3 * time.Second, 3 * time.Second}},
		{"zero", 0, 0, []time.Duration{0, 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for round := 0; round < 2; round++ { // Reset starts over
				b := Backoff{Min: tc.min, Max: tc.max}
				for i, base := range tc.want {
					got := b.Next()
					ceiling := max(tc.max, tc.min)
					if got < base || got > min(base+base/4, ceiling) {
						t.Fatalf("attempt %d: delay %v, want %v plus at most a quarter, at most %v", i, got, base, ceiling)
					}
				}
				b.Reset()
				if got := b.Next(); got < tc.want[0] || got > tc.want[0]+tc.want[0]/4 {
					t.Fatalf("after Reset: %v, want about %v", got, tc.want[0])
				}
			}
		})
	}
}

func TestSleep(t *testing.T) {
	t.Parallel()
	if !Sleep(context.Background(), time.Millisecond) {
		t.Fatal("Sleep without cancellation returned false")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	if Sleep(ctx, time.Hour) {
		t.Fatal("Sleep with a cancelled context returned true")
	}
	if time.Since(start) > time.Second {
		t.Fatal("Sleep did not return when the context was cancelled")
	}
}
