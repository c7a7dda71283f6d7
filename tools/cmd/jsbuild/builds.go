package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/evanw/esbuild/pkg/api"
)

// target is the oldest JavaScript the bundles are lowered to: Safari 13 and
// other browsers of 2019 play through MSE with hls.js.
const target = api.ES2019

// libraryBuilds are the package's bundles, written to dist: ESM and CJS for
// each entry point, and the minified script-tag bundles.
func libraryBuilds(root, dist, version string) []api.BuildOptions {
	src := func(name string) string { return filepath.Join(root, "src", name) }
	banner := map[string]string{"js": fmt.Sprintf("/* hlsrelay %s */", version)}
	common := func(format api.Format, ext string) api.BuildOptions {
		return api.BuildOptions{
			EntryPoints:  []string{src("index.ts"), src("compat.ts")},
			Outdir:       dist,
			OutExtension: map[string]string{".js": ext},
			Bundle:       true,
			Format:       format,
			Platform:     api.PlatformNeutral,
			MainFields:   []string{"module", "main"},
			Target:       target,
			External:     []string{"hls.js"},
			Sourcemap:    api.SourceMapLinked,
			Banner:       banner,
		}
	}
	script := func(entry, out, global string) api.BuildOptions {
		return api.BuildOptions{
			EntryPoints:       []string{src(entry)},
			Outfile:           filepath.Join(dist, out),
			Bundle:            true,
			Format:            api.FormatIIFE,
			GlobalName:        global,
			Platform:          api.PlatformBrowser,
			Target:            target,
			MinifyWhitespace:  true,
			MinifyIdentifiers: true,
			MinifySyntax:      true,
			Sourcemap:         api.SourceMapLinked,
			Banner:            banner,
			Plugins:           []api.Plugin{globalHls(src("hls-global.ts"))},
		}
	}
	return []api.BuildOptions{
		common(api.FormatESModule, ".mjs"),
		common(api.FormatCommonJS, ".cjs"),
		script("index.ts", "hlsrelay.min.js", "HlsRelay"),
		script("compat.ts", "hlsrelay-compat.min.js", "HlsWebSocketCdn"),
	}
}

// globalHls puts hls-global.ts (the page's global Hls) in place of
// hls-default.ts (an import of the hls.js package) in the script-tag bundles,
// and refuses any other import of hls.js there: hls.js is never bundled.
func globalHls(replacement string) api.Plugin {
	return api.Plugin{
		Name: "global-hls",
		Setup: func(b api.PluginBuild) {
			b.OnResolve(api.OnResolveOptions{Filter: `^\./hls-default$`}, func(api.OnResolveArgs) (api.OnResolveResult, error) {
				return api.OnResolveResult{Path: replacement}, nil
			})
			b.OnResolve(api.OnResolveOptions{Filter: `^hls\.js(/|$)`}, func(args api.OnResolveArgs) (api.OnResolveResult, error) {
				return api.OnResolveResult{}, fmt.Errorf("%s imports hls.js: the script-tag bundle must use the global Hls (hls-default.ts)", args.Importer)
			})
		},
	}
}

// testBuild bundles each test file with the sources it imports; packages
// (hls.js) and Node's built-in modules stay imports.
func testBuild(root string) (api.BuildOptions, error) {
	entries, err := filepath.Glob(filepath.Join(root, "test", "*.test.ts"))
	if err != nil {
		return api.BuildOptions{}, err
	}
	if len(entries) == 0 {
		return api.BuildOptions{}, errors.New("no test/*.test.ts")
	}
	return api.BuildOptions{
		EntryPoints:  entries,
		Outdir:       filepath.Join(root, ".test-out"),
		OutExtension: map[string]string{".js": ".mjs"},
		Bundle:       true,
		Format:       api.FormatESModule,
		Platform:     api.PlatformNode,
		Packages:     api.PackagesExternal,
		Target:       api.ES2022,
		Sourcemap:    api.SourceMapInline,
	}, nil
}

// build runs one esbuild build and writes its output.
func build(opts api.BuildOptions) error {
	opts.Write = true
	opts.LogLevel = api.LogLevelWarning
	opts.Color = api.ColorIfTerminal
	r := api.Build(opts)
	if len(r.Errors) > 0 {
		msgs := api.FormatMessages(r.Errors, api.FormatMessagesOptions{Kind: api.ErrorMessage})
		return fmt.Errorf("esbuild failed:\n%s", strings.Join(msgs, ""))
	}
	return nil
}
