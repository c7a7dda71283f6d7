// Package cmaf splits a fragmented MP4 (fMP4, CMAF) byte stream, as an
// encoder writes it to a pipe, into its init segment and its chunks, and
// groups the chunks into fragments for publishing in parts (see
// docs/protocol.md, "Parts", and docs/cmaf-ingest.md).
//
// A Reader reads the stream box by box. Everything before the first moof
// is the init segment (ftyp, moov, ...); then each moof with the mdat after
// it is a chunk, together with any styp, prft, emsg and sidx boxes directly
// before the moof (and any box between those and the moof). For each chunk
// the Reader reports its duration, the decode time of its video track and
// whether it starts with a key frame. Memory is bounded: a box that would
// make the init segment or a chunk larger than its limit is refused, and
// other boxes between chunks (free, the final mfra) are skipped without
// being kept.
//
// A Fragmenter groups chunks into fragments that each start with a key
// frame, and ShiftDecodeTimes moves a chunk's timestamps so that a
// recording can be looped as if it were live.
package cmaf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Default limits of ReaderOptions.
const (
	DefaultMaxInitSize  = 1 << 20
	DefaultMaxChunkSize = 16 << 20
)

// ErrTooLarge is wrapped by the Reader's error for a box that would make
// the init segment or a chunk larger than its limit.
var ErrTooLarge = errors.New("over the size limit")

// ReaderOptions configure a Reader. The zero value of each field selects
// its default.
type ReaderOptions struct {
	// MaxInitSize bounds the init segment, in bytes. Defaults to
	// DefaultMaxInitSize (1 MiB): a moov of a live stream holds no sample
	// tables and takes a few kilobytes.
	MaxInitSize int64
	// MaxChunkSize bounds a chunk (its moof, mdat and the boxes before
	// them), in bytes. Defaults to DefaultMaxChunkSize (16 MiB): a fraction
	// of a second of even high-bitrate video is far smaller.
	MaxChunkSize int64
}

// Reader reads an fMP4 stream. It is not safe for concurrent use.
type Reader struct {
	r    io.Reader
	opts ReaderOptions
	off  int64 // stream offset of the next byte to read

	init    *Init
	next    *header // a header read ahead (the moof that ended the init segment)
	prefix  []byte  // chunk prefix boxes (styp, ...) read ahead of their moof
	newInit []byte  // a new init segment being collected after chunks
	err     error   // sticky
}

// header is a top-level box header read from the stream.
type header struct {
	t    boxType
	raw  []byte // the header's bytes (8 or 16)
	size int64  // the whole box
	at   int64  // its stream offset
}

// NewReader returns a Reader of r. opts may be nil.
func NewReader(r io.Reader, opts *ReaderOptions) *Reader {
	o := ReaderOptions{}
	if opts != nil {
		o = *opts
	}
	if o.MaxInitSize <= 0 {
		o.MaxInitSize = DefaultMaxInitSize
	}
	if o.MaxChunkSize <= 0 {
		o.MaxChunkSize = DefaultMaxChunkSize
	}
	return &Reader{r: r, opts: o}
}

// Init returns the stream's init segment, reading it on the first call:
// the first one, or the latest that a chunk brought (Chunk.Init). After an
// error every call returns it again.
func (r *Reader) Init() (*Init, error) {
	if r.init == nil && r.err == nil {
		r.init, r.err = r.readInit()
	}
	return r.init, r.err
}

// Next returns the next chunk, reading the init segment first if Init was
// not called. It returns io.EOF when the stream ends cleanly after a
// chunk; a stream that ends anywhere else is an error wrapping
// io.ErrUnexpectedEOF. After an error every call returns it again.
func (r *Reader) Next() (Chunk, error) {
	if _, err := r.Init(); err != nil {
		return Chunk{}, err
	}
	c, err := r.readChunk()
	if err != nil {
		r.err = err
	}
	return c, err
}

func (r *Reader) readInit() (*Init, error) {
	var data []byte
	for {
		h, err := r.header()
		if err == io.EOF {
			if len(data) == 0 && len(r.prefix) == 0 {
				return nil, fmt.Errorf("cmaf: init segment: %w: the stream is empty", io.ErrUnexpectedEOF)
			}
			return nil, fmt.Errorf("cmaf: init segment: %w: the stream ended before the first moof", io.ErrUnexpectedEOF)
		}
		if err != nil {
			return nil, err
		}
		switch {
		case h.t == typeMoof:
			r.next = h
			in, err := parseInit(data)
			if err != nil {
				return nil, fmt.Errorf("cmaf: %w", err)
			}
			return in, nil
		case h.t == typeMdat:
			return nil, fmt.Errorf("cmaf: mdat box at offset %d before any moof", h.at)
		case chunkPrefix(h.t):
			// It belongs to the first chunk, unless another init box
			// follows.
			if r.prefix, err = r.body(r.prefix, h, "init segment", r.opts.MaxInitSize-int64(len(data))); err != nil {
				return nil, err
			}
		default:
			data = append(data, r.prefix...)
			r.prefix = r.prefix[:0]
			if data, err = r.body(data, h, "init segment", r.opts.MaxInitSize); err != nil {
				return nil, err
			}
		}
	}
}

func (r *Reader) readChunk() (Chunk, error) {
	data := r.prefix
	r.prefix = nil
	for {
		h, err := r.header()
		if err == io.EOF {
			switch {
			case len(data) > 0:
				return Chunk{}, fmt.Errorf("cmaf: %w: the stream ended after boxes that precede a moof", io.ErrUnexpectedEOF)
			case len(r.newInit) > 0:
				return Chunk{}, fmt.Errorf("cmaf: %w: the stream ended after a new init segment", io.ErrUnexpectedEOF)
			}
			return Chunk{}, io.EOF
		}
		if err != nil {
			return Chunk{}, err
		}
		switch {
		case h.t == typeMoof:
			return r.finishChunk(data, h)
		case h.t == typeMdat:
			return Chunk{}, fmt.Errorf("cmaf: mdat box at offset %d without a moof before it", h.at)
		case h.t == typeFtyp || h.t == typeMoov || len(r.newInit) > 0 && !chunkPrefix(h.t):
			// The encoder started over: a new init segment.
			r.newInit = append(r.newInit, data...)
			data = nil
			if r.newInit, err = r.body(r.newInit, h, "init segment", r.opts.MaxInitSize); err != nil {
				return Chunk{}, err
			}
		case chunkPrefix(h.t):
			if data, err = r.body(data, h, "chunk", r.opts.MaxChunkSize); err != nil {
				return Chunk{}, err
			}
		case len(data) > 0:
			// After a box that belongs to the next chunk, keep the chunk's
			// bytes in one piece.
			if data, err = r.body(data, h, "chunk", r.opts.MaxChunkSize); err != nil {
				return Chunk{}, err
			}
		default:
			// Between chunks, boxes such as free or the final mfra carry
			// nothing a player of parts needs.
			if err := r.discard(h); err != nil {
				return Chunk{}, err
			}
		}
	}
}

// finishChunk reads the moof whose header is moof and the mdat after it,
// appended to data (the chunk's prefix boxes).
func (r *Reader) finishChunk(data []byte, moof *header) (Chunk, error) {
	var err error
	if data, err = r.body(data, moof, "chunk", r.opts.MaxChunkSize); err != nil {
		return Chunk{}, err
	}
	moofBody := len(data) - int(moof.size) + len(moof.raw)
	mdat, err := r.header()
	switch {
	case err == io.EOF:
		return Chunk{}, fmt.Errorf("cmaf: %w: the stream ended after the moof at offset %d, before its mdat", io.ErrUnexpectedEOF, moof.at)
	case err != nil:
		return Chunk{}, err
	case mdat.t != typeMdat:
		return Chunk{}, fmt.Errorf("cmaf: the moof at offset %d is followed by a %s box, want mdat", moof.at, mdat.t)
	}
	if data, err = r.body(data, mdat, "chunk", r.opts.MaxChunkSize); err != nil {
		return Chunk{}, err
	}
	in := r.init
	var changed *Init
	if len(r.newInit) > 0 {
		if changed, err = parseInit(r.newInit); err != nil {
			return Chunk{}, fmt.Errorf("cmaf: new init segment before the moof at offset %d: %w", moof.at, err)
		}
		r.newInit = nil
		in, r.init = changed, changed
	}
	c, err := parseMoof(in, data[moofBody:moofBody+int(moof.size)-len(moof.raw)])
	if err != nil {
		return Chunk{}, fmt.Errorf("cmaf: moof at offset %d: %w", moof.at, err)
	}
	c.Data, c.Init = data, changed
	return c, nil
}

// header reads the next top-level box header. It returns io.EOF only when
// the stream ends cleanly before it.
func (r *Reader) header() (*header, error) {
	if h := r.next; h != nil {
		r.next = nil
		return h, nil
	}
	h := &header{at: r.off, raw: make([]byte, 8, 16)}
	n, err := io.ReadFull(r.r, h.raw)
	r.off += int64(n)
	switch {
	case err == io.EOF:
		return nil, io.EOF
	case err != nil:
		return nil, r.readError(err, "box header", h.at)
	}
	h.t = boxType(h.raw[4:8])
	size := uint64(binary.BigEndian.Uint32(h.raw))
	switch size {
	case 0:
		return nil, fmt.Errorf("cmaf: %s box at offset %d has size 0 (up to the end of the stream), which a stream cannot bound", h.t, h.at)
	case 1:
		h.raw = h.raw[:16]
		n, err := io.ReadFull(r.r, h.raw[8:])
		r.off += int64(n)
		if err != nil {
			return nil, r.readError(err, h.t.String()+" box's 64-bit size", h.at)
		}
		size = binary.BigEndian.Uint64(h.raw[8:])
	}
	if size < uint64(len(h.raw)) || size > 1<<62 {
		return nil, fmt.Errorf("cmaf: %s box at offset %d has an invalid size of %d bytes", h.t, h.at, size)
	}
	h.size = int64(size)
	return h, nil
}

// body appends the box whose header is h, header included, to dst, unless
// dst would then exceed limit (what of the whole box is about: "chunk",
// "init segment").
func (r *Reader) body(dst []byte, h *header, what string, limit int64) ([]byte, error) {
	if int64(len(dst)) > limit-h.size {
		return nil, fmt.Errorf("cmaf: %s box of %d bytes at offset %d: the %s would exceed its limit of %d bytes: %w",
			h.t, h.size, h.at, what, limit, ErrTooLarge)
	}
	buf := bytes.NewBuffer(append(dst, h.raw...))
	// Copying grows the buffer as bytes arrive, so a header that claims
	// more than the stream holds costs no more memory than the stream.
	n, err := io.CopyN(buf, r.r, h.size-int64(len(h.raw)))
	r.off += n
	if err != nil {
		return nil, r.readError(err, h.t.String()+" box", h.at)
	}
	return buf.Bytes(), nil
}

// discard skips the box whose header is h.
func (r *Reader) discard(h *header) error {
	n, err := io.CopyN(io.Discard, r.r, h.size-int64(len(h.raw)))
	r.off += n
	if err != nil {
		return r.readError(err, h.t.String()+" box", h.at)
	}
	return nil
}

func (r *Reader) readError(err error, what string, at int64) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return fmt.Errorf("cmaf: %w: the stream ended inside the %s at offset %d", io.ErrUnexpectedEOF, what, at)
	}
	return fmt.Errorf("cmaf: read the %s at offset %d: %w", what, at, err)
}
