package e2e

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/redis/go-redis/v9"

	"github.com/hlsrelay/hlsrelay/sdk-go/protocol"
	"github.com/hlsrelay/hlsrelay/sdk-go/subscriber"
	"github.com/hlsrelay/hlsrelay/server/internal/config"
)

// buildRelayBinary builds the hlsrelay command (with the embedded default
// plugins that `make plugins` built) into a directory of the test.
func buildRelayBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "hlsrelay")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/hlsrelay/hlsrelay/server/cmd/hlsrelay").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// freeTCPPort returns a loopback port that was free a moment ago, for
// processes that must be told their port (and announce it).
func freeTCPPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startRedisServer runs a real redis-server on a port of its own until the
// test ends, and returns its port.
func startRedisServer(t *testing.T) int {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server is not on PATH; install Redis to run this test")
	}
	port := freeTCPPort(t)
	cmd := exec.Command("redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--loglevel", "warning")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	rdb := redis.NewClient(&redis.Options{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port))})
	defer rdb.Close()
	for deadline := time.Now().Add(5 * time.Second); rdb.Ping(context.Background()).Err() != nil; {
		if time.Now().After(deadline) {
			t.Fatalf("redis-server did not answer on %d:\n%s", port, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return port
}

// relayProcess is an hlsrelay process started by a test.
type relayProcess struct {
	cmd    *exec.Cmd
	exited chan struct{} // closed when the process has exited
	err    error         // Wait's result, read after exited

	mu   sync.Mutex
	logs strings.Builder
}

// startRelayProcess runs bin with env (and nothing else from the .env
// file) until the test ends, and waits until it logs that it listens.
func startRelayProcess(t *testing.T, bin string, env map[string]string) *relayProcess {
	t.Helper()
	cmd := exec.Command(bin, "--env-file=")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &relayProcess{cmd: cmd, exited: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	listening := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		once := sync.Once{}
		for sc.Scan() {
			p.mu.Lock()
			p.logs.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
			if strings.Contains(sc.Text(), "hlsrelay listening") {
				once.Do(func() { close(listening) })
			}
		}
		p.err = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.exited
		if t.Failed() {
			t.Logf("relay log:\n%s", p.log())
		}
	})
	select {
	case <-listening:
	case <-p.exited:
		t.Fatalf("hlsrelay exited at start-up: %v\n%s", p.err, p.log())
	case <-time.After(30 * time.Second):
		t.Fatalf("hlsrelay did not start within 30 s:\n%s", p.log())
	}
	return p
}

func (p *relayProcess) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.String()
}

// balancer is a TCP load balancer in front of relay nodes: each new
// connection goes to the first node whose health check answers 200, as a
// load balancer that follows readiness does.
type balancer struct {
	l     net.Listener
	nodes []string // host:port
}

func newBalancer(t *testing.T, nodes ...string) *balancer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &balancer{l: l, nodes: nodes}
	go b.accept()
	t.Cleanup(func() { l.Close() })
	return b
}

func (b *balancer) url() string { return "ws://" + b.l.Addr().String() + "/" }

func (b *balancer) accept() {
	for {
		client, err := b.l.Accept()
		if err != nil {
			return
		}
		go func() {
			node := b.pick()
			if node == "" {
				client.Close()
				return
			}
			server, err := net.Dial("tcp", node)
			if err != nil {
				client.Close()
				return
			}
			go func() { _, _ = io.Copy(server, client); server.Close() }()
			_, _ = io.Copy(client, server)
			client.Close()
		}()
	}
}

func (b *balancer) pick() string {
	hc := http.Client{Timeout: 500 * time.Millisecond}
	for _, n := range b.nodes {
		resp, err := hc.Get("http://" + n + "/healthz")
		if err != nil {
			continue
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return n
		}
	}
	return ""
}

// TestDrainOnSIGTERM: a relay process publishing a stream announced in a
// real Redis, behind a load balancer, gets SIGTERM while its publisher is in
// the middle of a fragment. The node stops being ready, withdraws its
// registry entry, lets the publisher finish that fragment, delivers it to
// the viewers, tells everyone to reconnect (E:code=UNAVAILABLE, close 1001)
// and exits within the bound. The publisher and a Go SDK subscriber then
// continue on the other node through the same load balancer.
func TestDrainOnSIGTERM(t *testing.T) {
	t.Parallel()
	redisPort := startRedisServer(t)
	rdb := redis.NewClient(&redis.Options{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(redisPort))})
	defer rdb.Close()
	bin := buildRelayBinary(t)

	const bound = 4 * time.Second
	portA := freeTCPPort(t)
	urlA := fmt.Sprintf("ws://127.0.0.1:%d/", portA)
	a := startRelayProcess(t, bin, map[string]string{
		"HTTP_BIND_ADDRESS": "127.0.0.1", "HTTP_PORT": strconv.Itoa(portA),
		"PULL_SECRET": pullSecret, "PUSH_SECRET": pushSecret,
		"PUB_REG_REDIS_ENABLED": "YES", "PUB_REG_REDIS_PORT": strconv.Itoa(redisPort),
		"EXTERNAL_WEBSOCKET_URL":   urlA,
		"SHUTDOWN_TIMEOUT_SECONDS": strconv.Itoa(int(bound.Seconds())),
		"PLUGIN_CACHE_DIR":         pluginCache, "METRICS_ENABLED": "NO", "LOG_FORMAT": "json",
	})
	portB := freeTCPPort(t)
	urlB := fmt.Sprintf("ws://127.0.0.1:%d/", portB)
	wsB := startRelay(t, func(c *config.Config) {
		c.HTTP.Port = portB
		c.Server.ExternalURL = urlB
		c.Registry.Enabled, c.Registry.Host, c.Registry.Port = true, "127.0.0.1", redisPort
	})
	lb := newBalancer(t, fmt.Sprintf("127.0.0.1:%d", portA), fmt.Sprintf("127.0.0.1:%d", portB))

	const stream = "drain/cam"
	key := "{hlsrelay}:stream:" + stream
	pub := pushExt(t, lb.url(), stream)
	viewer := dial(t, lb.url())
	viewer.sendText(string(protocol.AppendPull(nil, protocol.Pull{Stream: stream, Auth: pullToken(t, stream), MaxInitialFragments: -1, Ext: true})))
	if ok := viewer.readText(); !strings.HasPrefix(ok, "OK:ext=1") {
		t.Fatalf("PULL answered %q", ok)
	}
	sdkErrs := make(chan error, 16)
	sub, err := subscriber.New(subscriber.Options{
		URL: lb.url(), Stream: stream, Secret: pullSecret, RetryDelay: time.Second,
		OnError: func(err error) { sdkErrs <- err },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	next := func() subscriber.Fragment {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		f, err := sub.Next(ctx)
		if err != nil {
			t.Fatalf("subscriber: %v", err)
		}
		return f
	}

	fragment := func(i int) []byte {
		b := bytes.Repeat([]byte{byte(i)}, 256<<10)
		copy(b, fmt.Sprintf("fragment %d", i))
		return b
	}
	var relayed *wire // a viewer of the other node, which relays the stream from this one
	for i := range 3 {
		pub.sendFragment(1, fragment(i))
		if _, b := viewer.readFragment(); !bytes.Equal(b, fragment(i)) {
			t.Fatalf("viewer: fragment %d differs", i)
		}
		if f := next(); !bytes.Equal(f.Data, fragment(i)) {
			t.Fatalf("subscriber: fragment %d differs", i)
		}
		if i == 0 {
			relayed = dial(t, wsB)
			relayed.sendText(string(protocol.AppendPull(nil, protocol.Pull{Stream: stream, Auth: pullToken(t, stream), MaxInitialFragments: -1, Ext: true})))
			if ok := relayed.readText(); !strings.HasPrefix(ok, "OK:ext=1") {
				t.Fatalf("PULL on the other node answered %q", ok)
			}
		}
	}
	readUntil := func(w *wire, want []byte) {
		t.Helper()
		for {
			if _, b := w.readFragment(); bytes.Equal(b, want) {
				return
			}
		}
	}
	readUntil(relayed, fragment(2))
	if owner, err := rdb.Get(context.Background(), key).Result(); err != nil || owner != urlA {
		t.Fatalf("registry entry %q %v, want %s", owner, err, urlA)
	}

	// Fragment 3 is in flight: its F and three quarters of its bytes are
	// on the wire when SIGTERM arrives.
	inFlight := fragment(3)
	pub.sendText(string(protocol.AppendFragment(nil, protocol.Fragment{Duration: 1}, false)))
	w, err := pub.conn.Writer(context.Background(), websocket.MessageBinary)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(inFlight[:len(inFlight)*3/4]); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	sigterm := time.Now()
	if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	since := func() time.Duration { return time.Since(sigterm).Round(time.Millisecond) }

	waitHealth(t, fmt.Sprintf("http://127.0.0.1:%d", portA), http.StatusServiceUnavailable)
	notReady := since()
	if _, resp, err := websocket.Dial(context.Background(), urlA, nil); err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("a new connection to the draining node: %v %v", err, resp)
	}
	var withdrawn time.Duration
	for deadline := time.Now().Add(bound); ; {
		_, err := rdb.Get(context.Background(), key).Result()
		if errors.Is(err, redis.Nil) {
			withdrawn = since()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the registry entry was not withdrawn: %v", err)
		}
		time.Sleep(5 * time.Millisecond)
	}

	// The publisher finishes its fragment half a second later.
	time.Sleep(500*time.Millisecond - time.Since(sigterm))
	if _, err := w.Write(inFlight[len(inFlight)*3/4:]); err != nil {
		t.Fatalf("the rest of the fragment: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	finished := since()
	if f, b := viewer.readFragment(); !bytes.Equal(b, inFlight) || f.Seq != 3 {
		t.Fatalf("viewer: got fragment seq %d (%d bytes), want the in-flight fragment 3", f.Seq, len(b))
	}
	viewer.expectStop(protocol.CodeUnavailable, websocket.StatusGoingAway)
	viewerTold := since()
	pub.expectStop(protocol.CodeUnavailable, websocket.StatusGoingAway)
	publisherTold := since()
	if f := next(); !bytes.Equal(f.Data, inFlight) {
		t.Fatal("subscriber: the in-flight fragment differs")
	}

	// The publisher goes on through the load balancer, which now sends it
	// to the other node: it can claim the stream there at once because the
	// entry was withdrawn.
	pub2 := pushExt(t, lb.url(), stream)
	moved := since()
	if owner, err := rdb.Get(context.Background(), key).Result(); err != nil || owner != urlB {
		t.Fatalf("registry entry %q %v after the publisher moved, want %s", owner, err, urlB)
	}
	pub2.sendFragment(1, fragment(4))

	select {
	case <-a.exited:
	case <-time.After(bound + 5*time.Second):
		t.Fatalf("the relay did not exit within %v of SIGTERM", bound+5*time.Second)
	}
	exited := since()
	if a.err != nil {
		t.Errorf("the relay exited with %v", a.err)
	}
	if limit := bound + 2*time.Second; exited > limit {
		t.Errorf("exited %v after SIGTERM; the documented bound is SHUTDOWN_TIMEOUT_SECONDS + 2 s = %v", exited, limit)
	}

	// The other node's viewer kept its connection: its node lost the
	// upstream, then the publisher arrived there and took the stream over.
	readUntil(relayed, inFlight)
	readUntil(relayed, fragment(4))
	relayedOn := since()

	// The subscriber was told to reconnect, not that the stream ended; it
	// resumes on the other node.
	var perr *protocol.Error
	if err := <-sdkErrs; !errors.As(err, &perr) || perr.Code != protocol.CodeUnavailable {
		t.Fatalf("subscriber error %v, want UNAVAILABLE", err)
	}
	// The other node's stream is another instance (its own epoch): the
	// first fragment is marked as a discontinuity, and that node may send
	// its buffered fragments first (the subscriber asks for all of them).
	f := next()
	if !f.Disc {
		t.Fatalf("subscriber after the move: the first fragment (%d bytes) is not marked as a discontinuity", len(f.Data))
	}
	for n := 0; !bytes.Equal(f.Data, fragment(4)); n++ {
		if n == 10 {
			t.Fatal("subscriber after the move: no fragment 4")
		}
		f = next()
	}
	resumed := since()
	t.Logf("after SIGTERM: not ready %v, registry entry withdrawn %v, in-flight fragment finished %v, viewer told %v, "+
		"publisher told %v, publisher on the other node %v, process exited %v (bound %v), the other node's viewer got the next fragment %v "+
		"on its own connection, subscriber resumed %v",
		notReady, withdrawn, finished, viewerTold, publisherTold, moved, exited, bound, relayedOn, resumed)
	for _, line := range strings.Split(a.log(), "\n") {
		if strings.Contains(line, `"drained"`) {
			t.Logf("relay: %s", line)
		}
	}
}
