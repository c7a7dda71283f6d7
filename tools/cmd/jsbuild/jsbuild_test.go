package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evanw/esbuild/pkg/api"
)

// sdkRoot is sdk-js of this repository (the test runs in tools/cmd/jsbuild).
func sdkRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", "..", "..", "sdk-js"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "src", "index.ts")); err != nil {
		t.Fatal(err)
	}
	return root
}

func TestLibraryBuilds(t *testing.T) {
	t.Parallel()
	root := sdkRoot(t)
	dist := t.TempDir()
	for _, b := range libraryBuilds(root, dist, "0.0.0-test") {
		if err := build(b); err != nil {
			t.Fatal(err)
		}
	}
	read := func(name string) string {
		data, err := os.ReadFile(filepath.Join(dist, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	for _, name := range []string{"index.mjs", "compat.mjs"} {
		if s := read(name); !strings.Contains(s, `import Hls from "hls.js";`) || len(s) > 100_000 {
			t.Errorf("%s: want an import of the hls.js peer, not hls.js itself (%d bytes)", name, len(s))
		}
		if !strings.Contains(read(name), "//# sourceMappingURL="+name+".map") {
			t.Errorf("%s: no source map comment", name)
		}
	}
	for _, name := range []string{"index.cjs", "compat.cjs"} {
		if s := read(name); !strings.Contains(s, `require("hls.js")`) {
			t.Errorf("%s: want require(\"hls.js\")", name)
		}
	}
	for name, global := range map[string]string{"hlsrelay.min.js": "HlsRelay", "hlsrelay-compat.min.js": "HlsWebSocketCdn"} {
		s := read(name)
		if !strings.Contains(s, "var "+global+"=") || strings.Contains(s, "require(") || !strings.Contains(s, "globalThis.Hls") {
			t.Errorf("%s: want an IIFE setting %s that uses the global Hls", name, global)
		}
		if !strings.HasPrefix(s, "/* hlsrelay 0.0.0-test */") {
			t.Errorf("%s: banner missing", name)
		}
	}
	var out bytes.Buffer
	if err := reportSizes(&out, dist, 20000); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "hlsrelay.min.js") || !strings.Contains(out.String(), "gzipped (budget 20.0 kB)") {
		t.Errorf("report:\n%s", out.String())
	}
	if err := reportSizes(&out, dist, 100); err == nil {
		t.Error("a bundle over the budget passed")
	}
}

func TestGlobalHlsRefusesBundlingHls(t *testing.T) {
	t.Parallel()
	r := api.Build(api.BuildOptions{
		Stdin:   &api.StdinOptions{Contents: `import Hls from "hls.js"; console.log(Hls);`, ResolveDir: t.TempDir()},
		Bundle:  true,
		Format:  api.FormatIIFE,
		Plugins: []api.Plugin{globalHls("unused.ts")},
	})
	if len(r.Errors) == 0 || !strings.Contains(r.Errors[0].Text, "global Hls") {
		t.Fatalf("errors: %+v", r.Errors)
	}
}

func TestGzipSize(t *testing.T) {
	t.Parallel()
	data := bytes.Repeat([]byte("hlsrelay "), 1000)
	n, err := gzipSize(data)
	if err != nil {
		t.Fatal(err)
	}
	if n <= 0 || n >= len(data)/10 {
		t.Fatalf("gzip size %d of %d repetitive bytes", n, len(data))
	}
}

func TestRemoveBundlesKeepsDirectories(t *testing.T) {
	t.Parallel()
	dist := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dist, "types"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"old.mjs", "types/index.d.ts"} {
		if err := os.WriteFile(filepath.Join(dist, f), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := removeBundles(dist); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dist, "old.mjs")); !os.IsNotExist(err) {
		t.Error("old.mjs survived")
	}
	if _, err := os.Stat(filepath.Join(dist, "types", "index.d.ts")); err != nil {
		t.Error(err)
	}
	if err := removeBundles(filepath.Join(dist, "missing")); err != nil {
		t.Error(err)
	}
}
