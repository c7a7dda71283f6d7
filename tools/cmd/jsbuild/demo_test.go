package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDemoBuild(t *testing.T) {
	t.Parallel()
	sdk := sdkRoot(t)
	demo := filepath.Join(filepath.Dir(sdk), "player-demo")
	out := t.TempDir()
	if err := build(demoBuild(demo, sdk, out, "0.0.0-test")); err != nil {
		t.Fatal(err)
	}
	read := func(name string) string {
		data, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	js := read("demo.js")
	if !strings.HasPrefix(js, "/* hlsrelay player demo 0.0.0-test") {
		t.Errorf("demo.js: banner missing: %.80q", js)
	}
	// An app: hls.js (its light build) and the SDK's sources are in it, nothing is imported.
	for _, want := range []string{`"1.7.4"`, "hlsrelay.invalid/live.m3u8", "hlsrelayDemo", "requestVideoFrameCallback"} {
		if !strings.Contains(js, want) {
			t.Errorf("demo.js lacks %q", want)
		}
	}
	for _, bad := range []string{"require(", `from "hls.js"`, "import(", "subtitle-track-controller"} {
		if strings.Contains(js, bad) {
			t.Errorf("demo.js has %q", bad)
		}
	}
	if len(js) > 600_000 {
		t.Errorf("demo.js is %d bytes: is the full hls.js in it?", len(js))
	}
	if css := read("demo.css"); !strings.Contains(css, ".pill") {
		t.Errorf("demo.css: %.80q", css)
	}
}

func TestInstallDemo(t *testing.T) {
	t.Parallel()
	dist, site := t.TempDir(), t.TempDir()
	files := map[string]string{
		filepath.Join(dist, "index.html"):  "<title>demo</title>",
		filepath.Join(dist, "demo.js"):     "(()=>{})();\n//# sourceMappingURL=demo.js.map\n",
		filepath.Join(dist, "demo.css"):    "body{}\n/*# sourceMappingURL=demo.css.map */\n",
		filepath.Join(dist, "demo.js.map"): "{}",
		filepath.Join(site, "README.md"):   "readme",
		filepath.Join(site, ".gitignore"):  "*",
		filepath.Join(site, "stale.js"):    "old",
	}
	for name, data := range files {
		if err := os.WriteFile(name, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := installDemo(dist, site); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(site)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if got, want := strings.Join(names, " "), ".gitignore README.md demo.css demo.js index.html"; got != want {
		t.Errorf("site holds %q, want %q", got, want)
	}
	for name, want := range map[string]string{"demo.js": "(()=>{})();\n", "demo.css": "body{}\n", "index.html": "<title>demo</title>"} {
		data, err := os.ReadFile(filepath.Join(site, name))
		if err != nil {
			t.Fatal(err)
		}
		if string(data) != want {
			t.Errorf("%s = %q, want %q (no source map comment: the maps are not embedded)", name, data, want)
		}
	}
}
