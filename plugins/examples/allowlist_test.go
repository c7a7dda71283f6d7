//go:build !wasip1

package examples

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hlsrelay/hlsrelay/plugins/abi"
	"github.com/hlsrelay/hlsrelay/plugins/host"
	"github.com/hlsrelay/hlsrelay/plugins/plugintest"
)

const allowlistConfig = "# streams anyone may watch\npublic/\n  room1/cam \r\n\n#room2/\n"

func TestAllowlist(t *testing.T) {
	t.Parallel()
	p := plugintest.Load(t, "allowlist.wasm", plugintest.Options{Config: allowlistConfig, MaxCacheTTL: time.Hour})
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
		before := len(p.Logs())
		d := p.Authorize(t, &host.Request{Action: tt.action, Stream: tt.stream})
		logs := p.Logs()[before:]
		if tt.reason == "" && !d.Allowed {
			t.Errorf("%s %s: denied: %s", tt.action, tt.stream, d.Reason)
		}
		if tt.reason != "" && (d.Allowed || d.Code != "AUTH_ERROR" || d.Reason != tt.reason) {
			t.Errorf("%s %s: decision %+v, want AUTH_ERROR %q", tt.action, tt.stream, d, tt.reason)
		}
		if d.CacheTTL != time.Minute {
			t.Errorf("%s %s: cache TTL %v, want 1m", tt.action, tt.stream, d.CacheTTL)
		}
		if len(logs) != 1 || logs[0] != (plugintest.LogLine{Level: abi.LogDebug, Msg: tt.log}) {
			t.Errorf("%s %s: logs %+v, want one debug line %q", tt.action, tt.stream, logs, tt.log)
		}
	}
}

func TestAllowlistEmptyConfigDeniesAll(t *testing.T) {
	t.Parallel()
	for _, config := range []string{"", "\n# only comments\n \r\n"} {
		p := plugintest.Load(t, "allowlist.wasm", plugintest.Options{Config: config})
		if d := p.Authorize(t, plugintest.Pull("a", "")); d.Allowed {
			t.Fatalf("config %q: allowed with no prefix", config)
		}
	}
}

func TestAllowlistLongConfig(t *testing.T) {
	t.Parallel()
	// The largest configuration it takes: 64 KiB, the last line a prefix.
	config := strings.Repeat("#\n", 32*1024-2) + "\nok/"
	if len(config) != 64*1024 {
		t.Fatalf("config of %d bytes", len(config))
	}
	p := plugintest.Load(t, "allowlist.wasm", plugintest.Options{Config: config})
	if d := p.Authorize(t, plugintest.Pull("ok/1", "")); !d.Allowed {
		t.Fatalf("denied: %s", d.Reason)
	}
	wasm, err := os.ReadFile("allowlist.wasm")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plugintest.LoadBytes(t, "allowlist.wasm", wasm, plugintest.Options{Config: config + "\n"}); err == nil {
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
