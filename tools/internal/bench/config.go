// Package bench is the load generator behind tools/cmd/bench. It speaks only
// the base protocol (PUSH/PULL with auth, OK, F + binary, H, CLOSE), so it
// can be aimed at any compatible relay.
//
// Load mode (RunLoad): one publisher pushes fragments of a fixed size at a
// fixed rate and N viewers pull the same stream. Every fragment carries its
// sequence number and send time (see Payload), so viewers measure delivery
// latency and check order and integrity.
//
// Idle mode (RunIdle): N viewers PULL a stream and stay idle; with the relay's
// pid the bench reports resident memory per idle viewer.
package bench

import (
	"errors"
	"fmt"
	"time"

	"github.com/hlsrelay/hlsrelay/sdk-go/protocol"
)

// Limits on a run, so that a typo cannot start an unbounded one.
const (
	MaxViewers            = 200_000
	MaxFragmentSize       = 50 << 20 // the relay's default MAX_BINARY_MESSAGE_SIZE
	MaxRate               = 1000
	MaxDuration           = 24 * time.Hour
	MaxConnectConcurrency = 5000
)

// Config describes a run. Zero durations and counts take the defaults noted.
type Config struct {
	// URL is the relay's ws:// or wss:// URL. Required.
	URL string
	// PullURL, if set, is where the viewers connect instead of URL: another
	// node of a cluster, to measure what relaying between nodes adds.
	PullURL string
	// Stream is the stream id to push and pull. Required.
	Stream string
	// PushAuth and PullAuth are the tokens sent as the auth parameter of
	// PUSH and PULL; empty for a relay without secrets.
	PushAuth, PullAuth string
	// Insecure skips TLS certificate checks for wss:// URLs.
	Insecure bool
	// HLS makes the viewers read the stream over HTTP, as HLS players with
	// blocking playlist reload do, instead of WebSocket PULLs (load mode).
	HLS bool
	// HLSURL is the URL of the relay's HLS prefix, e.g.
	// http://127.0.0.1:8080/hls/. Defaults to the viewers' relay URL with
	// http(s) for ws(s) and the path /hls/.
	HLSURL string

	// Viewers is the number of PULL connections. Required.
	Viewers int
	// ConnectConcurrency bounds connection attempts in flight. Defaults to 200.
	ConnectConcurrency int
	// ConnectTimeout bounds one connection attempt (dial, PUSH or PULL, OK).
	// Defaults to 30 s.
	ConnectTimeout time.Duration

	// FragmentSize in bytes (load mode). Defaults to 250000.
	FragmentSize int
	// Rate in fragments per second (load mode). Defaults to 10.
	Rate float64
	// Duration of the measured window (load mode). Defaults to 30 s.
	Duration time.Duration
	// Warmup is sent after the viewers joined and before the measured
	// window (load mode). Defaults to 2 s; negative means none.
	Warmup time.Duration
	// Drain bounds the wait for the last measured fragment to reach every
	// viewer (load mode). Defaults to 10 s.
	Drain time.Duration

	// Settle is the wait between the last viewer joining and the memory
	// reading (idle mode). Defaults to 5 s.
	Settle time.Duration
	// Hold keeps the idle viewers connected this long after the reading
	// (idle mode).
	Hold time.Duration
	// NoPublisher skips the idle mode's publisher; the stream must then be
	// published by someone else, or a relay answers PULL with OK, CLOSE.
	NoPublisher bool

	// PID is the relay's process id on this machine, for CPU and memory
	// readings from /proc; 0 skips them.
	PID int

	// PublisherReconnect, if positive, drops the publisher's connection
	// (without CLOSE) and pushes again this often during the load run: the
	// relay's grace period must carry the stream over (load mode).
	PublisherReconnect time.Duration
	// SampleEvery, if positive, records the relay's RSS (needs PID) and
	// goroutines (needs MetricsURL) this often, to show growth over a soak.
	SampleEvery time.Duration
	// MetricsURL is the relay's Prometheus endpoint, read for
	// go_goroutines in samples.
	MetricsURL string

	// Logf, if set, receives progress lines.
	Logf func(format string, args ...any)
}

func (c *Config) setDefaults() {
	if c.ConnectConcurrency == 0 {
		c.ConnectConcurrency = 200
	}
	if c.ConnectTimeout == 0 {
		c.ConnectTimeout = 30 * time.Second
	}
	if c.FragmentSize == 0 {
		c.FragmentSize = 250_000
	}
	if c.Rate == 0 {
		c.Rate = 10
	}
	if c.Duration == 0 {
		c.Duration = 30 * time.Second
	}
	if c.Warmup == 0 {
		c.Warmup = 2 * time.Second
	} else if c.Warmup < 0 {
		c.Warmup = 0
	}
	if c.Drain == 0 {
		c.Drain = 10 * time.Second
	}
	if c.Settle == 0 {
		c.Settle = 5 * time.Second
	}
	if c.Logf == nil {
		c.Logf = func(string, ...any) {}
	}
}

// ErrConfig wraps every configuration error.
var ErrConfig = errors.New("invalid bench configuration")

func (c *Config) validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(format, args...))
	}
	if c.PullURL != "" {
		if err := CheckURL(c.PullURL); err != nil {
			return fmt.Errorf("pull URL: %w", err)
		}
	}
	if err := CheckURL(c.URL); err != nil {
		return fmt.Errorf("%w: %v", ErrConfig, err)
	}
	if c.HLS {
		if _, err := hlsPlaylistURL(*c); err != nil {
			return err
		}
	}
	if err := protocol.ValidateStreamID(c.Stream); err != nil {
		return fmt.Errorf("%w: %v", ErrConfig, err)
	}
	switch {
	case c.Viewers < 1 || c.Viewers > MaxViewers:
		return bad("viewers %d is out of range [1, %d]", c.Viewers, MaxViewers)
	case c.ConnectConcurrency < 1 || c.ConnectConcurrency > MaxConnectConcurrency:
		return bad("connect concurrency %d is out of range [1, %d]", c.ConnectConcurrency, MaxConnectConcurrency)
	case c.FragmentSize < MinFragmentSize || c.FragmentSize > MaxFragmentSize:
		return bad("fragment size %d is out of range [%d, %d]", c.FragmentSize, MinFragmentSize, MaxFragmentSize)
	case !(c.Rate > 0 && c.Rate <= MaxRate):
		return bad("rate %g is out of range (0, %d] fragments per second", c.Rate, MaxRate)
	case c.Duration < time.Second/time.Duration(MaxRate) || c.Duration > MaxDuration:
		return bad("duration %v is out of range [1ms, %v]", c.Duration, MaxDuration)
	case c.Warmup > MaxDuration || c.Drain < 0 || c.Drain > time.Hour:
		return bad("warm-up %v or drain %v is out of range", c.Warmup, c.Drain)
	case c.Settle < 0 || c.Settle > time.Hour || c.Hold < 0 || c.Hold > MaxDuration:
		return bad("settle %v or hold %v is out of range", c.Settle, c.Hold)
	case c.ConnectTimeout < 0 || c.ConnectTimeout > 10*time.Minute:
		return bad("connect timeout %v is out of range", c.ConnectTimeout)
	case c.PID < 0:
		return bad("pid %d is negative", c.PID)
	}
	return nil
}

func (c *Config) pushMessage() []byte {
	return protocol.AppendPush(nil, protocol.Push{Stream: c.Stream, Auth: c.PushAuth})
}

// pullMessage asks for new fragments only (max_initial_fragments=0), so
// every viewer starts at the live edge and nothing buffered from an earlier
// run is replayed.
func (c *Config) pullMessage() []byte {
	return protocol.AppendPull(nil, protocol.Pull{Stream: c.Stream, Auth: c.PullAuth, MaxInitialFragments: 0})
}
