// Command cluster runs a local hlsrelay cluster in the topology of the
// existing project's test network: a real redis-server, two publishing
// nodes that announce their streams in the registry, relay-1 that finds
// streams through the registry, and relay-2 chained behind relay-1
// (RELAY_FROM_URL). It publishes the committed sample to publisher-1,
// prints the URLs, among them the player demo page on relay-1 and relay-2
// with a PULL token, and stops everything on Ctrl-C.
//
//	cluster                      # ports 7400 (Redis) to 7404
//	cluster -base-port 9000 -no-sample
//	cluster -base-port 0         # free ports
//
// Exit status: 0 after Ctrl-C, 1 when the cluster cannot start, 2 usage
// error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/hlsrelay/hlsrelay/sdk-go/token"
	"github.com/hlsrelay/hlsrelay/tools/internal/cluster"
)

const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
)

type options struct {
	bin, dir               string
	basePort               int
	pullSecret, pushSecret string
	stream                 string
	noSample               bool
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func parseFlags(args []string, stderr io.Writer) (*options, int) {
	o := &options{}
	fs := flag.NewFlagSet("cluster", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.bin, "bin", "bin/hlsrelay", "relay executable (make build)")
	fs.StringVar(&o.dir, "dir", "", "directory for logs (default: a new temporary directory)")
	fs.IntVar(&o.basePort, "base-port", 7400, "Redis port; the nodes listen on the next four ports (0: free ports)")
	fs.StringVar(&o.pullSecret, "pull-secret", "demo-pull-secret", "PULL_SECRET of every node")
	fs.StringVar(&o.pushSecret, "push-secret", "demo-push-secret", "PUSH_SECRET of every node")
	fs.StringVar(&o.stream, "stream", "demo/sample/640x360-30~400", "stream id the sample is published as")
	fs.BoolVar(&o.noSample, "no-sample", false, "do not publish the sample")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: cluster [-base-port P] [-bin bin/hlsrelay] [-dir DIR] [-no-sample]")
		fmt.Fprintln(stderr, "\nRuns Redis, publisher-1, publisher-2, relay-1 (registry) and relay-2 (chained) on 127.0.0.1.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, exitOK
		}
		return nil, exitUsage
	}
	if fs.NArg() > 0 || o.basePort < 0 || o.basePort > 65535-4 {
		fs.Usage()
		return nil, exitUsage
	}
	return o, -1
}

func run(args []string, stdout, stderr io.Writer) int {
	o, code := parseFlags(args, stderr)
	if o == nil {
		return code
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if o.dir == "" {
		dir, err := os.MkdirTemp("", "hlsrelay-cluster-")
		if err != nil {
			fmt.Fprintln(stderr, "cluster:", err)
			return exitFailed
		}
		o.dir = dir
	}
	topo, err := cluster.Start(ctx, cluster.Options{
		Binary: o.bin, Dir: o.dir, BasePort: o.basePort,
		PullSecret: o.pullSecret, PushSecret: o.pushSecret,
		// Every node serves the player demo page (docs/player-demo.md).
		Env: map[string]string{"DEMO_PAGE_ENABLED": "YES"},
	})
	if err != nil {
		fmt.Fprintln(stderr, "cluster:", err)
		return exitFailed
	}
	defer topo.Stop()
	var sample *exec.Cmd
	if !o.noSample {
		if sample, err = publishSample(o, topo.Publisher1.URL()); err != nil {
			fmt.Fprintln(stderr, "cluster:", err)
			return exitFailed
		}
		defer stopSample(sample)
	}
	printSummary(stdout, o, topo)
	<-ctx.Done()
	fmt.Fprintln(stdout, "\nstopping the cluster")
	return exitOK
}

// publishSample runs bin/publish (beside the relay executable) with the
// committed sample in a loop.
func publishSample(o *options, url string) (*exec.Cmd, error) {
	bin := filepath.Join(filepath.Dir(o.bin), "publish")
	cmd := exec.Command(bin, "-url", url, "-stream", o.stream, "-secret", o.pushSecret, "-sample")
	log, err := os.Create(filepath.Join(o.dir, "publish.log"))
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("start %s: %w (run make build)", bin, err)
	}
	return cmd, nil
}

// stopSample stops the publisher first, so that it sends CLOSE while its
// node still runs.
func stopSample(cmd *exec.Cmd) {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	_ = cmd.Wait()
}

func printSummary(w io.Writer, o *options, topo *cluster.Topology) {
	fmt.Fprintln(w, "\n  hlsrelay local cluster is running.")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "    redis\t%s\t\t\n", topo.Redis.Addr())
	roles := []string{"publishing node (registry)", "publishing node (registry)", "relay: finds streams in the registry", "relay: chained behind relay-1 (RELAY_FROM_URL)"}
	for i, n := range topo.Nodes() {
		fmt.Fprintf(tw, "    %s\t%s\t%s\t%s\n", n.Name(), n.URL(), n.MetricsURL(), roles[i])
	}
	tw.Flush()
	fmt.Fprintf(w, "\n  secrets   PULL_SECRET=%s  PUSH_SECRET=%s\n  logs      %s\n", o.pullSecret, o.pushSecret, o.dir)
	if !o.noSample {
		fmt.Fprintf(w, "\n  The sample is published to publisher-1 as %q. Watch it through the chain:\n", o.stream)
		fmt.Fprintf(w, "    bin/pull -url %s -stream '%s' -secret %s\n", topo.Relay2.URL(), o.stream, o.pullSecret)
		if tok, err := token.Sign([]byte(o.pullSecret), token.Pull, o.stream, 24*time.Hour); err == nil {
			fmt.Fprintf(w, "\n  Or in a browser, on relay-1 (through the registry) or relay-2 (through relay-1):\n")
			for _, n := range []*cluster.Node{topo.Relay1, topo.Relay2} {
				fmt.Fprintf(w, "    %s\n", demoURL(n.URL(), o.stream, tok))
			}
		}
	}
	fmt.Fprintln(w, "\n  Ctrl-C stops the cluster.")
}

// demoURL is the player demo page of the node at wsURL (ws://host:port/),
// playing stream with a PULL token.
func demoURL(wsURL, stream, tok string) string {
	base := "http://" + strings.TrimSuffix(strings.TrimPrefix(wsURL, "ws://"), "/")
	return base + "/demo/?stream=" + queryEscape(stream) + "&token=" + tok
}

// queryEscape escapes s for a query, keeping the "/" and "~" of stream ids
// readable.
func queryEscape(s string) string {
	return strings.NewReplacer("%2F", "/", "%7E", "~").Replace(url.QueryEscape(s))
}
