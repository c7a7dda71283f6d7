package cmaf

import (
	"encoding/binary"
	"fmt"
	"strconv"
)

// boxType is a box's four-character code.
type boxType [4]byte

func (t boxType) String() string {
	for _, c := range t {
		if c < 0x20 || c > 0x7e {
			return strconv.QuoteToASCII(string(t[:]))
		}
	}
	return string(t[:])
}

var (
	typeFtyp = boxType{'f', 't', 'y', 'p'}
	typeMoov = boxType{'m', 'o', 'o', 'v'}
	typeMoof = boxType{'m', 'o', 'o', 'f'}
	typeMdat = boxType{'m', 'd', 'a', 't'}
	typeStyp = boxType{'s', 't', 'y', 'p'}
	typePrft = boxType{'p', 'r', 'f', 't'}
	typeEmsg = boxType{'e', 'm', 's', 'g'}
	typeSidx = boxType{'s', 'i', 'd', 'x'}
	typeTrak = boxType{'t', 'r', 'a', 'k'}
	typeTkhd = boxType{'t', 'k', 'h', 'd'}
	typeMdia = boxType{'m', 'd', 'i', 'a'}
	typeMdhd = boxType{'m', 'd', 'h', 'd'}
	typeHdlr = boxType{'h', 'd', 'l', 'r'}
	typeMvex = boxType{'m', 'v', 'e', 'x'}
	typeTrex = boxType{'t', 'r', 'e', 'x'}
	typeTraf = boxType{'t', 'r', 'a', 'f'}
	typeTfhd = boxType{'t', 'f', 'h', 'd'}
	typeTfdt = boxType{'t', 'f', 'd', 't'}
	typeTrun = boxType{'t', 'r', 'u', 'n'}
)

// chunkPrefix reports whether a top-level box of type t, directly before a
// moof, belongs to that moof's chunk.
func chunkPrefix(t boxType) bool {
	return t == typeStyp || t == typePrft || t == typeEmsg || t == typeSidx
}

// eachBox calls fn for each box in b, a sequence of whole boxes (the body of
// a container box), with the box's type, its body (after the header) and
// the body's offset in b. A box of size 0 extends to the end of b. It
// returns an error for a box that does not fit in b, or fn's error.
func eachBox(b []byte, fn func(t boxType, body []byte, at int) error) error {
	for off := 0; off < len(b); {
		rest := b[off:]
		if len(rest) < 8 {
			return fmt.Errorf("%d trailing bytes, too short for a box header", len(rest))
		}
		size := uint64(binary.BigEndian.Uint32(rest))
		t := boxType(rest[4:8])
		hdr := uint64(8)
		switch size {
		case 0:
			size = uint64(len(rest))
		case 1:
			if len(rest) < 16 {
				return fmt.Errorf("%s box: truncated 64-bit size", t)
			}
			size, hdr = binary.BigEndian.Uint64(rest[8:]), 16
		}
		if size < hdr || size > uint64(len(rest)) {
			return fmt.Errorf("%s box of %d bytes does not fit in the %d bytes left", t, size, len(rest))
		}
		if err := fn(t, rest[hdr:size], off+int(hdr)); err != nil {
			return err
		}
		off += int(size)
	}
	return nil
}

// fields reads big-endian fields from a box body, remembering whether any
// read ran past its end, so that parsers check once instead of per field.
type fields struct {
	b   []byte
	off int
	bad bool
}

func (f *fields) take(n int) []byte {
	if f.bad || n > len(f.b)-f.off {
		f.bad = true
		return nil
	}
	v := f.b[f.off : f.off+n]
	f.off += n
	return v
}

func (f *fields) u8() uint8 {
	if v := f.take(1); v != nil {
		return v[0]
	}
	return 0
}

func (f *fields) u24() uint32 {
	if v := f.take(3); v != nil {
		return uint32(v[0])<<16 | uint32(v[1])<<8 | uint32(v[2])
	}
	return 0
}

func (f *fields) u32() uint32 {
	if v := f.take(4); v != nil {
		return binary.BigEndian.Uint32(v)
	}
	return 0
}

func (f *fields) u64() uint64 {
	if v := f.take(8); v != nil {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

func (f *fields) skip(n int) { f.take(n) }

// fullBox reads the version and flags of a full box.
func (f *fields) fullBox() (version uint8, flags uint32) {
	return f.u8(), f.u24()
}
