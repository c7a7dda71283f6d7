package faults

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/hlsrelay/hlsrelay/sdk-go/protocol"
	"github.com/hlsrelay/hlsrelay/sdk-go/token"
	"github.com/hlsrelay/hlsrelay/tools/internal/cluster"
	"github.com/hlsrelay/hlsrelay/tools/internal/procstat"
)

const (
	pullSecret = "faults-pull-secret-0123456789abcdef0123"
	pushSecret = "faults-push-secret-0123456789abcdef0123"
)

var binDir string

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "hlsrelay-faults-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	binDir = dir
	for name, pkg := range map[string]string{
		"hlsrelay": "github.com/hlsrelay/hlsrelay/server/cmd/hlsrelay",
		"publish":  "github.com/hlsrelay/hlsrelay/tools/cmd/publish",
	} {
		out, err := exec.Command("go", "build", "-o", filepath.Join(dir, name), pkg).CombinedOutput()
		if err != nil {
			fmt.Fprintf(os.Stderr, "build %s: %v\n%s", name, err, out)
			return 1
		}
	}
	return m.Run()
}

// startRelay runs one relay process with env added to the test secrets.
func startRelay(t *testing.T, env map[string]string) *cluster.Node {
	t.Helper()
	port, err := cluster.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	all := map[string]string{
		"PULL_SECRET": pullSecret, "PUSH_SECRET": pushSecret, "LOG_REQUESTS": "NO",
		"PLUGIN_CACHE_DIR": filepath.Join(os.TempDir(), "hlsrelay-faults-plugin-cache"),
	}
	for k, v := range env {
		all[k] = v
	}
	n, err := cluster.StartNode(t.Context(), cluster.NodeConfig{
		Name: "relay", Binary: filepath.Join(binDir, "hlsrelay"), Port: port, Env: all, LogDir: t.TempDir(),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if n.Exited() {
			t.Errorf("the relay process exited during the test:\n%s", tail(n.Log(), 4000))
		}
		n.Stop()
	})
	return n
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

func rssMiB(t *testing.T, n *cluster.Node) float64 {
	t.Helper()
	rss, err := procstat.RSS(n.Pid())
	if err != nil {
		t.Fatalf("relay RSS: %v", err)
	}
	return float64(rss) / (1 << 20)
}

func sign(t *testing.T, secret string, action token.Action, stream string) string {
	t.Helper()
	tok, err := token.Sign([]byte(secret), action, stream, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// conn is a raw protocol client.
type conn struct {
	t  *testing.T
	ws *websocket.Conn
}

func dial(t *testing.T, url string, opts *websocket.DialOptions) *conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, url, opts)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	ws.SetReadLimit(64 << 20)
	t.Cleanup(func() { ws.CloseNow() })
	return &conn{t: t, ws: ws}
}

func (c *conn) send(typ websocket.MessageType, b []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return c.ws.Write(ctx, typ, b)
}

func (c *conn) text(s string) {
	c.t.Helper()
	if err := c.send(websocket.MessageText, []byte(s)); err != nil {
		c.t.Fatalf("send %.40q: %v", s, err)
	}
}

// read returns the next message, or an error (which ends the connection).
func (c *conn) read(timeout time.Duration) (websocket.MessageType, []byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return c.ws.Read(ctx)
}

// expect reads the next text message and requires its type.
func (c *conn) expect(typ string) protocol.Message {
	c.t.Helper()
	_, body, err := c.read(10 * time.Second)
	if err != nil {
		c.t.Fatalf("waiting for %s: %v", typ, err)
	}
	m, err := protocol.Parse(body)
	if err != nil || m.Type != typ {
		c.t.Fatalf("got %.80q, want %s", body, typ)
	}
	return m
}

func (c *conn) push(stream string) {
	c.t.Helper()
	c.text(string(protocol.AppendPush(nil, protocol.Push{Stream: stream, Auth: sign(c.t, pushSecret, token.Push, stream)})))
	c.expect(protocol.TypeOK)
}

func (c *conn) pull(stream string) {
	c.t.Helper()
	c.text(string(protocol.AppendPull(nil, protocol.Pull{Stream: stream, Auth: sign(c.t, pullSecret, token.Pull, stream), MaxInitialFragments: -1})))
	c.expect(protocol.TypeOK)
}

func (c *conn) fragment(data []byte) error {
	if err := c.send(websocket.MessageText, []byte("F:duration=0.5")); err != nil {
		return err
	}
	return c.send(websocket.MessageBinary, data)
}

// nextFragment reads until a binary message and returns it.
func (c *conn) nextFragment(timeout time.Duration) ([]byte, error) {
	for {
		typ, body, err := c.read(timeout)
		if err != nil {
			return nil, err
		}
		if typ == websocket.MessageBinary {
			return body, nil
		}
		if m, _ := protocol.Parse(body); m.Type == protocol.TypeClose {
			return nil, errClose
		}
	}
}

var errClose = fmt.Errorf("CLOSE")

// healthy checks that the relay still serves a fresh publisher and viewer.
func healthy(t *testing.T, url string) {
	t.Helper()
	stream := fmt.Sprintf("health/%d", time.Now().UnixNano())
	p := dial(t, url, nil)
	p.push(stream)
	v := dial(t, url, nil)
	v.pull(stream)
	if err := p.fragment([]byte("still serving")); err != nil {
		t.Fatal(err)
	}
	got, err := v.nextFragment(10 * time.Second)
	if err != nil || string(got) != "still serving" {
		t.Fatalf("a fresh viewer got %q, %v", got, err)
	}
}
