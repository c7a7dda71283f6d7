//go:build !wasip1

package examples

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hlsrelay/hlsrelay/plugins/abi"
	"github.com/hlsrelay/hlsrelay/plugins/host"
)

const allowlistConfig = "# streams anyone may watch\npublic/\n  room1/cam \r\n\n#room2/\n"

func TestAllowlist(t *testing.T) {
	t.Parallel()
	p := loadAllowlist(t, allowlistConfig)
	tests := []struct {
		action, stream string
		reason         string // "" for allowed
		log            string
	}{
		{"PULL", "public/a", "", "allowlist: allow PULL public/a"},
		{"PULL", "public/", "", "allowlist: allow PULL public/"},
		{"PULL", "room1/cam", "", "allowlist: allow PULL room1/cam"},
		{"PULL", "room1/cam/1280x720-30~2000", "", "allowlist: allow PULL room1/cam/1280x720-30~2000"},
		{"PULL", "room1/ca", "stream is not under an allowed prefix", "allowlist: deny PULL room1/ca"},
		{"PULL", "publi", "stream is not under an allowed prefix", "allowlist: deny PULL publi"},
		{"PULL", "room2/a", "stream is not under an allowed prefix", "allowlist: deny PULL room2/a"},
		{"PULL", "# streams anyone may watch", "stream is not under an allowed prefix", "allowlist: deny PULL # streams anyone may watch"},
		{"PULL", "Public/a", "stream is not under an allowed prefix", "allowlist: deny PULL Public/a"},
		{"PUSH", "public/a", "publishing is not allowed on this node", "allowlist: deny PUSH public/a"},
	}
	for _, tt := range tests {
		d, logs := p.authorize(t, &host.Request{Action: tt.action, Stream: tt.stream})
		if tt.reason == "" && !d.Allowed {
			t.Errorf("%s %s: denied: %s", tt.action, tt.stream, d.Reason)
		}
		if tt.reason != "" && (d.Allowed || d.Code != "AUTH_ERROR" || d.Reason != tt.reason) {
			t.Errorf("%s %s: decision %+v, want AUTH_ERROR %q", tt.action, tt.stream, d, tt.reason)
		}
		if d.CacheTTL != time.Minute {
			t.Errorf("%s %s: cache TTL %v, want 1m", tt.action, tt.stream, d.CacheTTL)
		}
		if len(logs) != 1 || logs[0] != (logLine{abi.LogDebug, tt.log}) {
			t.Errorf("%s %s: logs %+v, want one debug line %q", tt.action, tt.stream, logs, tt.log)
		}
	}
}

func TestAllowlistEmptyConfigDeniesAll(t *testing.T) {
	t.Parallel()
	p := loadAllowlist(t, "")
	if d, _ := p.authorize(t, &host.Request{Action: "PULL", Stream: "a"}); d.Allowed {
		t.Fatalf("allowed with no prefix")
	}
	p = loadAllowlist(t, "\n# only comments\n \r\n")
	if d, _ := p.authorize(t, &host.Request{Action: "PULL", Stream: "a"}); d.Allowed {
		t.Fatalf("allowed with no prefix")
	}
}

func TestAllowlistLongConfig(t *testing.T) {
	t.Parallel()
	// The largest configuration it takes: 64 KiB, the last line a prefix.
	config := strings.Repeat("#\n", 32*1024-2) + "\nok/"
	if len(config) != 64*1024 {
		t.Fatalf("config of %d bytes", len(config))
	}
	p := loadAllowlist(t, config)
	if d, _ := p.authorize(t, &host.Request{Action: "PULL", Stream: "ok/1"}); !d.Allowed {
		t.Fatalf("denied: %s", d.Reason)
	}
	if err := loadAllowlistErr(t, config+"\n"); err == nil {
		t.Fatal("a configuration over 64 KiB is accepted")
	}
}

// TestAllowlistBinaryIsBuilt checks that the committed allowlist.wasm is what
// wat2wasm makes of allowlist.wat, when wat2wasm is installed.
func TestAllowlistBinaryIsBuilt(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("wat2wasm"); err != nil {
		t.Skip("wat2wasm (WABT) is not installed")
	}
	out := filepath.Join(t.TempDir(), "allowlist.wasm")
	if b, err := exec.Command("wat2wasm", "allowlist.wat", "-o", out).CombinedOutput(); err != nil {
		t.Fatalf("wat2wasm: %v\n%s", err, b)
	}
	built, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile("allowlist.wasm")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(built, committed) {
		t.Fatal("allowlist.wasm is not built from allowlist.wat: run wat2wasm allowlist.wat -o allowlist.wasm")
	}
}

// --- until plugintest lands: a minimal loader over package host ---

type logLine struct {
	level int
	msg   string
}

type testPlugin struct {
	p    *host.Plugin
	mu   sync.Mutex
	logs []logLine
}

func loadAllowlistErr(t testing.TB, config string) error {
	t.Helper()
	r, err := host.NewRuntime(context.Background(), host.RuntimeConfig{})
	if err != nil {
		t.Fatal(err)
	}
	wasm, err := os.ReadFile("allowlist.wasm")
	if err != nil {
		t.Fatal(err)
	}
	p, err := r.Load(context.Background(), host.PluginConfig{Name: "allowlist", Wasm: wasm, Config: []byte(config), Role: host.RoleAuthorize})
	if err == nil {
		p.Close(context.Background())
	}
	return err
}

func loadAllowlist(t testing.TB, config string) *testPlugin {
	t.Helper()
	r, err := host.NewRuntime(context.Background(), host.RuntimeConfig{})
	if err != nil {
		t.Fatal(err)
	}
	wasm, err := os.ReadFile("allowlist.wasm")
	if err != nil {
		t.Fatal(err)
	}
	tp := &testPlugin{}
	p, err := r.Load(context.Background(), host.PluginConfig{Name: "allowlist", Wasm: wasm, Config: []byte(config), Role: host.RoleAuthorize,
		MaxCacheTTL: time.Hour,
		Log: func(level int, _ string, msg string) {
			tp.mu.Lock()
			tp.logs = append(tp.logs, logLine{level, msg})
			tp.mu.Unlock()
		}})
	if err != nil {
		t.Fatal(err)
	}
	tp.p = p
	tp.logs = nil // the self-test's line
	return tp
}

func (tp *testPlugin) authorize(t testing.TB, req *host.Request) (host.Decision, []logLine) {
	t.Helper()
	tp.mu.Lock()
	tp.logs = nil
	tp.mu.Unlock()
	d, err := tp.p.Authorize(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return d, tp.logs
}
