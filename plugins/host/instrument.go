package host

import (
	"errors"
	"fmt"
)

// Why the host rewrites plugins before compiling them:
//
// A call must stop at its deadline even if the guest loops forever. wazero's
// WithCloseOnContextDone does that by leaving native code for Go at every
// loop iteration, which made a Go guest (jwtauth) about ten times slower
// (124 µs instead of 11 µs per call), and it starts a goroutine per call.
// Instead the host adds two globals and inserts, at every function entry and
// every loop head, a countdown (like fuel) that leaves native code once
// every fuelPerExit passes:
//
//	if fuel == 0 {
//		memory.grow(0)               // a call into Go: see below
//		if interrupt { unreachable } // set by the call's timer at the deadline
//		fuel = fuelPerExit
//	}
//	fuel--
//
// Leaving native code matters as much as the interrupt flag: Go cannot
// preempt native code, so a guest that never left it would hold its thread
// through a garbage collection's stop-the-world (stalling the whole process)
// and, with as many runaway guests as Ps, keep the timer that interrupts it
// from running. wazero implements memory.grow in Go, so it is a preemption
// point; growing by 0 pages changes nothing. Every path is bounded: straight
// code is finite, loops pass a loop head, recursion enters functions.
//
// The start function, if any, is removed from the start section and
// exported as startExport, so that the host runs it under the same deadline
// instead of inside instantiation, where nothing could interrupt it.
//
// The rewriting walks every instruction of WebAssembly 2.0 (what the runtime
// accepts) to find loops; an opcode it does not know refuses the module. A
// module without its own memory is left alone: it is refused anyway.

// fuelPerExit is how many checks pass between two exits to Go.
const fuelPerExit = 1000

const (
	interruptExport = "hlsrelay:interrupt"
	startExport     = "hlsrelay:start"
)

// Section ids.
const (
	secCustom    = 0
	secImport    = 2
	secMemory    = 5
	secGlobal    = 6
	secExport    = 7
	secStart     = 8
	secCode      = 10
	secDataCount = 12
)

// sectionOrder ranks non-custom sections in the order the binary format
// requires (the data count section sits between element and code).
func sectionOrder(id byte) int {
	switch id {
	case secDataCount:
		return 10
	case secCode:
		return 11
	case 11: // data
		return 12
	}
	return int(id)
}

type section struct {
	id   byte
	body []byte
}

// instrument returns a copy of wasm with the interruption global, its checks
// and the start function moved to an export. A malformed module returns an
// error.
func instrument(wasm []byte) ([]byte, error) {
	if len(wasm) < 8 || string(wasm[:4]) != "\x00asm" {
		return nil, errors.New("no \\0asm header")
	}
	var secs []section
	r := reader{b: wasm, pos: 8}
	for !r.done() {
		id := r.byte()
		size := r.u32()
		body := r.bytes(int(size))
		if r.err != nil {
			return nil, fmt.Errorf("section %d: %w", id, r.err)
		}
		secs = append(secs, section{id, body})
	}
	importedGlobals, definedGlobals, memories := 0, 0, 0
	for _, s := range secs {
		var err error
		switch s.id {
		case secImport:
			importedGlobals, err = countImportedGlobals(s.body)
		case secGlobal:
			definedGlobals, err = vecCount(s.body)
		case secMemory:
			memories, err = vecCount(s.body)
		}
		if err != nil {
			return nil, fmt.Errorf("section %d: %w", s.id, err)
		}
	}
	if memories == 0 {
		return wasm, nil
	}
	fuel := uint32(importedGlobals + definedGlobals)
	interrupt := fuel + 1
	check := checkCode(fuel, interrupt)
	newGlobals := binary(
		[]byte{0x7F, 0x01, 0x41}, appendS32(nil, fuelPerExit), []byte{0x0B}, // fuel: i32 mut = fuelPerExit
		[]byte{0x7F, 0x01, 0x41, 0x00, 0x0B}, // interrupt: i32 mut = 0
	)

	var start []byte // the start function's index, LEB128
	out := []section{}
	haveGlobal, haveExport := false, false
	for _, s := range secs {
		var err error
		switch s.id {
		case secStart:
			start = s.body
			continue
		case secGlobal:
			haveGlobal = true
			s.body, err = appendToVec(s.body, newGlobals, 1)
		case secExport:
			haveExport = true
		case secCode:
			s.body, err = instrumentCode(s.body, check)
		}
		if err != nil {
			return nil, fmt.Errorf("section %d: %w", s.id, err)
		}
		out = append(out, s)
	}
	if !haveGlobal {
		out = insertSection(out, section{secGlobal, append([]byte{2}, newGlobals...)})
	}
	if !haveExport {
		out = insertSection(out, section{secExport, []byte{0}})
	}
	for i := range out {
		if out[i].id != secExport {
			continue
		}
		entries := exportEntry(nil, interruptExport, 3, interrupt)
		if start != nil {
			entries = append(entries, exportName(startExport)...)
			entries = append(entries, 0) // a function
			entries = append(entries, start...)
		}
		var err error
		if out[i].body, err = appendToVec(out[i].body, entries, startCount(start)); err != nil {
			return nil, fmt.Errorf("export section: %w", err)
		}
	}
	b := append([]byte(nil), wasm[:8]...)
	for _, s := range out {
		b = append(b, s.id)
		b = appendU32(b, uint32(len(s.body)))
		b = append(b, s.body...)
	}
	return b, nil
}

// checkCode is the check inserted at function entries and loop heads (see
// the comment at the top of the file).
func checkCode(fuel, interrupt uint32) []byte {
	get := func(g uint32) []byte { return appendU32([]byte{0x23}, g) }
	set := func(g uint32) []byte { return appendU32([]byte{0x24}, g) }
	return binary(
		get(fuel), []byte{0x45, 0x04, 0x40}, // i32.eqz; if
		[]byte{0x41, 0x00, 0x40, 0x00, 0x1A},           // i32.const 0; memory.grow; drop
		get(interrupt), []byte{0x04, 0x40, 0x00, 0x0B}, // if; unreachable; end
		[]byte{0x41}, appendS32(nil, fuelPerExit), set(fuel), // fuel = fuelPerExit
		[]byte{0x0B},                                   // end
		get(fuel), []byte{0x41, 0x01, 0x6B}, set(fuel), // fuel--
	)
}

func binary(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func startCount(start []byte) int {
	if start == nil {
		return 0
	}
	return 1
}

func exportName(name string) []byte {
	return append(appendU32(nil, uint32(len(name))), name...)
}

func exportEntry(b []byte, name string, kind byte, index uint32) []byte {
	b = append(b, exportName(name)...)
	b = append(b, kind)
	return appendU32(b, index)
}

// insertSection puts s before the first section that must follow it.
func insertSection(secs []section, s section) []section {
	for i, x := range secs {
		if x.id != secCustom && sectionOrder(x.id) > sectionOrder(s.id) {
			return append(secs[:i], append([]section{s}, secs[i:]...)...)
		}
	}
	return append(secs, s)
}

// appendToVec adds entries to a vector section: the count grows by 1 plus
// extra.
func appendToVec(body, entries []byte, extra ...int) ([]byte, error) {
	r := reader{b: body}
	n := r.u32()
	if r.err != nil {
		return nil, r.err
	}
	add := uint32(1)
	for _, e := range extra {
		add += uint32(e)
	}
	b := appendU32(nil, n+add)
	b = append(b, body[r.pos:]...)
	return append(b, entries...), nil
}

func vecCount(body []byte) (int, error) {
	r := reader{b: body}
	n := r.u32()
	return int(n), r.err
}

func countImportedGlobals(body []byte) (int, error) {
	r := reader{b: body}
	n := r.u32()
	globals := 0
	for range n {
		r.bytes(int(r.u32())) // module
		r.bytes(int(r.u32())) // name
		switch kind := r.byte(); kind {
		case 0: // function
			r.u32()
		case 1: // table
			r.byte()
			r.limits()
		case 2: // memory
			r.limits()
		case 3: // global
			r.byte()
			r.byte()
			globals++
		default:
			return 0, fmt.Errorf("unknown import kind %d", kind)
		}
		if r.err != nil {
			return 0, r.err
		}
	}
	return globals, r.err
}

// instrumentCode inserts check at the start of every function body and
// after every loop's block type.
func instrumentCode(body, check []byte) ([]byte, error) {
	r := reader{b: body}
	n := r.u32()
	out := appendU32(make([]byte, 0, len(body)+len(body)/8), n)
	var fn []byte
	for i := range n {
		size := r.u32()
		code := r.bytes(int(size))
		if r.err != nil {
			return nil, fmt.Errorf("function %d: %w", i, r.err)
		}
		var err error
		if fn, err = instrumentBody(fn[:0], code, check); err != nil {
			return nil, fmt.Errorf("function body %d: %w", i, err)
		}
		out = appendU32(out, uint32(len(fn)))
		out = append(out, fn...)
	}
	if !r.done() {
		return nil, errors.New("trailing bytes")
	}
	return out, nil
}

func instrumentBody(out, code, check []byte) ([]byte, error) {
	r := reader{b: code}
	for range r.u32() { // local declarations
		r.u32()
		r.byte()
	}
	if r.err != nil {
		return nil, r.err
	}
	out = append(out, code[:r.pos]...)
	out = append(out, check...)
	from := r.pos
	for !r.done() {
		op := r.byte()
		r.immediates(op)
		if r.err != nil {
			return nil, r.err
		}
		if op == 0x03 { // loop: check at the head, after the block type
			out = append(out, code[from:r.pos]...)
			out = append(out, check...)
			from = r.pos
		}
	}
	return append(out, code[from:]...), nil
}
