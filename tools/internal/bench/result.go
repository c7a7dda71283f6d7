package bench

import (
	"slices"
	"time"
)

// Result is what a run measured. Sections that do not apply to the mode, or
// need -pid, are nil. Its JSON form is the bench's -json output.
type Result struct {
	Mode   string `json:"mode"` // "load" or "idle"
	URL    string `json:"url"`
	Stream string `json:"stream"`

	Connect ConnectResult `json:"connect"`
	Load    *LoadResult   `json:"load,omitempty"`
	Idle    *IdleResult   `json:"idle,omitempty"`
	Server  *ServerResult `json:"server,omitempty"`
	Bench   BenchProcess  `json:"bench"`

	// Problems lists what went wrong in words (empty on a clean run).
	Problems []string `json:"problems"`
}

// ConnectResult describes how the viewers joined.
type ConnectResult struct {
	Viewers   int     `json:"viewers"`
	Connected int     `json:"connected"`
	Failed    int     `json:"failed"`
	Seconds   float64 `json:"seconds"`
	PerSecond float64 `json:"per_second"`
	// Errors counts failures by message (at most 10 distinct messages).
	Errors map[string]int `json:"errors,omitempty"`
}

// LoadResult is the fan-out measurement.
type LoadResult struct {
	// Transport is how viewers received: "websocket" or "hls" (HTTP with
	// blocking playlist reload).
	Transport string `json:"transport"`
	// PublisherReconnects counts the publisher's reconnections.
	PublisherReconnects int     `json:"publisher_reconnects,omitempty"`
	FragmentSize        int     `json:"fragment_size"`
	Rate                float64 `json:"rate"`
	// WindowSeconds is how long the measured fragments were being sent.
	WindowSeconds float64 `json:"window_seconds"`
	// FragmentsSent counts the fragments of the measured window (sent after
	// every viewer joined and the warm-up ended).
	FragmentsSent int64 `json:"fragments_sent"`
	// FragmentsExpected is FragmentsSent times the requested viewers.
	FragmentsExpected int64 `json:"fragments_expected"`
	FragmentsReceived int64 `json:"fragments_received"`
	// DeliveredFraction is FragmentsReceived / FragmentsExpected.
	DeliveredFraction float64 `json:"delivered_fraction"`
	// LateSends counts fragments the publisher sent more than one interval
	// after their slot (the bench or the relay's reading fell behind).
	LateSends int64 `json:"late_sends"`

	LatencyMS Percentiles `json:"latency_ms"`

	// Throughput of the measured fragments delivered to all viewers, from
	// the first measured send to the last measured receipt.
	BytesDelivered int64   `json:"bytes_delivered"`
	MBPerSecond    float64 `json:"mb_per_s"`
	GbitPerSecond  float64 `json:"gbit_per_s"`

	OutOfOrder     int64 `json:"out_of_order"`
	Missing        int64 `json:"missing"`
	Corrupt        int64 `json:"corrupt"`
	Foreign        int64 `json:"foreign"`
	ProtocolErrors int64 `json:"protocol_errors"`
	// Disconnected counts viewers whose connection ended before the
	// publisher's CLOSE reached them.
	Disconnected int `json:"disconnected"`
	// EndedCleanly counts viewers that received CLOSE after the publisher's.
	EndedCleanly int `json:"ended_cleanly"`
	// HLSRetries counts playlist requests answered 503 (a blocking reload
	// that waited its longest, or the relay's bound on waiting requests).
	HLSRetries int64 `json:"hls_retries,omitempty"`
}

// IdleResult is the idle-viewer memory measurement.
type IdleResult struct {
	SettleSeconds float64 `json:"settle_seconds"`
	// Alive counts viewer connections still open at the measurement.
	Alive int `json:"alive"`
	// ServerRSSPerViewer is the relay's RSS growth divided by Alive
	// (needs -pid).
	ServerRSSPerViewer int64 `json:"server_rss_per_viewer_bytes,omitempty"`
	// BenchRSSPerViewer is the bench's own RSS growth per viewer.
	BenchRSSPerViewer int64 `json:"bench_rss_per_viewer_bytes"`
}

// ServerResult is what /proc says about the relay process given by -pid.
type ServerResult struct {
	PID            int   `json:"pid"`
	RSSBeforeBytes int64 `json:"rss_before_bytes"`
	RSSAfterBytes  int64 `json:"rss_after_bytes"`
	OpenFileLimit  int64 `json:"open_file_limit,omitempty"`
	// CPU over the measured window (load mode).
	CPUSeconds      float64 `json:"cpu_seconds,omitempty"`
	CPUSecondsPerGB float64 `json:"cpu_seconds_per_gb,omitempty"`
	// BytesInCPUWindow is what viewers received while CPU was measured.
	BytesInCPUWindow int64 `json:"bytes_in_cpu_window,omitempty"`
	// CPUWindowSeconds is the wall time over which CPUSeconds was measured.
	CPUWindowSeconds float64 `json:"cpu_window_seconds,omitempty"`
	// ViewersPerCore is how many viewers of this stream one fully used
	// core would serve: viewers x CPUWindowSeconds / CPUSeconds.
	ViewersPerCore float64 `json:"viewers_per_core,omitempty"`
	// Samples are the readings taken every SampleEvery.
	Samples []Sample `json:"samples,omitempty"`
}

// Sample is one reading of the relay during a run.
type Sample struct {
	Seconds    float64 `json:"seconds"` // since the run started
	RSSBytes   int64   `json:"rss_bytes,omitempty"`
	Goroutines int64   `json:"goroutines,omitempty"` // -1: not read
}

// BenchProcess is the bench's own footprint, to judge whether it, rather than
// the relay, was the bottleneck.
type BenchProcess struct {
	CPUSeconds float64 `json:"cpu_seconds"`
	RSSBytes   int64   `json:"rss_bytes"`
}

// Percentiles summarises latencies in milliseconds.
type Percentiles struct {
	Samples int     `json:"samples"`
	P50     float64 `json:"p50"`
	P90     float64 `json:"p90"`
	P99     float64 `json:"p99"`
	Max     float64 `json:"max"`
	Mean    float64 `json:"mean"`
}

// percentiles sorts micros in place and summarises it (nearest-rank).
func percentiles(micros []uint32) Percentiles {
	if len(micros) == 0 {
		return Percentiles{}
	}
	slices.Sort(micros)
	rank := func(q float64) float64 {
		i := int(q*float64(len(micros))+0.999999) - 1
		i = min(max(i, 0), len(micros)-1)
		return ms(micros[i])
	}
	var sum float64
	for _, m := range micros {
		sum += float64(m)
	}
	return Percentiles{
		Samples: len(micros),
		P50:     rank(0.50),
		P90:     rank(0.90),
		P99:     rank(0.99),
		Max:     ms(micros[len(micros)-1]),
		Mean:    sum / float64(len(micros)) / 1000,
	}
}

func ms(micros uint32) float64 { return float64(micros) / 1000 }

func seconds(d time.Duration) float64 { return d.Seconds() }
