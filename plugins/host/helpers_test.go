package host

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// sharedRuntime is one Runtime for the tests that need no special runtime
// configuration: creating one per test would recompile every fixture.
var sharedRuntime = sync.OnceValues(func() (*Runtime, error) {
	return NewRuntime(context.Background(), RuntimeConfig{})
})

func testRuntime(t testing.TB) *Runtime {
	t.Helper()
	r, err := sharedRuntime()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name+".wasm"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// load loads a fixture with cfg (Wasm and Name are filled in) and closes it
// at the end of the test.
func load(t testing.TB, r *Runtime, name string, cfg PluginConfig) *Plugin {
	t.Helper()
	cfg.Name = name
	cfg.Wasm = fixture(t, name)
	if cfg.Role == 0 {
		cfg.Role = RoleAuthorize | RoleRoute
	}
	p, err := r.Load(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return p
}

func pull(stream, token string) *Request {
	return &Request{Action: "PULL", Stream: stream, Token: token, RemoteAddr: "192.0.2.1:5000"}
}

// probe runs an authorisation call of the probe fixture with a command
// token and fails the test on error.
func probe(t testing.TB, p *Plugin, req *Request) Decision {
	t.Helper()
	d, err := p.Authorize(context.Background(), req)
	if err != nil {
		t.Fatalf("Authorize(token %q): %v", req.Token, err)
	}
	return d
}

// mustFail runs a call expected to fail with kind, then checks that the
// plugin still serves a good call.
func mustFail(t *testing.T, p *Plugin, token string, kind FailureKind, want string) {
	t.Helper()
	_, err := p.Authorize(context.Background(), pull("s", token))
	var ce *CallError
	if !errors.As(err, &ce) {
		t.Fatalf("token %q: want a *CallError, got %v", token, err)
	}
	if ce.Kind != kind {
		t.Fatalf("token %q: kind %v, want %v (%v)", token, ce.Kind, kind, err)
	}
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("token %q: error %q does not contain %q", token, err, want)
	}
	d, err := p.Authorize(context.Background(), pull("s", ""))
	if err != nil || !d.Allowed {
		t.Fatalf("after token %q: the plugin no longer serves: %+v, %v", token, d, err)
	}
}

// logs collects a plugin's log lines.
type logs struct {
	mu    sync.Mutex
	lines []logLineRec
}

type logLineRec struct {
	level int
	msg   string
}

func (l *logs) log(level int, _ string, msg string) {
	l.mu.Lock()
	l.lines = append(l.lines, logLineRec{level, msg})
	l.mu.Unlock()
}

func (l *logs) all() []logLineRec {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]logLineRec(nil), l.lines...)
}

func ctxTimeout(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
