package relay

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rs/zerolog"

	"github.com/hlsrelay/hlsrelay/server/internal/config"
)

// TestPluginCacheDirNotWritable: a cache directory that cannot be written
// (here: below a regular file; in production a read-only root file system)
// turns the cache off instead of failing every plugin load.
func TestPluginCacheDirNotWritable(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	p := config.PluginsConfig{CacheEnabled: true, CacheDir: filepath.Join(file, "cache")}
	if got := pluginCacheDir(p, zerolog.Nop()); got != "" {
		t.Fatalf("cache dir %q below a file, want none", got)
	}
	p.CacheDir = filepath.Join(dir, "cache")
	if got := pluginCacheDir(p, zerolog.Nop()); got != p.CacheDir {
		t.Fatalf("cache dir %q, want %q", got, p.CacheDir)
	}
	if entries, _ := os.ReadDir(p.CacheDir); len(entries) != 0 {
		t.Fatalf("the check left %d files behind", len(entries))
	}
}
