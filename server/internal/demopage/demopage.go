// Package demopage serves the player demo page (player-demo/) at /demo/, so
// that a relay with DEMO_PAGE_ENABLED=YES is all a person needs to watch a
// stream in a browser. The page's files are build outputs of
// tools/cmd/jsbuild (make js, part of make build), written to site/ before
// the relay is compiled and embedded here; a relay built without them still
// builds and starts, and answers /demo/ with 404 and how to build the page.
package demopage

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed site
var embedded embed.FS

// Path is where the page is served; "/demo" redirects there.
const Path = "/demo/"

// contentSecurityPolicy confines the page to its own scripts and styles; it
// may connect to any relay (the viewer picks one), and plays media from MSE
// blob URLs or HLS over HTTP.
const contentSecurityPolicy = "default-src 'self'; connect-src 'self' ws: wss: http: https:; " +
	"media-src 'self' blob: http: https:; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// contentTypes are the page's own file types, fixed here rather than taken
// from the host's mime.types.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".map":  "application/json",
}

// Handler serves the page's files from memory.
type Handler struct {
	files map[string]file // by name below Path
}

type file struct {
	data  []byte
	ctype string
	etag  string
}

// New returns the handler of the embedded page.
func New() *Handler {
	sub, err := fs.Sub(embedded, "site")
	if err != nil {
		panic(err) // the embed pattern guarantees site/
	}
	h, err := FromFS(sub)
	if err != nil {
		panic(err) // embedded files are always readable
	}
	return h
}

// FromFS returns a handler of the page in fsys: index.html and the files
// beside it (README.md and dot files are not served).
func FromFS(fsys fs.FS) (*Handler, error) {
	h := &Handler{files: map[string]file{}}
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		base := path.Base(name)
		if d.IsDir() {
			if name != "." && strings.HasPrefix(base, ".") {
				return fs.SkipDir
			}
			return nil
		}
		if strings.HasPrefix(base, ".") || name == "README.md" {
			return nil
		}
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		ctype := contentTypes[path.Ext(name)]
		if ctype == "" {
			ctype = mime.TypeByExtension(path.Ext(name))
		}
		if ctype == "" {
			ctype = http.DetectContentType(data)
		}
		sum := sha256.Sum256(data)
		h.files[name] = file{data: data, ctype: ctype, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return h, nil
}

// Available reports whether the page is in this build (its index.html).
func (h *Handler) Available() bool {
	_, ok := h.files["index.html"]
	return ok
}

// Handles reports whether r is a GET or HEAD of the page.
func (h *Handler) Handles(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	p := r.URL.Path
	return p == strings.TrimSuffix(Path, "/") || strings.HasPrefix(p, Path)
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == strings.TrimSuffix(Path, "/") {
		target := Path
		if r.URL.RawQuery != "" {
			target += "?" + r.URL.RawQuery
		}
		http.Redirect(w, r, target, http.StatusMovedPermanently)
		return
	}
	if !h.Available() {
		http.Error(w, "the demo page is not in this build of hlsrelay: build the relay with make build "+
			"(make js writes the page to server/internal/demopage/site before the relay is compiled)", http.StatusNotFound)
		return
	}
	name := strings.TrimPrefix(r.URL.Path, Path)
	if name == "" {
		name = "index.html"
	}
	f, ok := h.files[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", f.ctype)
	hd.Set("ETag", f.etag)
	// Revalidate every time: a rebuilt relay serves a new page at once.
	hd.Set("Cache-Control", "no-cache")
	hd.Set("X-Content-Type-Options", "nosniff")
	// The page's URL holds the viewer's token: never send it to anyone.
	hd.Set("Referrer-Policy", "no-referrer")
	if path.Ext(name) == ".html" {
		hd.Set("Content-Security-Policy", contentSecurityPolicy)
	}
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(f.data))
}
