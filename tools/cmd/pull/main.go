// Command pull watches a stream on a relay with the Go SDK's subscriber
// (sdk-go/subscriber): it prints a line per fragment (sequence number,
// duration, size, latency, discontinuities) and can save the fragments with a
// playlist that ffplay, VLC or hls.js play.
//
//	pull -url ws://127.0.0.1:8080/ -stream room1/cam
//	pull -url ws://127.0.0.1:8080/ -stream room1/cam -out ./rec -count 30
//
// Exit status: 0 the stream ended, -count or -duration was reached, or
// Ctrl-C; 1 the relay refused or failed; 2 usage error.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/hlsrelay/hlsrelay/sdk-go/protocol"
	"github.com/hlsrelay/hlsrelay/sdk-go/subscriber"
	"github.com/hlsrelay/hlsrelay/tools/internal/playlist"
)

const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
)

func main() {
	zerolog.TimeFieldFormat = time.RFC3339Nano
	os.Exit(run(context.Background(), os.Args[1:], os.Getenv, os.Stdout, os.Stderr, true))
}

type options struct {
	url, stream, secret, token string
	maxInitial                 int
	onlySource                 bool
	count                      int
	duration                   time.Duration
	out                        string
	jsonOut                    bool
	retryDelay                 time.Duration
}

func parseFlags(args []string, getenv func(string) string, stderr io.Writer) (*options, int) {
	o := &options{}
	fs := flag.NewFlagSet("pull", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.url, "url", "", "relay WebSocket URL, ws:// or wss:// (required)")
	fs.StringVar(&o.stream, "stream", "", "stream id to watch (required)")
	fs.StringVar(&o.secret, "secret", "", "PULL secret; a token is signed per connection (default $PULL_SECRET)")
	fs.StringVar(&o.token, "token", "", "ready-made PULL token, used when there is no secret")
	fs.IntVar(&o.maxInitial, "max-initial", 0, "buffered fragments to receive first: 0 all, N the newest N, -1 none")
	fs.BoolVar(&o.onlySource, "only-source", false, "ask the relay not to fetch the stream from another node")
	fs.IntVar(&o.count, "count", 0, "stop after this many fragments (0: until the stream ends)")
	fs.DurationVar(&o.duration, "duration", 0, "stop after this long (0: until the stream ends)")
	fs.StringVar(&o.out, "out", "", "save fragments as DIR/seg000000.ts ... with the playlist DIR/live.m3u8")
	fs.BoolVar(&o.jsonOut, "json", false, "print a JSON object per fragment instead of a text line")
	fs.DurationVar(&o.retryDelay, "retry-delay", time.Second, "first delay before reconnecting (doubles up to 10s)")
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage:
  pull -url ws://HOST:PORT/ -stream ID [-secret S] [-out DIR] [-count N] [-duration D]

Watches a stream with the Go SDK's subscriber (reconnects and resumes on its
own) and prints one line per fragment on stdout: sequence number, duration,
size, latency (relays with the protocol extensions send the publish time),
and discontinuities. With -out it saves the fragments and a playlist.

Exit status: 0 stream ended, -count/-duration reached or Ctrl-C; 1 refused
or failed; 2 usage error.

Flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, exitOK
		}
		return nil, exitUsage
	}
	usage := func(format string, a ...any) (*options, int) {
		fmt.Fprintf(stderr, "pull: "+format+"\n", a...)
		return nil, exitUsage
	}
	switch {
	case fs.NArg() > 0:
		return usage("unexpected argument %q (see -h)", fs.Arg(0))
	case o.url == "":
		return usage("-url is required, e.g. -url ws://127.0.0.1:8080/")
	case o.stream == "":
		return usage("-stream is required")
	case o.count < 0:
		return usage("-count %d is negative", o.count)
	case o.duration < 0:
		return usage("-duration %v is negative", o.duration)
	case o.maxInitial < -1:
		return usage("-max-initial %d: want -1, 0 or a positive count", o.maxInitial)
	}
	if o.secret == "" {
		o.secret = getenv("PULL_SECRET")
	}
	return o, exitOK
}

// line is what pull prints per fragment (-json: one object per line).
type line struct {
	N         int     `json:"n"`
	Seq       *uint64 `json:"seq,omitempty"`
	Duration  float64 `json:"duration"`
	Bytes     int     `json:"bytes"`
	Disc      bool    `json:"disc,omitempty"`
	Time      string  `json:"time,omitempty"`
	LatencyMS float64 `json:"latency_ms,omitempty"`
	File      string  `json:"file,omitempty"`
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, handleSignals bool) int {
	o, code := parseFlags(args, getenv, stderr)
	if o == nil {
		return code
	}
	log := zerolog.New(zerolog.ConsoleWriter{Out: stderr, TimeFormat: "15:04:05.000", NoColor: true}).
		With().Timestamp().Logger()
	if handleSignals {
		var stop context.CancelFunc
		ctx, stop = signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
		defer stop()
		context.AfterFunc(ctx, stop)
	}
	if o.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.duration)
		defer cancel()
	}
	if o.out != "" {
		if err := os.MkdirAll(o.out, 0o755); err != nil {
			fmt.Fprintf(stderr, "pull: -out: %v\n", err)
			return exitUsage
		}
	}
	maxInitial := o.maxInitial
	if maxInitial < 0 {
		maxInitial = -1
	}
	sub, err := subscriber.New(subscriber.Options{
		URL:                 o.url,
		Stream:              o.stream,
		Secret:              o.secret,
		Token:               o.token,
		MaxInitialFragments: maxInitial,
		OnlySource:          o.onlySource,
		RetryDelay:          o.retryDelay,
		OnError:             func(err error) { log.Warn().Err(err).Msg("relay connection") },
	})
	if err != nil {
		fmt.Fprintf(stderr, "pull: %v\n", err)
		return exitUsage
	}
	defer sub.Close()

	var (
		n         int
		bytes     int64
		discs     int
		latencies []time.Duration
		saved     []playlist.Dated
		enc       = json.NewEncoder(stdout)
		result    = exitOK
	)
	for o.count == 0 || n < o.count {
		f, err := sub.Next(ctx)
		var relayErr *protocol.Error
		switch {
		case errors.Is(err, io.EOF):
			log.Info().Msg("the stream ended (CLOSE)")
		case errors.Is(err, context.DeadlineExceeded) && o.duration > 0:
		case errors.Is(err, context.Canceled):
			log.Info().Msg("interrupted")
		case errors.As(err, &relayErr):
			log.Error().Str("code", relayErr.Code).Str("message", relayErr.Message).Msg("the relay refused")
			result = exitFailed
		case err != nil:
			log.Error().Err(err).Msg("pull failed")
			result = exitFailed
		}
		if err != nil {
			break
		}
		n++
		bytes += int64(len(f.Data))
		l := line{N: n, Duration: f.Duration.Seconds(), Bytes: len(f.Data), Disc: f.Disc}
		if f.Disc {
			discs++
		}
		if f.HasSeq {
			seq := f.Seq
			l.Seq = &seq
		}
		if !f.Time.IsZero() {
			lat := time.Since(f.Time)
			latencies = append(latencies, lat)
			l.Time = f.Time.UTC().Format(time.RFC3339Nano)
			l.LatencyMS = float64(lat.Microseconds()) / 1000
		}
		if o.out != "" {
			name := fmt.Sprintf("seg%06d.ts", n-1)
			if err := os.WriteFile(filepath.Join(o.out, name), f.Data, 0o644); err != nil {
				log.Error().Err(err).Msg("save fragment")
				result = exitFailed
				break
			}
			saved = append(saved, playlist.Dated{
				Entry: playlist.Entry{URI: name, Duration: f.Duration, Sequence: uint64(n - 1), Discontinuity: f.Disc && n > 1},
				Time:  f.Time,
			})
			if err := playlist.WriteFile(filepath.Join(o.out, "live.m3u8"), saved, false); err != nil {
				log.Error().Err(err).Msg("write playlist")
				result = exitFailed
				break
			}
			l.File = name
		}
		printLine(stdout, enc, l, o.jsonOut)
	}
	if o.out != "" && len(saved) > 0 {
		if err := playlist.WriteFile(filepath.Join(o.out, "live.m3u8"), saved, true); err != nil {
			log.Error().Err(err).Msg("write playlist")
			result = exitFailed
		}
	}
	ev := log.Info().Int("fragments", n).Int64("bytes", bytes).Int("discontinuities", discs)
	if len(latencies) > 0 {
		slices.Sort(latencies)
		ev = ev.Stringer("latency_p50", latencies[len(latencies)/2].Round(time.Millisecond)).
			Stringer("latency_max", latencies[len(latencies)-1].Round(time.Millisecond))
	}
	ev.Msg("done")
	return result
}

func printLine(w io.Writer, enc *json.Encoder, l line, asJSON bool) {
	if asJSON {
		_ = enc.Encode(l)
		return
	}
	seq := "-"
	if l.Seq != nil {
		seq = fmt.Sprint(*l.Seq)
	}
	s := fmt.Sprintf("#%d\tseq=%s\tduration=%gs\tbytes=%d", l.N, seq, l.Duration, l.Bytes)
	if l.Time != "" {
		s += fmt.Sprintf("\tlatency=%.1fms", l.LatencyMS)
	}
	if l.Disc {
		s += "\tdisc"
	}
	if l.File != "" {
		s += "\t" + l.File
	}
	fmt.Fprintln(w, s)
}
