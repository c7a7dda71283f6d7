package host

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
)

// TestInstrumentValid instruments every fixture and the examples: the
// result must compile and export the interrupt global (a module without
// its own memory is left alone).
func TestInstrumentValid(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob("testdata/*.wasm")
	examples, _ := filepath.Glob("../examples/*.wasm")
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigCompiler())
	defer rt.Close(ctx)
	for _, f := range append(files, examples...) {
		wasm, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := rt.CompileModule(ctx, wasm); err != nil {
			continue // fixtures that are invalid on purpose
		}
		out, err := instrument(wasm)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		_, err = rt.CompileModule(ctx, out)
		if err != nil {
			t.Errorf("%s: instrumented module does not compile: %v", f, err)
			continue
		}
		if !bytes.Equal(out, wasm) && !bytes.Contains(out, []byte(interruptExport)) {
			t.Errorf("%s: no interrupt export", f)
		}
	}
}

func TestInstrumentRefuses(t *testing.T) {
	t.Parallel()
	good := fixture(t, "good")
	for _, tt := range []struct {
		name string
		wasm []byte
		want string
	}{
		{"truncated", good[:len(good)-3], "truncated"},
		{"no header", []byte("wasm"), "no \\0asm header"},
		// A function body using try (exception handling, not 2.0).
		{"exceptions", module(codeSection([]byte{0x00, 0x06, 0x40, 0x0B, 0x0B})), "opcode 0x06"},
		{"threads", module(codeSection([]byte{0x00, 0xFE, 0x00, 0x0B})), "opcode 0xfe"},
	} {
		_, err := instrument(tt.wasm)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
}

// module is a minimal binary with a memory and the given sections.
func module(sections ...[]byte) []byte {
	b := []byte("\x00asm\x01\x00\x00\x00")
	b = append(b, 5, 3, 1, 0, 1) // memory section: one memory, min 1
	for _, s := range sections {
		b = append(b, s...)
	}
	return b
}

func codeSection(body []byte) []byte {
	fn := appendU32(nil, uint32(len(body)))
	fn = append(fn, body...)
	content := append([]byte{1}, fn...)
	return append(appendU32([]byte{secCode}, uint32(len(content))), content...)
}

func TestStartFunction(t *testing.T) {
	t.Parallel()
	p := load(t, testRuntime(t), "start", PluginConfig{Role: RoleAuthorize})
	if d := probe(t, p, pull("s", "")); !d.Allowed {
		t.Fatalf("start function did not run: %+v", d)
	}
}

func TestAppendS32(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		v    int32
		want []byte
	}{
		{0, []byte{0}}, {1, []byte{1}}, {-1, []byte{0x7F}}, {63, []byte{0x3F}}, {64, []byte{0xC0, 0x00}},
		{1000, []byte{0xE8, 0x07}}, {-64, []byte{0x40}}, {-65, []byte{0xBF, 0x7F}},
	} {
		if got := appendS32(nil, tt.v); !bytes.Equal(got, tt.want) {
			t.Errorf("appendS32(%d) = %x, want %x", tt.v, got, tt.want)
		}
	}
}
