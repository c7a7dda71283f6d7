package e2e

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hlsrelay/hlsrelay/sdk-go/protocol"
	"github.com/hlsrelay/hlsrelay/server/internal/config"
)

// repoFile is a path under the repository root.
func repoFile(parts ...string) string {
	_, here, _, _ := runtime.Caller(0)
	return filepath.Join(append([]string{filepath.Dir(here), "..", ".."}, parts...)...)
}

// TestWATExamplePlugin runs the example plugin written in WAT as the
// relay's authorisation plugin.
func TestWATExamplePlugin(t *testing.T) {
	t.Parallel()
	url := startRelay(t, func(c *config.Config) {
		c.Plugins.AuthFile = repoFile("plugins", "examples", "allowlist.wasm")
		c.Plugins.AuthConfig = "public/\nfree/"
	})
	tests := []struct {
		msg     string
		allowed bool
	}{
		{"PULL:stream=public/cam&auth=x", true},
		{"PULL:stream=free/1&auth=", true},
		{"PULL:stream=private/cam&auth=x", false},
		{"PUSH:stream=public/cam&auth=x", false},
	}
	for _, tt := range tests {
		w := dial(t, url)
		w.sendText(tt.msg)
		if tt.allowed {
			w.expectText("OK")
			w.expectText("CLOSE") // allowed, but nobody publishes it
		} else {
			w.expectError(protocol.CodeAuth)
		}
	}
}

// TestFaultyPluginFailsClosedAndRelayKeepsServing: an authorisation plugin
// that loops forever on some requests times out; those clients get
// E:code=UNAVAILABLE, and the relay keeps serving everyone else.
func TestFaultyPluginFailsClosedAndRelayKeepsServing(t *testing.T) {
	t.Parallel()
	url := startRelay(t, func(c *config.Config) {
		c.Plugins.AuthFile = filepath.Join("testdata", "loop_on_stream.wasm")
		c.Plugins.CallTimeout = 100 * time.Millisecond
		// Four looping calls hold four instances until their deadline;
		// the others serve the good clients meanwhile.
		c.Plugins.PoolSize = 8
	})
	var wg sync.WaitGroup
	var served atomic.Int32
	for i := 0; i < 4; i++ {
		wg.Go(func() {
			w := dial(t, url)
			w.sendText("PULL:stream=loop&auth=x")
			w.expectError(protocol.CodeUnavailable)
		})
		wg.Go(func() {
			w := dial(t, url)
			w.sendText("PULL:stream=fine&auth=x")
			w.expectText("OK")
			w.expectText("CLOSE")
			served.Add(1)
		})
	}
	wg.Wait()
	if served.Load() != 4 {
		t.Fatalf("served %d of 4 good clients", served.Load())
	}
}

// TestReloadUnderLoad swaps the plugins repeatedly while viewers connect:
// no decision fails.
func TestReloadUnderLoad(t *testing.T) {
	t.Parallel()
	var reload func(context.Context) error
	// A generous call deadline: on a loaded machine (the whole suite runs
	// in parallel on 2 cores) a decision can wait longer than the default
	// 50 ms for CPU, and this test is about reloads losing decisions, not
	// about deadlines.
	slowMachine := func(c *config.Config) { c.Plugins.CallTimeout = 2 * time.Second }
	url := startRelayWith(t, slowMachine, func(r interface{ ReloadPlugins(context.Context) error }) { reload = r.ReloadPlugins })
	publish(t, url, "reload/s")
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var ok, failed atomic.Int32
	for i := 0; i < 4; i++ {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				w := dial(t, url)
				w.sendText(pullMsg("reload/s", pullToken(t, "reload/s"), 0))
				if w.readText() == "OK" {
					ok.Add(1)
				} else {
					failed.Add(1)
				}
				w.conn.CloseNow()
			}
		})
	}
	for i := 0; i < 5; i++ {
		if err := reload(context.Background()); err != nil {
			t.Errorf("reload %d: %v", i, err)
		}
	}
	close(stop)
	wg.Wait()
	if failed.Load() != 0 || ok.Load() == 0 {
		t.Fatalf("%d decisions failed, %d succeeded", failed.Load(), ok.Load())
	}
}

// TestPluginFileWatch: replacing the AUTH_PLUGIN file swaps the plugin in
// without a restart.
func TestPluginFileWatch(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "auth.wasm")
	copyFile(t, repoFile("plugins", "examples", "allowlist.wasm"), file)
	url := startRelay(t, func(c *config.Config) {
		c.Plugins.AuthFile = file
		c.Plugins.AuthConfig = "public/"
		c.Plugins.ReloadCheckInterval = 50 * time.Millisecond
	})
	w := dial(t, url)
	w.sendText("PULL:stream=private/cam&auth=x")
	w.expectError(protocol.CodeAuth)

	// The replacement allows every stream but "loop".
	copyFile(t, filepath.Join("testdata", "loop_on_stream.wasm"), file)
	deadline := time.Now().Add(10 * time.Second)
	for {
		w := dial(t, url)
		w.sendText("PULL:stream=private/cam&auth=x")
		if got := w.readText(); got == "OK" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the new plugin file was not picked up")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	tmp := to + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, to); err != nil {
		t.Fatal(err)
	}
}
