package bench

import (
	"errors"
	"testing"
)

func TestChecker(t *testing.T) {
	t.Parallel()
	const size = 1000
	p, err := NewPayload(size, 42)
	if err != nil {
		t.Fatal(err)
	}
	other, err := NewPayload(size, 43)
	if err != nil {
		t.Fatal(err)
	}
	good := func() []byte {
		b := p.NewBuffer()
		p.Stamp(b, 7, 123456)
		return b
	}
	tests := []struct {
		name    string
		msg     func() []byte
		chunk   int
		wantErr error
	}{
		{name: "whole", msg: good, chunk: size},
		{name: "byte by byte", msg: good, chunk: 1},
		{name: "odd chunks", msg: good, chunk: 37},
		{name: "flipped body bit", msg: func() []byte { b := good(); b[500] ^= 1; return b }, chunk: 64, wantErr: ErrCorrupt},
		{name: "flipped trailer", msg: func() []byte { b := good(); b[size-1] ^= 1; return b }, chunk: 64, wantErr: ErrCorrupt},
		{name: "truncated", msg: func() []byte { return good()[:size-3] }, chunk: 64, wantErr: ErrCorrupt},
		{name: "too long", msg: func() []byte { return append(good(), 0) }, chunk: 64, wantErr: ErrCorrupt},
		{name: "other run", msg: func() []byte { b := other.NewBuffer(); other.Stamp(b, 7, 1); return b }, chunk: 64, wantErr: ErrForeign},
		{name: "not ours", msg: func() []byte { return make([]byte, size) }, chunk: 64, wantErr: ErrForeign},
		{name: "tiny", msg: func() []byte { return []byte("HRB") }, chunk: 64, wantErr: ErrForeign},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := NewChecker(p)
			// A previous bad message must not leak into the next one.
			c.Reset()
			_, _ = c.Write([]byte("garbage"))
			c.Reset()
			msg := tt.msg()
			for len(msg) > 0 {
				n := min(tt.chunk, len(msg))
				_, _ = c.Write(msg[:n])
				msg = msg[n:]
			}
			seq, sent, err := c.Finish()
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil && (seq != 7 || sent != 123456) {
				t.Errorf("seq %d sent %d, want 7 123456", seq, sent)
			}
		})
	}
}

func TestNewPayloadSize(t *testing.T) {
	t.Parallel()
	if _, err := NewPayload(MinFragmentSize-1, 1); err == nil {
		t.Error("accepted a fragment smaller than header + trailer")
	}
	if _, err := NewPayload(MinFragmentSize, 1); err != nil {
		t.Errorf("minimum size: %v", err)
	}
}

func BenchmarkChecker(b *testing.B) {
	const size = 250_000
	p, _ := NewPayload(size, 1)
	msg := p.NewBuffer()
	p.Stamp(msg, 1, 1)
	c := NewChecker(p)
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		c.Reset()
		for off := 0; off < size; off += 32 << 10 {
			_, _ = c.Write(msg[off:min(off+32<<10, size)])
		}
		if _, _, err := c.Finish(); err != nil {
			b.Fatal(err)
		}
	}
}
