// Package defaultplugins embeds the relay's default policy plugins, jwtauth
// and route, so that the relay runs with no files beside it. The .wasm files
// are build outputs of scripts/build-plugins.sh (run by make build and make
// test), placed in wasm/ before the relay is compiled.
package defaultplugins

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
)

//go:embed wasm
var files embed.FS

// Names of the default plugins.
const (
	JWTAuth = "jwtauth"
	Route   = "route"
)

// Wasm returns the embedded module of the default plugin name.
func Wasm(name string) ([]byte, error) {
	b, err := files.ReadFile("wasm/" + name + ".wasm")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("the default %s plugin is not embedded in this build: build the relay with make build (scripts/build-plugins.sh builds the plugins first), or set the plugin file explicitly", name)
	}
	if err != nil {
		return nil, fmt.Errorf("default %s plugin: %w", name, err)
	}
	return b, nil
}
