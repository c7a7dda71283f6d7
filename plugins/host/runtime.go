package host

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/hlsrelay/hlsrelay/plugins/abi"
)

// DefaultMaxMemoryPages is the default memory limit of one instance: 1024
// pages of 64 KiB, 64 MiB.
const DefaultMaxMemoryPages = 1024

// RuntimeConfig configures a Runtime. The zero value is usable.
type RuntimeConfig struct {
	// CacheDir is a directory for wazero's on-disk compilation cache, so a
	// plugin compiled once is not compiled again by a later process. Empty
	// keeps compiled code in memory only.
	CacheDir string
	// MaxMemoryPages bounds the linear memory of every instance, in pages of
	// 64 KiB. A guest's memory.grow beyond it fails (returns -1) and the
	// instance is discarded after its call; a module that declares a larger
	// minimum is refused at load. Defaults to 1024 (64 MiB).
	MaxMemoryPages uint32

	// deadlines is set by the package's own benchmarks to compare ways of
	// enforcing call deadlines; the zero value is the only one to use.
	deadlines deadlineMode
}

// deadlineMode is how a Runtime stops a guest at its call deadline.
type deadlineMode uint8

const (
	// deadlineInstrument: the host's interrupt checks (instrument.go).
	deadlineInstrument deadlineMode = iota
	// deadlineWazero: wazero's WithCloseOnContextDone (slower).
	deadlineWazero
	// deadlineNone: no enforcement; for benchmarks only.
	deadlineNone
)

// Runtime compiles and runs plugins. It owns one wazero runtime with the
// hlsrelay host module and a restricted WASI. It is safe for concurrent use.
type Runtime struct {
	rt       wazero.Runtime
	cache    wazero.CompilationCache
	maxPages uint32
	mode     deadlineMode
	// imports maps module name, then function name, to the signature the
	// host offers. A plugin may import nothing else.
	imports map[string]map[string]api.FunctionDefinition
	keys    keyCache

	mu      sync.Mutex
	plugins map[*Plugin]struct{} // loaded and not closed
	// compileLocks serialises compiling identical modules: wazero shares
	// one compiled module between identical ones, and compiling the same
	// module concurrently in one runtime was seen to leave an instance
	// without its functions (index out of range in NewFunction).
	compileLocks map[[sha256.Size]byte]*sync.Mutex
}

// compile compiles wasm, one at a time per identical module.
func (r *Runtime) compile(ctx context.Context, wasm []byte) (wazero.CompiledModule, error) {
	key := sha256.Sum256(wasm)
	r.mu.Lock()
	if r.compileLocks == nil {
		r.compileLocks = make(map[[sha256.Size]byte]*sync.Mutex)
	}
	lock, ok := r.compileLocks[key]
	if !ok {
		lock = new(sync.Mutex)
		r.compileLocks[key] = lock
	}
	r.mu.Unlock()
	lock.Lock()
	defer lock.Unlock()
	return r.rt.CompileModule(ctx, wasm)
}

// NewRuntime creates a Runtime. Close it to release the compiled code.
func NewRuntime(ctx context.Context, cfg RuntimeConfig) (*Runtime, error) {
	pages := cfg.MaxMemoryPages
	if pages == 0 {
		pages = DefaultMaxMemoryPages
	}
	if pages > 65536 {
		return nil, fmt.Errorf("host: MaxMemoryPages %d exceeds 65536 (4 GiB)", pages)
	}
	rc := wazero.NewRuntimeConfigCompiler().
		WithCloseOnContextDone(cfg.deadlines == deadlineWazero).
		WithCoreFeatures(api.CoreFeaturesV2)
	r := &Runtime{maxPages: pages, mode: cfg.deadlines, plugins: make(map[*Plugin]struct{})}
	if cfg.CacheDir != "" {
		c, err := wazero.NewCompilationCacheWithDir(cfg.CacheDir)
		if err != nil {
			return nil, fmt.Errorf("host: compilation cache %s: %w", cfg.CacheDir, err)
		}
		r.cache = c
		rc = rc.WithCompilationCache(c)
	}
	r.rt = wazero.NewRuntimeWithConfig(ctx, rc)
	hostMod, err := instantiateHostModule(ctx, r.rt)
	if err != nil {
		_ = r.Close(ctx)
		return nil, fmt.Errorf("host: host module: %w", err)
	}
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, r.rt); err != nil {
		_ = r.Close(ctx)
		return nil, fmt.Errorf("host: WASI: %w", err)
	}
	wasi := r.rt.Module(wasi_snapshot_preview1.ModuleName)
	r.imports = map[string]map[string]api.FunctionDefinition{
		abi.ImportModule:                  hostMod.ExportedFunctionDefinitions(),
		wasi_snapshot_preview1.ModuleName: wasi.ExportedFunctionDefinitions(),
	}
	return r, nil
}

// Close closes the plugins loaded by r that are still open (see
// Plugin.Close: in-flight calls end first) and releases the runtime.
func (r *Runtime) Close(ctx context.Context) error {
	r.mu.Lock()
	open := make([]*Plugin, 0, len(r.plugins))
	for p := range r.plugins {
		open = append(open, p)
	}
	r.mu.Unlock()
	var err error
	for _, p := range open {
		err = errors.Join(err, p.Close(ctx))
	}
	err = errors.Join(err, r.rt.Close(context.WithoutCancel(ctx)))
	if r.cache != nil {
		err = errors.Join(err, r.cache.Close(ctx))
	}
	return err
}

func (r *Runtime) remember(p *Plugin) {
	r.mu.Lock()
	r.plugins[p] = struct{}{}
	r.mu.Unlock()
}

func (r *Runtime) forget(p *Plugin) {
	r.mu.Lock()
	delete(r.plugins, p)
	r.mu.Unlock()
}

// checkImports refuses any import that the host does not offer with exactly
// that signature, and imported memories (the host reads only the plugin's
// own exported memory).
func (r *Runtime) checkImports(cm wazero.CompiledModule) error {
	for _, imp := range cm.ImportedFunctions() {
		mod, name, _ := imp.Import()
		offered, ok := r.imports[mod]
		if !ok {
			return fmt.Errorf("imports %s.%s: module %q is not offered (only %q and %q are)",
				mod, name, mod, abi.ImportModule, wasi_snapshot_preview1.ModuleName)
		}
		def, ok := offered[name]
		if !ok {
			return fmt.Errorf("imports %s.%s, which the host does not offer", mod, name)
		}
		if !sameSignature(def, imp) {
			return fmt.Errorf("imports %s.%s with signature %s, the host offers %s",
				mod, name, signature(imp), signature(def))
		}
	}
	for _, m := range cm.ImportedMemories() {
		mod, name, _ := m.Import()
		return fmt.Errorf("imports memory %s.%s: a plugin must define and export its own memory", mod, name)
	}
	return nil
}

// export is a function a plugin may export, with the signature it must have.
type export struct {
	name    string
	params  []api.ValueType
	results []api.ValueType
	role    Role // 0: not tied to a role
}

var i32 = []api.ValueType{api.ValueTypeI32}

var knownExports = []export{
	{name: abi.ExportVersion, results: i32},
	{name: abi.ExportReactorInit},
	{name: abi.ExportInit, results: i32},
	{name: abi.ExportAuthorize, results: i32, role: RoleAuthorize},
	{name: abi.ExportRoute, results: i32, role: RoleRoute},
}

// checkExports checks the marker, the memory, the exports the role needs and
// the signature of every export the ABI names.
func checkExports(cm wazero.CompiledModule, role Role, maxPages uint32) error {
	fns := cm.ExportedFunctions()
	if _, ok := fns[abi.ExportVersion]; !ok {
		return fmt.Errorf("does not export %s: not an hlsrelay plugin", abi.ExportVersion)
	}
	for _, e := range knownExports {
		def, ok := fns[e.name]
		if !ok {
			if e.role != 0 && role&e.role != 0 {
				return fmt.Errorf("does not export %s, required of %s plugins", e.name, e.role)
			}
			continue
		}
		if !equalTypes(def.ParamTypes(), e.params) || !equalTypes(def.ResultTypes(), e.results) {
			return fmt.Errorf("exports %s with signature %s, must be %s",
				e.name, signature(def), formatSignature(e.params, e.results))
		}
	}
	mem, ok := cm.ExportedMemories()[abi.ExportMemory]
	if !ok {
		return fmt.Errorf("does not export its memory as %q", abi.ExportMemory)
	}
	if mem.Min() > maxPages {
		return fmt.Errorf("declares a memory of %d pages, over the limit of %d pages (%d MiB)",
			mem.Min(), maxPages, maxPages/16)
	}
	return nil
}

func sameSignature(a, b api.FunctionDefinition) bool {
	return equalTypes(a.ParamTypes(), b.ParamTypes()) && equalTypes(a.ResultTypes(), b.ResultTypes())
}

func equalTypes(a, b []api.ValueType) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func signature(d api.FunctionDefinition) string {
	return formatSignature(d.ParamTypes(), d.ResultTypes())
}

// formatSignature writes a signature as docs/plugins.md does: "(i32, i32) -> i32".
func formatSignature(params, results []api.ValueType) string {
	var b strings.Builder
	b.WriteByte('(')
	for i, t := range params {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(api.ValueTypeName(t))
	}
	b.WriteString(") -> ")
	switch len(results) {
	case 0:
		b.WriteString("()")
	case 1:
		b.WriteString(api.ValueTypeName(results[0]))
	default:
		b.WriteByte('(')
		for i, t := range results {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(api.ValueTypeName(t))
		}
		b.WriteByte(')')
	}
	return b.String()
}
