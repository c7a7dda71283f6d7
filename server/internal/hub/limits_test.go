package hub

import (
	"errors"
	"testing"
	"time"
)

func TestMaxStreams(t *testing.T) {
	t.Parallel()
	h := New(Config{MaxStreams: 2})
	a, err := h.Publish("a", PublishOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Publish("b", PublishOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Publish("c", PublishOptions{}); !errors.Is(err, ErrTooManyStreams) {
		t.Fatalf("third stream: err = %v, want ErrTooManyStreams", err)
	}
	// A stream that is live already is not a new one: its publisher may
	// come back within the grace period (here: none, so it is busy).
	if _, err := h.Publish("a", PublishOptions{}); !errors.Is(err, ErrStreamBusy) {
		t.Fatalf("second publisher of a live stream: err = %v, want ErrStreamBusy", err)
	}
	a.End()
	if _, err := h.Publish("c", PublishOptions{}); err != nil {
		t.Fatalf("after a stream ended: %v", err)
	}
	if n := len(h.Streams()); n != 2 {
		t.Errorf("%d streams, want 2", n)
	}
}

func TestMaxStreamsContinuesInGrace(t *testing.T) {
	t.Parallel()
	h := New(Config{MaxStreams: 1, PublisherGrace: time.Hour})
	p, err := h.Publish("a", PublishOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p.Detach()
	// The stream is full, but a reconnecting publisher continues it.
	if _, err := h.Publish("a", PublishOptions{}); err != nil {
		t.Fatalf("publisher back within the grace period: %v", err)
	}
}

func TestMaxSubscribers(t *testing.T) {
	t.Parallel()
	h := New(Config{MaxSubscribers: 2})
	if _, err := h.Publish("s", PublishOptions{}); err != nil {
		t.Fatal(err)
	}
	first, _ := subscribe(t, h, "s", Start{MaxInitial: -1})
	subscribe(t, h, "s", Start{MaxInitial: -1})
	if _, err := h.Subscribe("s", Start{MaxInitial: -1}, newRecorder()); !errors.Is(err, ErrTooManyViewers) {
		t.Fatalf("third subscriber: err = %v, want ErrTooManyViewers", err)
	}
	first.Close()
	if _, err := h.Subscribe("s", Start{MaxInitial: -1}, newRecorder()); err != nil {
		t.Fatalf("after a subscriber left: %v", err)
	}
	if _, err := h.Publish("other", PublishOptions{}); err != nil {
		t.Fatal(err)
	}
	// The bound is per stream.
	subscribe(t, h, "other", Start{MaxInitial: -1})
}
