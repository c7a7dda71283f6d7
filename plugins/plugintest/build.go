package plugintest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// Builder builds Go plugins to WebAssembly for tests, as the relay's own
// build does (GOOS=wasip1 GOARCH=wasm, -buildmode=c-shared, -trimpath,
// -ldflags=-s -w), each package once per test binary and only when a test
// asks for it (so that fuzzing, which needs no plugin, skips the build).
// It needs the go command on PATH. Close removes what it built; call it
// from TestMain. A Builder is safe for concurrent use.
//
//	var builder = plugintest.NewBuilder()
//
//	func TestMain(m *testing.M) {
//		code := m.Run()
//		builder.Close()
//		os.Exit(code)
//	}
//
//	p := plugintest.Load(t, builder.Build(t, "."), plugintest.Options{})
type Builder struct {
	mu     sync.Mutex
	dir    string
	n      int // files built, for unique names
	builds map[string]func() (string, error)
}

// NewBuilder returns a Builder that has built nothing yet.
func NewBuilder() *Builder {
	return &Builder{builds: make(map[string]func() (string, error))}
}

// Build builds the plugin package in pkgDir (a directory, e.g. "." or
// "./internal/probe") and returns the path of its .wasm file. A build error
// fails the test.
func (b *Builder) Build(t testing.TB, pkgDir string) string {
	t.Helper()
	abs, err := filepath.Abs(pkgDir)
	if err != nil {
		t.Fatal(err)
	}
	b.mu.Lock()
	build, ok := b.builds[abs]
	if !ok {
		build = sync.OnceValues(func() (string, error) { return b.build(abs) })
		b.builds[abs] = build
	}
	b.mu.Unlock()
	path, err := build()
	if err != nil {
		t.Fatal(err)
	}
	return path
}

func (b *Builder) build(pkgDir string) (string, error) {
	b.mu.Lock()
	if b.dir == "" {
		dir, err := os.MkdirTemp("", "plugintest-build")
		if err != nil {
			b.mu.Unlock()
			return "", err
		}
		b.dir = dir
	}
	b.n++
	out := filepath.Join(b.dir, fmt.Sprintf("%s-%d.wasm", filepath.Base(pkgDir), b.n))
	b.mu.Unlock()
	cmd := exec.Command("go", "build", "-buildmode=c-shared", "-trimpath", "-ldflags=-s -w", "-o", out, ".")
	cmd.Dir = pkgDir
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building the plugin in %s: %v\n%s", pkgDir, err, msg)
	}
	return out, nil
}

// Close removes the built files.
func (b *Builder) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.dir == "" {
		return nil
	}
	return os.RemoveAll(b.dir)
}
