// Command jsbuild builds the TypeScript SDK (sdk-js) with esbuild's Go API:
// ESM and CommonJS bundles for bundlers and Node (hls.js left as an import of
// the peer dependency), minified IIFE bundles for a script tag (global HlsRelay,
// and HlsWebSocketCdn for the compatibility entry) that use the page's global
// Hls, all with source maps. It prints the size of each script-tag bundle, raw
// and gzipped, and fails if the main one exceeds -max-gzip bytes gzipped.
//
// It also builds the player demo page (player-demo): one minified script
// with the SDK's sources and hls.js, and its stylesheet, into
// player-demo/dist (servable by any static server) and into
// server/internal/demopage/site, which the relay embeds (DEMO_PAGE_ENABLED).
//
// With -tests it bundles sdk-js/test/*.test.ts into sdk-js/.test-out for
// `node --test` instead, and with -demo-tests player-demo/test/*.test.ts
// into player-demo/.test-out. Declarations (.d.ts) come from tsc afterwards
// (npm run build:types), into dist/types.
//
// Usage (from the repository root):
//
//	go run ./tools/cmd/jsbuild [-dir sdk-js] [-max-gzip 20000] [-demo=false]
//	go run ./tools/cmd/jsbuild -tests
//	go run ./tools/cmd/jsbuild -demo-tests
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

func main() {
	dir := flag.String("dir", "", "the sdk-js directory (default: sdk-js of the repository holding the working directory)")
	tests := flag.Bool("tests", false, "bundle test/*.test.ts into .test-out for node --test instead of building dist")
	maxGzip := flag.Int("max-gzip", 20000, "fail if the gzipped script-tag bundle (dist/hlsrelay.min.js) is larger than this many bytes (0: no limit)")
	demo := flag.Bool("demo", true, "also build the player demo page into player-demo/dist and the relay's embed directory")
	demoTests := flag.Bool("demo-tests", false, "bundle player-demo/test/*.test.ts into player-demo/.test-out instead of building")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "Usage:\n  jsbuild [-dir sdk-js] [-max-gzip BYTES] [-demo=false]\n  jsbuild [-dir sdk-js] -tests\n  jsbuild [-dir sdk-js] -demo-tests\n\nBuilds sdk-js/dist and the player demo page with esbuild and prints the bundle sizes,\nor with -tests (-demo-tests) bundles the SDK's (the demo's) tests for node --test.\n\nFlags:\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*dir, *tests, *demoTests, *demo, *maxGzip); err != nil {
		fmt.Fprintln(os.Stderr, "jsbuild:", err)
		os.Exit(1)
	}
}

func run(dir string, tests, demoTests, demo bool, maxGzip int) error {
	root, err := sdkDir(dir)
	if err != nil {
		return err
	}
	// The repository holds sdk-js and player-demo side by side.
	repo := filepath.Dir(root)
	if demoTests {
		return buildDemoTests(repo)
	}
	version, err := packageVersion(root)
	if err != nil {
		return err
	}
	if tests {
		if err := os.RemoveAll(filepath.Join(root, ".test-out")); err != nil {
			return err
		}
		b, err := testBuild(root)
		if err != nil {
			return err
		}
		return build(b)
	}
	dist := filepath.Join(root, "dist")
	// Only what esbuild writes: dist/types is tsc's.
	if err := removeBundles(dist); err != nil {
		return err
	}
	for _, b := range libraryBuilds(root, dist, version) {
		if err := build(b); err != nil {
			return err
		}
	}
	if err := reportSizes(os.Stdout, dist, maxGzip); err != nil {
		return err
	}
	if !demo {
		return nil
	}
	return buildDemo(os.Stdout, repo, root, version)
}

// sdkDir returns dir, or finds sdk-js in the nearest directory upwards that
// holds go.work.
func sdkDir(dir string) (string, error) {
	if dir != "" {
		return filepath.Abs(dir)
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.work")); err == nil {
			return filepath.Join(d, "sdk-js"), nil
		}
		if filepath.Dir(d) == d {
			return "", errors.New("no go.work above the working directory; pass -dir")
		}
	}
}

// removeBundles deletes the files of dist (not its directories), so no bundle
// of an earlier build stays behind.
func removeBundles(dist string) error {
	entries, err := os.ReadDir(dist)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		if err := os.Remove(filepath.Join(dist, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

func packageVersion(root string) (string, error) {
	data, err := os.ReadFile(filepath.Join(root, "package.json"))
	if err != nil {
		return "", err
	}
	var pkg struct {
		Version string `json:"version"`
	}
	if err := json.Unmarshal(data, &pkg); err != nil {
		return "", fmt.Errorf("%s: %w", filepath.Join(root, "package.json"), err)
	}
	return pkg.Version, nil
}
