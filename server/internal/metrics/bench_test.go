package metrics

import (
	"testing"
	"time"
)

// BenchmarkSent is the metrics' cost per fragment delivered to a viewer:
// two counters, a clock reading and a histogram observation, from all
// cores at once as the fan-out calls it.
func BenchmarkSent(b *testing.B) {
	m := New()
	arrival := time.Now()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.Sent(250_000, arrival)
		}
	})
}
