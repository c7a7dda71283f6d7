package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"

	"github.com/evanw/esbuild/pkg/api"
)

// demoFiles are the page's files: what a static server serves from
// player-demo/dist, and what the relay embeds (source maps stay out of the
// relay binary).
var demoFiles = []string{"index.html", "demo.js", "demo.css"}

// embedDir is where the relay embeds the page from (package demopage),
// relative to the repository root.
var embedDir = filepath.Join("server", "internal", "demopage", "site")

// demoBuild bundles the player demo page: src/main.ts with the SDK's
// sources and hls.js into demo.js (an IIFE: the page is an app, so hls.js is
// bundled here, unlike in the SDK's own builds), and src/style.css into
// demo.css, minified with source maps, in outdir.
func demoBuild(demoRoot, sdkRoot, outdir, version string) api.BuildOptions {
	src := func(name string) string { return filepath.Join(demoRoot, "src", name) }
	return api.BuildOptions{
		EntryPointsAdvanced: []api.EntryPoint{
			{InputPath: src("main.ts"), OutputPath: "demo"},
			{InputPath: src("style.css"), OutputPath: "demo"},
		},
		Outdir:            outdir,
		Bundle:            true,
		Format:            api.FormatIIFE,
		Platform:          api.PlatformBrowser,
		Target:            target,
		MinifyWhitespace:  true,
		MinifyIdentifiers: true,
		MinifySyntax:      true,
		Sourcemap:         api.SourceMapLinked,
		Banner:            map[string]string{"js": fmt.Sprintf("/* hlsrelay player demo %s, with hls.js (Apache-2.0) */", version)},
		Plugins:           []api.Plugin{sdkFromSource(filepath.Join(sdkRoot, "src", "index.ts")), hlsLight()},
	}
}

// sdkFromSource resolves the page's imports of "hlsrelay" to the SDK's
// sources in this repository, so the page never plays with a stale dist.
func sdkFromSource(index string) api.Plugin {
	return api.Plugin{
		Name: "sdk-from-source",
		Setup: func(b api.PluginBuild) {
			b.OnResolve(api.OnResolveOptions{Filter: `^hlsrelay$`}, func(api.OnResolveArgs) (api.OnResolveResult, error) {
				return api.OnResolveResult{Path: index}, nil
			})
		},
	}
}

// hlsLight bundles hls.js's light build in place of the full one.
func hlsLight() api.Plugin {
	return api.Plugin{
		Name: "hls-light",
		Setup: func(b api.PluginBuild) {
			// hls.js's light build: everything a relay stream needs (MPEG-TS, one
			// rendition, muxed audio) without subtitles, alternate audio, EME and
			// CMCD, so less script to compile before the first frame.
			b.OnResolve(api.OnResolveOptions{Filter: `^hls\.js$`}, func(args api.OnResolveArgs) (api.OnResolveResult, error) {
				r := b.Resolve("hls.js/light", api.ResolveOptions{ResolveDir: args.ResolveDir, Kind: args.Kind})
				if len(r.Errors) > 0 {
					return api.OnResolveResult{}, fmt.Errorf("hls.js/light: %s", r.Errors[0].Text)
				}
				return api.OnResolveResult{Path: r.Path}, nil
			})
		},
	}
}

// buildDemo builds the page into player-demo/dist, copies its files into the
// relay's embed directory, and prints the script's size.
func buildDemo(w io.Writer, repo, sdkRoot, version string) error {
	demoRoot := filepath.Join(repo, "player-demo")
	dist := filepath.Join(demoRoot, "dist")
	if err := removeBundles(dist); err != nil {
		return err
	}
	if err := build(demoBuild(demoRoot, sdkRoot, dist, version)); err != nil {
		return err
	}
	if err := copyFile(filepath.Join(demoRoot, "src", "index.html"), filepath.Join(dist, "index.html")); err != nil {
		return err
	}
	if err := installDemo(dist, filepath.Join(repo, embedDir)); err != nil {
		return err
	}
	data, err := os.ReadFile(filepath.Join(dist, "demo.js"))
	if err != nil {
		return err
	}
	data = mapComment.ReplaceAll(data, nil)
	gz, err := gzipSize(data)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "player-demo/dist/%-17s %9s raw %9s gzipped (with hls.js; embedded in the relay)\n", "demo.js", kB(len(data)), kB(gz))
	return nil
}

// installDemo replaces the page's files in the embed directory site with
// those of dist; the directory's README.md and .gitignore stay.
func installDemo(dist, site string) error {
	if err := os.MkdirAll(site, 0o755); err != nil {
		return err
	}
	entries, err := os.ReadDir(site)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() || e.Name() == "README.md" || e.Name() == ".gitignore" {
			continue
		}
		if err := os.Remove(filepath.Join(site, e.Name())); err != nil {
			return err
		}
	}
	for _, name := range demoFiles {
		data, err := os.ReadFile(filepath.Join(dist, name))
		if err != nil {
			return err
		}
		// The maps are not embedded: no comment pointing at them.
		data = mapComment.ReplaceAll(data, []byte("\n"))
		data = cssMapComment.ReplaceAll(data, []byte("\n"))
		if err := os.WriteFile(filepath.Join(site, name), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

var cssMapComment = regexp.MustCompile(`\n/\*# sourceMappingURL=[^\n]*\*/\n?$`)

func copyFile(from, to string) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, data, 0o644)
}

// demoTestBuild bundles player-demo/test/*.test.ts for node --test, like
// testBuild does for the SDK; playwright-core and Node's modules stay
// imports.
func demoTestBuild(repo string) (api.BuildOptions, error) {
	demoRoot := filepath.Join(repo, "player-demo")
	b, err := testBuild(demoRoot)
	if err != nil {
		return b, err
	}
	b.Plugins = []api.Plugin{sdkFromSource(filepath.Join(repo, "sdk-js", "src", "index.ts"))}
	return b, nil
}

// buildDemoTests writes the bundled tests to player-demo/.test-out.
func buildDemoTests(repo string) error {
	b, err := demoTestBuild(repo)
	if err != nil {
		return err
	}
	if err := os.RemoveAll(b.Outdir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return build(b)
}
