// Command bench is a load generator for hlsrelay and any relay that speaks
// the base protocol of the HLS WebSocket CDN.
//
// Load mode (default): one publisher pushes fragments of -fragment-size bytes
// at -rate per second while -viewers viewers pull the same stream; it reports
// latency percentiles, the delivered fraction, throughput, order and
// integrity errors, and with -pid the relay's CPU seconds per GB delivered
// and its RSS.
//
//	bench -url ws://127.0.0.1:8080/ -viewers 200 -fragment-size 250000 -rate 10 -duration 30s -pid $(pidof hlsrelay)
//
// With -hls the viewers read the stream from the relay's HLS-over-HTTP output
// instead, as players with blocking playlist reload do (playlist with
// _HLS_msn, then the segment); latency is measured the same way.
//
//	bench -url ws://127.0.0.1:8080/ -hls -viewers 200 -fragment-size 250000 -rate 10 -pid $(pidof hlsrelay)
//
// Idle mode: -idle N opens N viewers that stay idle and reports the relay's
// resident memory per idle viewer (needs -pid).
//
//	bench -url ws://127.0.0.1:8080/ -idle 10000 -pid $(pidof hlsrelay)
//
// Exit status: 0 success, 1 the run failed, 2 usage error, 3 the run finished
// but fragments were corrupt, out of order, or fewer than -min-delivered
// arrived.
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
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/hlsrelay/hlsrelay/sdk-go/token"
	"github.com/hlsrelay/hlsrelay/tools/internal/bench"
)

const (
	exitOK       = 0
	exitFailed   = 1
	exitUsage    = 2
	exitProblems = 3
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

type options struct {
	cfg          bench.Config
	idle         int
	pushSecret   string
	pullSecret   string
	jsonOut      bool
	quiet        bool
	minDelivered float64
	cpuProfile   string
}

func parseFlags(args []string, getenv func(string) string, stderr io.Writer) (*options, int) {
	o := &options{}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := &o.cfg
	fs.StringVar(&c.URL, "url", "", "relay WebSocket URL, ws:// or wss:// (required)")
	fs.DurationVar(&c.PublisherReconnect, "publisher-reconnect", 0, "load mode: drop the publisher's connection (no CLOSE) and push again this often (soak)")
	fs.DurationVar(&c.SampleEvery, "sample-every", 0, "record the relay's RSS (-pid) and goroutines (-metrics-url) this often")
	fs.StringVar(&c.MetricsURL, "metrics-url", "", "the relay's Prometheus endpoint, e.g. http://127.0.0.1:9090/metrics, for goroutine samples")
	fs.StringVar(&c.PullURL, "pull-url", "", "load mode: viewers connect here instead of -url (another node of a cluster)")
	fs.StringVar(&c.Stream, "stream", "bench/1", "stream id to push and pull")
	fs.IntVar(&c.Viewers, "viewers", 100, "load mode: number of viewers")
	fs.IntVar(&o.idle, "idle", 0, "idle mode: open this many idle viewers and report memory per viewer")
	fs.IntVar(&c.FragmentSize, "fragment-size", 250_000, "load mode: fragment size in bytes")
	fs.Float64Var(&c.Rate, "rate", 10, "load mode: fragments per second")
	fs.DurationVar(&c.Duration, "duration", 30*time.Second, "load mode: measured window")
	fs.DurationVar(&c.Warmup, "warmup", 2*time.Second, "load mode: fragments sent before the measured window (0: none)")
	fs.DurationVar(&c.Drain, "drain", 10*time.Second, "load mode: longest wait for the last fragment to reach every viewer")
	fs.DurationVar(&c.Settle, "settle", 5*time.Second, "idle mode: wait after the last viewer joined before reading memory")
	fs.DurationVar(&c.Hold, "hold", 0, "idle mode: keep the viewers connected this long after the reading")
	fs.BoolVar(&c.NoPublisher, "no-publisher", false, "idle mode: do not publish the stream (someone else does)")
	fs.IntVar(&c.PID, "pid", 0, "relay process id on this machine, for CPU and RSS from /proc (0: skip)")
	fs.IntVar(&c.ConnectConcurrency, "connect-concurrency", 200, "connection attempts in flight")
	fs.DurationVar(&c.ConnectTimeout, "connect-timeout", 30*time.Second, "limit for one connection attempt (dial, PUSH/PULL, OK)")
	fs.StringVar(&o.pushSecret, "push-secret", "", "sign PUSH tokens with this secret (default $PUSH_SECRET; none: no token)")
	fs.StringVar(&o.pullSecret, "pull-secret", "", "sign PULL tokens with this secret (default $PULL_SECRET; none: no token)")
	fs.StringVar(&c.PushAuth, "push-token", "", "send this PUSH token instead of signing one")
	fs.StringVar(&c.PullAuth, "pull-token", "", "send this PULL token instead of signing one")
	fs.BoolVar(&c.Insecure, "insecure", false, "skip TLS certificate verification (wss:// test relays)")
	fs.BoolVar(&c.HLS, "hls", false, "load mode: viewers read HLS over HTTP with blocking playlist reload instead of WebSocket PULLs")
	fs.StringVar(&c.HLSURL, "hls-url", "", "with -hls: URL of the relay's HLS prefix (default: the relay's host, http(s), path "+bench.DefaultHLSPrefix+")")
	fs.BoolVar(&o.jsonOut, "json", false, "print the result as JSON instead of a table")
	fs.BoolVar(&o.quiet, "quiet", false, "no progress lines on stderr")
	fs.Float64Var(&o.minDelivered, "min-delivered", 0, "load mode: exit 3 if the delivered fraction is below this (0..1)")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write the bench's own CPU profile to this file (to check the bench is not the bottleneck)")
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage:
  bench -url ws://HOST:PORT/ [-viewers N] [-fragment-size B] [-rate R] [-duration D] [-pid PID] [-json]
  bench -url ws://HOST:PORT/ -hls [-viewers N] ...   (viewers read HLS over HTTP)
  bench -url ws://HOST:PORT/ -idle N [-settle D] [-pid PID] [-json]

Load generator speaking only the base protocol (PUSH/PULL, OK, F + binary, H,
CLOSE). Load mode: one publisher, N viewers of the same stream; reports
latency (publisher send to viewer receipt of the whole fragment), delivered
fraction, throughput, integrity, and with -pid the relay's CPU-s per GB and
RSS. Idle mode: N idle viewers; reports relay RSS per viewer (needs -pid).

Exit status: 0 success, 1 run failed, 2 usage error, 3 corrupt or
out-of-order fragments, or delivered fraction below -min-delivered.

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
		fmt.Fprintf(stderr, "bench: "+format+"\n", a...)
		return nil, exitUsage
	}
	if fs.NArg() > 0 {
		return usage("unexpected argument %q (see -h)", fs.Arg(0))
	}
	if c.URL == "" {
		return usage("-url is required, e.g. -url ws://127.0.0.1:8080/")
	}
	if o.idle < 0 {
		return usage("-idle %d is negative", o.idle)
	}
	if o.idle > 0 {
		c.Viewers = o.idle
	}
	if o.idle > 0 && c.HLS {
		return usage("-hls is for load mode; idle mode measures WebSocket viewers")
	}
	if o.minDelivered < 0 || o.minDelivered > 1 {
		return usage("-min-delivered %g is not in [0, 1]", o.minDelivered)
	}
	if c.Warmup == 0 {
		c.Warmup = -1 // the library's "none"
	}
	if o.pushSecret == "" {
		o.pushSecret = getenv("PUSH_SECRET")
	}
	if o.pullSecret == "" {
		o.pullSecret = getenv("PULL_SECRET")
	}
	return o, exitOK
}

// signTokens fills in PushAuth and PullAuth from the secrets, valid for the
// whole run plus an hour.
func (o *options) signTokens() error {
	c := &o.cfg
	ttl := c.ConnectTimeout + max(c.Warmup, 0) + c.Duration + c.Drain + c.Settle + c.Hold + time.Hour
	var err error
	if c.PushAuth == "" && o.pushSecret != "" {
		if c.PushAuth, err = token.Sign([]byte(o.pushSecret), token.Push, c.Stream, ttl); err != nil {
			return err
		}
	}
	if c.PullAuth == "" && o.pullSecret != "" {
		if c.PullAuth, err = token.Sign([]byte(o.pullSecret), token.Pull, c.Stream, ttl); err != nil {
			return err
		}
	}
	return nil
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	o, code := parseFlags(args, getenv, stderr)
	if o == nil {
		return code
	}
	if err := o.signTokens(); err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return exitUsage
	}
	if !o.quiet {
		o.cfg.Logf = func(format string, a ...any) {
			fmt.Fprintf(stderr, "%s bench: %s\n", time.Now().Format("15:04:05.000"), fmt.Sprintf(format, a...))
		}
	}

	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			fmt.Fprintf(stderr, "bench: %v\n", err)
			return exitUsage
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(stderr, "bench: %v\n", err)
			return exitFailed
		}
		defer pprof.StopCPUProfile()
	}

	var (
		res *bench.Result
		err error
	)
	if o.idle > 0 {
		res, err = bench.RunIdle(ctx, o.cfg)
	} else {
		res, err = bench.RunLoad(ctx, o.cfg)
	}
	if errors.Is(err, bench.ErrConfig) {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return exitUsage
	}
	if res != nil {
		if werr := write(stdout, res, o.jsonOut); werr != nil {
			fmt.Fprintf(stderr, "bench: write result: %v\n", werr)
			return exitFailed
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return exitFailed
	}
	if l := res.Load; l != nil {
		if l.Corrupt+l.Foreign+l.OutOfOrder+l.ProtocolErrors > 0 {
			fmt.Fprintln(stderr, "bench: fragments arrived corrupt, foreign or out of order")
			return exitProblems
		}
		if l.DeliveredFraction < o.minDelivered {
			fmt.Fprintf(stderr, "bench: delivered fraction %.4f is below -min-delivered %g\n", l.DeliveredFraction, o.minDelivered)
			return exitProblems
		}
	}
	return exitOK
}

func write(w io.Writer, res *bench.Result, asJSON bool) error {
	if !asJSON {
		return bench.WriteTable(w, res)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(res)
}
