package bench

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// WriteTable writes res as a human-readable table.
func WriteTable(w io.Writer, res *Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(name, format string, args ...any) {
		fmt.Fprintf(tw, "%s\t%s\n", name, fmt.Sprintf(format, args...))
	}
	row("mode", "%s", res.Mode)
	row("relay", "%s  stream %s", res.URL, res.Stream)
	c := res.Connect
	row("viewers", "%d connected, %d failed of %d  (%.1f s, %.0f/s)", c.Connected, c.Failed, c.Viewers, c.Seconds, c.PerSecond)
	if l := res.Load; l != nil {
		row("viewers read", "%s", l.Transport)
		row("fragments", "%d B at %g/s; %d sent in the %.1f s window", l.FragmentSize, l.Rate, l.FragmentsSent, l.WindowSeconds)
		row("delivered", "%.4f  (%d of %d)", l.DeliveredFraction, l.FragmentsReceived, l.FragmentsExpected)
		p := l.LatencyMS
		row("latency ms", "p50 %.2f  p90 %.2f  p99 %.2f  max %.2f  mean %.2f  (%d samples)", p.P50, p.P90, p.P99, p.Max, p.Mean, p.Samples)
		row("throughput", "%.1f MB/s  %.3f Gbit/s  (%d B delivered)", l.MBPerSecond, l.GbitPerSecond, l.BytesDelivered)
		row("integrity", "%d out of order, %d missing, %d corrupt, %d foreign, %d protocol errors", l.OutOfOrder, l.Missing, l.Corrupt, l.Foreign, l.ProtocolErrors)
		row("end", "%d got CLOSE, %d disconnected early; %d late sends", l.EndedCleanly, l.Disconnected, l.LateSends)
		if l.PublisherReconnects > 0 {
			row("publisher", "reconnected %d times without CLOSE", l.PublisherReconnects)
		}
		if l.Transport == "hls" {
			row("HLS retries", "%d playlist requests answered 503", l.HLSRetries)
		}
	}
	if i := res.Idle; i != nil {
		row("idle", "%d alive after %.1f s settle", i.Alive, i.SettleSeconds)
		if res.Server != nil {
			row("relay RSS/viewer", "%s", kib(i.ServerRSSPerViewer))
		}
		row("bench RSS/viewer", "%s", kib(i.BenchRSSPerViewer))
	}
	if s := res.Server; s != nil {
		row("relay pid", "%d", s.PID)
		row("relay RSS", "%s before, %s after", mib(s.RSSBeforeBytes), mib(s.RSSAfterBytes))
		for _, smp := range s.Samples {
			row("sample", "t=%4.0fs  RSS %s  goroutines %d", smp.Seconds, mib(smp.RSSBytes), smp.Goroutines)
		}
		if res.Load != nil {
			row("relay CPU", "%.2f s  = %.3f CPU-s per GB delivered (%d B in window)", s.CPUSeconds, s.CPUSecondsPerGB, s.BytesInCPUWindow)
			row("viewers/core", "%.0f  (viewers x %.1f s window / relay CPU-s)", s.ViewersPerCore, s.CPUWindowSeconds)
		}
	}
	row("bench", "%.2f CPU-s, RSS %s", res.Bench.CPUSeconds, mib(res.Bench.RSSBytes))
	if len(res.Problems) == 0 {
		row("problems", "none")
	}
	for _, p := range res.Problems {
		row("problem", "%s", p)
	}
	return tw.Flush()
}

func kib(b int64) string { return fmt.Sprintf("%.1f KiB", float64(b)/1024) }
func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
