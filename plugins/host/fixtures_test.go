package host

//go:generate sh -c "for f in testdata/*.wat; do wat2wasm $DOLLAR{f} -o $DOLLAR{f%.wat}.wasm; done"

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestFixturesInSync checks that every committed .wasm is what wat2wasm
// makes of its .wat (run `go generate` after editing one). It needs wabt's
// wat2wasm, and is skipped without it: the tests use the .wasm files.
func TestFixturesInSync(t *testing.T) {
	t.Parallel()
	wat2wasm, err := exec.LookPath("wat2wasm")
	if err != nil {
		t.Skip("wat2wasm not on PATH")
	}
	sources, _ := filepath.Glob("testdata/*.wat")
	if len(sources) == 0 {
		t.Fatal("no fixtures")
	}
	for _, src := range sources {
		want := filepath.Join(t.TempDir(), "out.wasm")
		if out, err := exec.Command(wat2wasm, src, "-o", want).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", src, err, out)
		}
		a, _ := os.ReadFile(want)
		b, err := os.ReadFile(strings.TrimSuffix(src, ".wat") + ".wasm")
		if err != nil || !bytes.Equal(a, b) {
			t.Errorf("%s: committed .wasm is stale or missing (run go generate ./plugins/host)", src)
		}
	}
}
