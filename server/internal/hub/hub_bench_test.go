package hub

import (
	"context"
	"strconv"
	"sync"
	"testing"
)

// countingSink counts deliveries; it never blocks.
type countingSink struct {
	wg *sync.WaitGroup
}

func (s countingSink) WriteFragment(*Fragment, bool) error { s.wg.Done(); return nil }
func (s countingSink) WriteEnd()                           {}

// BenchmarkFanOut measures the hub's own cost of delivering one fragment to
// N subscribers (socket writes excluded): append, wake-ups, cursor moves.
func BenchmarkFanOut(b *testing.B) {
	for _, n := range []int{1, 200, 5000} {
		b.Run(strconv.Itoa(n)+"-subscribers", func(b *testing.B) {
			h := New(Config{RingLength: 10})
			pub, _ := h.Publish("s", PublishOptions{})
			var wg sync.WaitGroup
			for i := 0; i < n; i++ {
				sub, err := h.Subscribe("s", Start{MaxInitial: 0}, countingSink{&wg})
				if err != nil {
					b.Fatal(err)
				}
				sub.Start()
				defer sub.Close()
			}
			data := make([]byte, 250_000)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				wg.Add(n)
				pub.Append(Input{Duration: 0.1, Data: data})
				wg.Wait()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/delivery")
		})
	}
}

// BenchmarkAppendWithWaiters measures an append while N readers wait for
// the next fragment (blocking playlist reloads): the publisher closes one
// channel whatever N is; the readers' wake-ups run on their own goroutines.
func BenchmarkAppendWithWaiters(b *testing.B) {
	for _, n := range []int{0, 1000} {
		b.Run(strconv.Itoa(n)+"-waiters", func(b *testing.B) {
			h := New(Config{RingLength: 10})
			pub, _ := h.Publish("s", PublishOptions{})
			s := pub.Stream()
			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			for range n {
				wg.Go(func() {
					for seq := uint64(0); s.WaitSeq(ctx, seq) == nil && ctx.Err() == nil; seq = s.Window().Next {
					}
				})
			}
			data := make([]byte, 1000)
			b.ReportAllocs()
			for b.Loop() {
				pub.Append(Input{Duration: 1, Data: data})
			}
			cancel()
			wg.Wait()
		})
	}
}

// countingPartSink counts part deliveries; it never blocks.
type countingPartSink struct{ countingSink }

func (s countingPartSink) WriteInit(*Init) error                  { return nil }
func (s countingPartSink) WritePart(*Fragment, *Part, bool) error { s.wg.Done(); return nil }
func (s countingPartSink) WriteFragmentEnd(*Fragment) error       { return nil }

// BenchmarkPartFanOut is BenchmarkFanOut for parts: one 50 kB part (200 ms
// of 2 Mbit/s) delivered to N subscribers in parts, five parts a fragment.
func BenchmarkPartFanOut(b *testing.B) {
	for _, n := range []int{1, 200, 5000} {
		b.Run(strconv.Itoa(n)+"-subscribers", func(b *testing.B) {
			h := New(Config{RingLength: 10})
			pub, _ := h.Publish("s", PublishOptions{})
			pub.SetInit([]byte("init"))
			var wg sync.WaitGroup
			for i := 0; i < n; i++ {
				sub, err := h.Subscribe("s", Start{Parts: true, MaxInitial: 0}, countingPartSink{countingSink{&wg}})
				if err != nil {
					b.Fatal(err)
				}
				sub.Start()
				defer sub.Close()
			}
			data := make([]byte, 50_000)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				wg.Add(n)
				if _, err := pub.AppendPart(PartInput{Index: uint64(i % 5), Duration: 0.2, Independent: i%5 == 0, Data: data}); err != nil {
					b.Fatal(err)
				}
				wg.Wait()
				if i%5 == 4 {
					if _, err := pub.CloseFragment(CloseInput{Duration: 1, Parts: 5}); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/delivery")
		})
	}
}
