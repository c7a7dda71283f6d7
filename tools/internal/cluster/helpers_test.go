package cluster

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/hlsrelay/hlsrelay/sdk-go/protocol"
	"github.com/hlsrelay/hlsrelay/sdk-go/publisher"
	"github.com/hlsrelay/hlsrelay/sdk-go/token"
)

const (
	pullSecret = "cluster-test-pull-secret-0123456789abcdef"
	pushSecret = "cluster-test-push-secret-0123456789abcdef"
)

// relayBinary is the relay built once for the package's tests.
var relayBinary string

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "hlsrelay-cluster-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	relayBinary = filepath.Join(dir, "hlsrelay")
	build := exec.Command("go", "build", "-o", relayBinary, "github.com/hlsrelay/hlsrelay/server/cmd/hlsrelay")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build the relay: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// pluginCache is shared by every node of every test: each process then
// loads the default plugins from the compilation cache.
var pluginCache = filepath.Join(os.TempDir(), "hlsrelay-cluster-test-plugin-cache")

// startCluster starts the standard topology with env added to every node
// and stops it when the test ends (printing the logs of a failed test).
func startCluster(t testing.TB, env map[string]string) *Topology {
	t.Helper()
	dir := t.TempDir()
	env = merge(map[string]string{"PLUGIN_CACHE_DIR": pluginCache}, env)
	topo, err := Start(t.Context(), Options{Binary: relayBinary, Dir: dir, PullSecret: pullSecret, PushSecret: pushSecret, Env: env})
	if err != nil {
		t.Fatalf("start cluster: %v", err)
	}
	t.Cleanup(func() {
		topo.Stop()
		if t.Failed() {
			for _, n := range topo.Nodes() {
				t.Logf("---- %s log (tail) ----\n%s", n.Name(), tail(n.Log(), 6000))
			}
		}
	})
	return topo
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// payload is fragment i of a stream: its index, then bytes derived from it,
// so that a viewer can check every byte it received.
func payload(i uint64, size int) []byte {
	b := make([]byte, size)
	binary.BigEndian.PutUint64(b, i)
	r := rand.New(rand.NewPCG(i, 0x9e3779b97f4a7c15))
	for j := 8; j < size; j++ {
		b[j] = byte(r.Uint32())
	}
	return b
}

// index checks data against payload and returns its index.
func index(data []byte) (uint64, error) {
	if len(data) < 8 {
		return 0, fmt.Errorf("fragment of %d bytes", len(data))
	}
	i := binary.BigEndian.Uint64(data)
	if want := payload(i, len(data)); string(want) != string(data) {
		return i, fmt.Errorf("fragment %d: bytes differ from what was published", i)
	}
	return i, nil
}

// feeder publishes payload fragments every interval through the Go SDK.
type feeder struct {
	pub  *publisher.Publisher
	stop context.CancelFunc
	done chan struct{}
}

func startFeeder(t *testing.T, urls func() string, stream string, interval time.Duration, size int) *feeder {
	t.Helper()
	ready := make(chan struct{}, 1)
	pub, err := publisher.New(publisher.Options{
		OnReady: func() {
			select {
			case ready <- struct{}{}:
			default:
			}
		},
		URLFunc:    func(context.Context) (string, error) { return urls(), nil },
		Stream:     stream,
		Secret:     pushSecret,
		RetryDelay: 100 * time.Millisecond, MaxRetryDelay: 500 * time.Millisecond,
		QueueLength: 50,
	})
	if err != nil {
		t.Fatalf("publisher: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	f := &feeder{pub: pub, stop: cancel, done: make(chan struct{})}
	go func() {
		defer close(f.done)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for i := uint64(0); ; i++ {
			if err := pub.Send(ctx, publisher.Fragment{Duration: interval, Data: payload(i, size)}); err != nil {
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	t.Cleanup(func() {
		f.stop()
		<-f.done
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = pub.Close(ctx)
	})
	// Viewers that come before the publisher find no stream.
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		t.Fatalf("publisher of %s not accepted within 10 s", stream)
	}
	return f
}

// fixed returns a URL function that always answers url.
func fixed(url string) func() string { return func() string { return url } }

// received is one fragment as a viewer got it.
type received struct {
	index uint64
	seq   uint64
	disc  bool
	at    time.Time
	err   error // a bad fragment
}

// viewer is a raw protocol client (PULL with extensions) that records what
// arrives and whether its connection ended.
type viewer struct {
	conn   *websocket.Conn
	frags  chan received
	mu     sync.Mutex
	endErr error
	ended  chan struct{}
	closed bool // the relay sent CLOSE
}

// pullMsg is a PULL with extensions for stream.
func pullMsg(t testing.TB, stream string, maxInitial int) []byte {
	tok, err := token.Sign([]byte(pullSecret), token.Pull, stream, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return protocol.AppendPull(nil, protocol.Pull{Stream: stream, Auth: tok, MaxInitialFragments: maxInitial, Ext: true})
}

// dialViewer connects and sends the PULL; it returns the viewer after OK,
// or the relay's *protocol.Error.
func dialViewer(ctx context.Context, t testing.TB, url, stream string, maxInitial int) (*viewer, error) {
	conn, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		return nil, err
	}
	conn.SetReadLimit(64 << 20)
	if err := conn.Write(ctx, websocket.MessageText, pullMsg(t, stream, maxInitial)); err != nil {
		conn.CloseNow()
		return nil, err
	}
	_, body, err := conn.Read(ctx)
	if err != nil {
		conn.CloseNow()
		return nil, err
	}
	m, err := protocol.Parse(body)
	if err != nil {
		conn.CloseNow()
		return nil, err
	}
	if m.Type == protocol.TypeError {
		conn.CloseNow()
		perr, _ := protocol.ParseError(m)
		return nil, perr
	}
	if m.Type != protocol.TypeOK {
		conn.CloseNow()
		return nil, fmt.Errorf("answer to PULL: %s", m.Type)
	}
	v := &viewer{conn: conn, frags: make(chan received, 4096), ended: make(chan struct{})}
	go v.read()
	return v, nil
}

func mustView(t *testing.T, url, stream string) *viewer {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	v, err := dialViewer(ctx, t, url, stream, 1)
	if err != nil {
		t.Fatalf("PULL %s at %s: %v", stream, url, err)
	}
	t.Cleanup(v.close)
	return v
}

func (v *viewer) read() {
	defer close(v.ended)
	for {
		_, body, err := v.conn.Read(context.Background())
		if err != nil {
			v.finish(err, false)
			return
		}
		m, err := protocol.Parse(body)
		if err != nil {
			v.finish(err, false)
			return
		}
		switch m.Type {
		case protocol.TypeClose:
			v.finish(errors.New("CLOSE"), true)
			return
		case protocol.TypeFragment:
			meta, err := protocol.ParseFragment(m)
			if err != nil {
				v.finish(err, false)
				return
			}
			_, data, err := v.conn.Read(context.Background())
			if err != nil {
				v.finish(err, false)
				return
			}
			i, ierr := index(data)
			v.frags <- received{index: i, seq: meta.Seq, disc: meta.Disc, at: time.Now(), err: ierr}
		}
	}
}

func (v *viewer) finish(err error, closed bool) {
	v.mu.Lock()
	v.endErr, v.closed = err, closed
	v.mu.Unlock()
}

func (v *viewer) close() { v.conn.CloseNow() }

// next waits for the next fragment.
func (v *viewer) next(t *testing.T, timeout time.Duration) received {
	t.Helper()
	select {
	case f := <-v.frags:
		if f.err != nil {
			t.Fatal(f.err)
		}
		return f
	case <-v.ended:
		select {
		case f := <-v.frags:
			return f
		default:
		}
		v.mu.Lock()
		defer v.mu.Unlock()
		t.Fatalf("viewer connection ended: %v", v.endErr)
	case <-time.After(timeout):
		t.Fatalf("no fragment within %v", timeout)
	}
	return received{}
}

// connected reports whether the viewer's connection is still open.
func (v *viewer) connected() bool {
	select {
	case <-v.ended:
		return false
	default:
		return true
	}
}

func relayError(err error) *protocol.Error {
	var perr *protocol.Error
	if errors.As(err, &perr) {
		return perr
	}
	return nil
}

func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// pusher is a raw publisher connection.
type pusher struct{ conn *websocket.Conn }

func pushConn(t testing.TB, url, stream string) *pusher {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	tok, err := token.Sign([]byte(pushSecret), token.Push, stream, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.Write(ctx, websocket.MessageText, protocol.AppendPush(nil, protocol.Push{Stream: stream, Auth: tok})); err != nil {
		t.Fatal(err)
	}
	return &pusher{conn: conn}
}

// expectError reads the relay's answer and requires an E message.
func (p *pusher) expectError(t testing.TB) *protocol.Error {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	_, body, err := p.conn.Read(ctx)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	m, err := protocol.Parse(body)
	if err != nil || m.Type != protocol.TypeError {
		t.Fatalf("answer %q, want E", body)
	}
	perr, _ := protocol.ParseError(m)
	return perr
}

// expectOK reads the relay's answer and requires OK.
func (p *pusher) expectOK(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	_, body, err := p.conn.Read(ctx)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if m, err := protocol.Parse(body); err != nil || m.Type != protocol.TypeOK {
		t.Fatalf("answer %q, want OK", body)
	}
}

// send publishes one fragment of 1 s.
func (p *pusher) send(t testing.TB, data []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := p.conn.Write(ctx, websocket.MessageText, []byte("F:duration=1.0")); err != nil {
		t.Fatal(err)
	}
	if err := p.conn.Write(ctx, websocket.MessageBinary, data); err != nil {
		t.Fatal(err)
	}
}
