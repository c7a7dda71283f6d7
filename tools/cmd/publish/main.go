// Command publish pushes MPEG-TS segments to a relay with the Go SDK's
// publisher (sdk-go/publisher): the embedded sample in a loop, a directory
// of segments, a media file or a live source through ffmpeg. With -cmaf it
// publishes fragmented MP4 in parts instead, for sub-second latency: the
// embedded fMP4 sample, a file or live source that ffmpeg encodes to fMP4,
// or fMP4 on standard input.
//
//	publish -url ws://127.0.0.1:8080/ -stream room1/cam -secret S -sample
//	publish -url ws://127.0.0.1:8080/ -stream room1/cam -dir ./segments -loop
//	publish -url ws://127.0.0.1:8080/ -stream room1/cam -file video.mp4 -loop
//	publish -url ws://127.0.0.1:8080/ -stream room1/cam -input "-f lavfi -i testsrc2=size=1280x720:rate=30 -f lavfi -i sine"
//	publish -url ws://127.0.0.1:8080/ -stream room1/cam -cmaf -input "-f lavfi -i testsrc2 -f lavfi -i sine"
//	ffmpeg ... -f mp4 -movflags ... pipe:1 | publish -url ws://127.0.0.1:8080/ -stream room1/cam -cmaf -stdin
//
// Ctrl-C stops the source, sends what is queued and CLOSE, and exits.
// Exit status: 0 finished or interrupted cleanly, 1 failure, 2 usage error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/hlsrelay/hlsrelay/sdk-go/cmaf"
	"github.com/hlsrelay/hlsrelay/sdk-go/protocol"
	"github.com/hlsrelay/hlsrelay/sdk-go/publisher"
	"github.com/hlsrelay/hlsrelay/tools/internal/feed"
	"github.com/hlsrelay/hlsrelay/tools/internal/sample"
)

const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
)

// closeTimeout bounds the final flush and CLOSE.
const closeTimeout = 10 * time.Second

func main() {
	// Millisecond timestamps in the console log.
	zerolog.TimeFieldFormat = time.RFC3339Nano
	os.Exit(run(context.Background(), os.Args[1:], os.Getenv, os.Stdin, os.Stderr, true))
}

type options struct {
	url, stream, secret, token string
	tokenTTL                   time.Duration
	queue                      int
	retryDelay                 time.Duration

	sample     bool
	dir        string
	file       string
	input      string
	loop       bool
	loops      loopsFlag
	segment    time.Duration
	speed      float64
	ffmpeg     string
	copyCodecs bool
	bitrate    string
	realtime   bool
	logLevel   string

	cmaf  bool
	stdin bool
	chunk time.Duration
	// relayTime leaves fragments unstamped (-stamp relay): the relay then
	// stamps each with the time it received it.
	relayTime bool
}

func parseFlags(args []string, getenv func(string) string, stderr io.Writer) (*options, int) {
	o := &options{}
	fs := flag.NewFlagSet("publish", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.url, "url", "", "relay WebSocket URL, ws:// or wss:// (required)")
	fs.StringVar(&o.stream, "stream", "", "stream id to publish (required)")
	fs.StringVar(&o.secret, "secret", "", "PUSH secret; a token is signed per connection (default $PUSH_SECRET)")
	fs.StringVar(&o.token, "token", "", "ready-made PUSH token, used when there is no secret")
	fs.DurationVar(&o.tokenTTL, "token-ttl", time.Hour, "validity of the tokens signed from -secret")
	fs.IntVar(&o.queue, "queue", 10, "fragments kept while the relay is unreachable")
	fs.DurationVar(&o.retryDelay, "retry-delay", time.Second, "first delay before reconnecting (doubles up to 10s)")

	fs.BoolVar(&o.sample, "sample", false, "source: the embedded sample (6 s test pattern + tone), looped")
	fs.StringVar(&o.dir, "dir", "", "source: a directory of .ts segments (order and durations from its .m3u8 if any)")
	fs.StringVar(&o.file, "file", "", "source: a media file, cut into segments by ffmpeg in real time")
	fs.StringVar(&o.input, "input", "", "source: ffmpeg input arguments, e.g. \"-f lavfi -i testsrc2\" (split on spaces)")
	fs.BoolVar(&o.loop, "loop", false, "-dir, -file: loop forever")
	fs.Var(&o.loops, "loops", "-sample, -dir: play the source `N` times, 0 = forever (default: -sample forever, -dir once)")
	fs.DurationVar(&o.segment, "segment-duration", 0, "-dir: duration of every segment (default: playlist or timestamps); -file, -input: segment length (default 1s)")
	fs.Float64Var(&o.speed, "speed", 1, "-sample, -dir: pace multiplier (2 = twice real time)")
	fs.StringVar(&o.ffmpeg, "ffmpeg", "ffmpeg", "ffmpeg binary for -file and -input")
	fs.BoolVar(&o.copyCodecs, "copy", false, "-file, -input: pass the codecs through instead of encoding H.264 + AAC (the source's keyframes then cut the segments)")
	fs.StringVar(&o.bitrate, "video-bitrate", "2500k", "-file, -input: H.264 bitrate (ffmpeg syntax)")
	fs.BoolVar(&o.realtime, "realtime", true, "-input: read inputs at their native rate (-re before each -i)")
	fs.StringVar(&o.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.BoolVar(&o.cmaf, "cmaf", false, "publish fragmented MP4 in parts (sub-second latency): -sample, -file, -input or -stdin")
	fs.BoolVar(&o.stdin, "stdin", false, "source (with -cmaf): fragmented MP4 on standard input, e.g. from your own ffmpeg")
	fs.DurationVar(&o.chunk, "chunk-duration", 0, "-cmaf with -file, -input: part length, ffmpeg's -frag_duration (default 200ms)")
	stamp := fs.String("stamp", "capture", "the publish time of whole fragments: capture (the wall-clock time of the fragment's first frame) or relay (none: the relay stamps its receipt time); parts are always stamped by the relay")
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage:
  publish -url ws://HOST:PORT/ -stream ID [-secret S] SOURCE [options]

Publishes MPEG-TS segments to a relay (hlsrelay or any HLS WebSocket CDN
relay) with the Go SDK's publisher, which queues while disconnected and
reconnects. SOURCE is one of:
  -sample            the embedded sample, looped (-loops N to stop)
  -dir PATH          .ts segments of a directory (-loop, -loops N)
  -file PATH         a media file through ffmpeg's HLS muxer (-loop)
  -input "ARGS"      a live ffmpeg input, e.g. "-f lavfi -i testsrc2"
With -cmaf, fragmented MP4 (CMAF) goes out in parts of -chunk-duration,
grouped into fragments of -segment-duration that start with a key frame:
  -cmaf -sample      the embedded fMP4 sample, looped with timestamps
                     that keep increasing
  -cmaf -file PATH, -cmaf -input "ARGS"
                     ffmpeg writes fMP4 to a pipe; each chunk is
                     published the moment ffmpeg has written it
  -cmaf -stdin       fMP4 from your own encoder on standard input
Ctrl-C sends what is queued and CLOSE, then exits.

Exit status: 0 finished or interrupted cleanly, 1 failure, 2 usage error.

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
		fmt.Fprintf(stderr, "publish: "+format+"\n", a...)
		return nil, exitUsage
	}
	if fs.NArg() > 0 {
		return usage("unexpected argument %q (see -h)", fs.Arg(0))
	}
	if o.url == "" {
		return usage("-url is required, e.g. -url ws://127.0.0.1:8080/")
	}
	if o.stream == "" {
		return usage("-stream is required")
	}
	switch *stamp {
	case "capture":
	case "relay":
		o.relayTime = true
	default:
		return usage("-stamp %q: want capture or relay", *stamp)
	}
	if err := protocol.ValidateStreamID(o.stream); err != nil {
		return usage("-stream: %v", err)
	}
	sources := 0
	for _, set := range []bool{o.sample, o.dir != "", o.file != "", o.input != "", o.stdin} {
		if set {
			sources++
		}
	}
	if sources != 1 {
		return usage("give exactly one source: -sample, -dir, -file, -input or -stdin")
	}
	switch {
	case o.stdin && !o.cmaf:
		return usage("-stdin reads fragmented MP4: add -cmaf")
	case o.cmaf && o.dir != "":
		return usage("-cmaf applies to -sample, -file, -input and -stdin (-dir holds MPEG-TS segments)")
	case o.chunk < 0:
		return usage("-chunk-duration %v is negative", o.chunk)
	case o.chunk > 0 && !(o.cmaf && (o.file != "" || o.input != "")):
		return usage("-chunk-duration applies to -cmaf with -file or -input")
	case o.chunk > 0 && o.chunk > o.segmentOrDefault():
		return usage("-chunk-duration %v is longer than the fragments (-segment-duration %v)", o.chunk, o.segmentOrDefault())
	case o.stdin && (o.loop || o.loops.set || o.speed != 1):
		return usage("-loop, -loops and -speed do not apply to -stdin")
	}
	switch {
	case o.loop && (o.sample || o.input != ""):
		return usage("-loop applies to -dir and -file (-sample loops by default)")
	case o.loops.set && !(o.sample || o.dir != ""):
		return usage("-loops applies to -sample and -dir")
	case o.loop && o.loops.set:
		return usage("give -loop or -loops, not both")
	case o.segment < 0:
		return usage("-segment-duration %v is negative", o.segment)
	case o.segment > 0 && o.sample:
		return usage("-segment-duration does not apply to -sample")
	case !(o.speed > 0 && o.speed <= 100):
		return usage("-speed %g is out of range (0, 100]", o.speed)
	case o.speed != 1 && !(o.sample || o.dir != ""):
		return usage("-speed applies to -sample and -dir")
	}
	if _, err := zerolog.ParseLevel(o.logLevel); err != nil || o.logLevel == "" {
		return usage("-log-level %q: want debug, info, warn or error", o.logLevel)
	}
	if o.secret == "" {
		o.secret = getenv("PUSH_SECRET")
	}
	return o, exitOK
}

func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stderr io.Writer, handleSignals bool) int {
	o, code := parseFlags(args, getenv, stderr)
	if o == nil {
		return code
	}
	level, _ := zerolog.ParseLevel(o.logLevel)
	log := zerolog.New(zerolog.ConsoleWriter{Out: stderr, TimeFormat: "15:04:05.000", NoColor: !isTerminal(stderr)}).
		Level(level).With().Timestamp().Logger()

	if handleSignals {
		var stop context.CancelFunc
		ctx, stop = signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
		defer stop()
		// A second Ctrl-C kills the process the usual way.
		context.AfterFunc(ctx, stop)
	}

	var (
		tsSource   func(context.Context, feed.Sink) error
		cmafSource func(context.Context, feed.ChunkSink) error
		err        error
	)
	if o.cmaf {
		cmafSource, err = o.cmafSource(log, stdin)
	} else {
		tsSource, err = o.source(log)
	}
	if err != nil {
		log.Error().Err(err).Msg("cannot read the source")
		return exitFailed
	}
	if o.secret == "" && o.token == "" {
		log.Warn().Msg("no -secret, $PUSH_SECRET or -token: publishing without a token (works only on a relay without a PUSH secret)")
	}
	pub, err := publisher.New(publisher.Options{
		URL:         o.url,
		Stream:      o.stream,
		Secret:      o.secret,
		Token:       o.token,
		TokenTTL:    o.tokenTTL,
		QueueLength: o.queue,
		RetryDelay:  o.retryDelay,
		Parts:       o.cmaf,
		RelayTime:   o.relayTime,
		OnReady:     func() { log.Info().Str("url", o.url).Str("stream", o.stream).Msg("relay accepted the PUSH") },
		OnError: func(err error) {
			if errors.Is(err, publisher.ErrPartsUnsupported) {
				log.Warn().Err(err).Msg("the relay does not take parts (an older relay?): publishing whole fragments")
				return
			}
			log.Warn().Err(err).Msg("relay connection")
		},
	})
	if err != nil {
		fmt.Fprintf(stderr, "publish: %v\n", err)
		return exitUsage
	}

	var (
		count int
		bytes int64
	)
	sink := func(ctx context.Context, s feed.Segment) error {
		err := pub.Send(ctx, publisher.Fragment{Duration: s.Duration, Data: s.Data, Time: s.Time, Disc: s.Disc})
		if err != nil {
			return err
		}
		count++
		bytes += int64(len(s.Data))
		ev := log.Debug()
		if count == 1 {
			ev = log.Info()
		}
		ev.Str("segment", s.Name).Stringer("duration", s.Duration).Int("bytes", len(s.Data)).Bool("disc", s.Disc).
			Int("count", count).Msg("segment queued")
		return nil
	}
	log.Info().Str("url", o.url).Str("stream", o.stream).Bool("cmaf", o.cmaf).Msg("publishing")
	var feedErr error
	parts := &partsSink{pub: pub, log: log, frag: cmaf.Fragmenter{Target: o.segmentOrDefault()}}
	if o.cmaf {
		feedErr = cmafSource(ctx, parts.chunk)
		count, bytes = parts.fragments, parts.bytes
	} else {
		feedErr = tsSource(ctx, sink)
	}
	interrupted := errors.Is(feedErr, context.Canceled) && ctx.Err() != nil
	if interrupted {
		log.Info().Msg("interrupted; sending what is queued and CLOSE")
		feedErr = nil
	}

	closeCtx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	closeErr := pub.Close(closeCtx)
	if o.cmaf {
		log.Info().Int("fragments", count).Int("parts", parts.parts).Int64("bytes", bytes).Msg("publisher closed")
	} else {
		log.Info().Int("segments", count).Int64("bytes", bytes).Msg("publisher closed")
	}
	switch {
	case feedErr != nil:
		log.Error().Err(feedErr).Msg("source failed")
		return exitFailed
	case closeErr != nil:
		log.Error().Err(closeErr).Msg("could not deliver the end of the stream")
		return exitFailed
	}
	return exitOK
}

// source returns the function that feeds segments for the chosen source.
func (o *options) source(log zerolog.Logger) (func(context.Context, feed.Sink) error, error) {
	switch {
	case o.sample:
		var segs []feed.Segment
		for _, s := range sample.Segments() {
			segs = append(segs, feed.Segment{Name: s.Name, Duration: s.Duration, Data: s.Data})
		}
		r := &feed.Replay{Segments: segs, Loops: o.loops.n, Speed: o.speed, Log: log}
		return r.Run, nil
	case o.dir != "":
		segs, err := feed.LoadDir(o.dir, o.segment)
		if err != nil {
			return nil, err
		}
		var total time.Duration
		for _, s := range segs {
			total += s.Duration
		}
		log.Info().Str("dir", o.dir).Int("segments", len(segs)).Stringer("duration", total).Msg("loaded segments")
		loops := 1
		switch {
		case o.loop:
			loops = 0
		case o.loops.set:
			loops = o.loops.n
		}
		r := &feed.Replay{Segments: segs, Loops: loops, Speed: o.speed, Log: log}
		return r.Run, nil
	default:
		input, err := o.ffmpegInput()
		if err != nil {
			return nil, err
		}
		f := &feed.FFmpeg{
			Path:            o.ffmpeg,
			Input:           input,
			Encode:          feed.EncodeArgs(o.segmentOrDefault(), o.bitrate, o.copyCodecs),
			SegmentDuration: o.segmentOrDefault(),
			Log:             log,
		}
		return f.Run, nil
	}
}

// ffmpegInput is ffmpeg's input arguments for -file or -input.
func (o *options) ffmpegInput() ([]string, error) {
	if o.file == "" {
		return feed.LiveInput(o.input, o.realtime), nil
	}
	if _, err := os.Stat(o.file); err != nil {
		return nil, err
	}
	return feed.FileInput(o.file, o.loop), nil
}

// isTerminal reports whether w is a character device (a terminal), where
// colours help; logs piped to a file stay plain.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// loopsFlag is -loops: a count that remembers whether it was given, so that
// each source can pick its own default.
type loopsFlag struct {
	n   int
	set bool
}

func (l *loopsFlag) String() string {
	if l == nil || !l.set {
		return ""
	}
	return strconv.Itoa(l.n)
}

func (l *loopsFlag) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return fmt.Errorf("%q is not a count (0 = forever)", s)
	}
	l.n, l.set = n, true
	return nil
}

func (o *options) segmentOrDefault() time.Duration {
	if o.segment > 0 {
		return o.segment
	}
	return time.Second
}
