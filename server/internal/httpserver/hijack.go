package httpserver

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"

	"github.com/hlsrelay/hlsrelay/server/internal/wsconn"
)

// hijackBufferSize sizes the buffers the WebSocket library keeps for the
// life of a connection. net/http hands over 4 KiB each for reading and
// writing; a relay connection needs neither: frame headers are at most 14
// bytes, and payloads larger than the buffer bypass it in both directions.
// Small buffers are most of the difference between ~17 KiB and under 12 KiB
// per idle viewer (see docs/benchmarks.md).
const hijackBufferSize = 256

// smallBufferWriter wraps a ResponseWriter so that the WebSocket library
// gets small bufio buffers when it hijacks the connection, and writes
// through a wsconn.Conn that the session can cork and set deadlines on.
type smallBufferWriter struct {
	http.ResponseWriter
	conn *wsconn.Conn
	// onClose, if set, runs once when the hijacked connection closes.
	onClose func()
}

// Unwrap lets http.ResponseController reach the original writer.
func (w *smallBufferWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Hijack implements http.Hijacker.
func (w *smallBufferWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	raw, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, fmt.Errorf("hijack: %w", err)
	}
	// Bytes the client sent right after its handshake may already sit in
	// net/http's reader. The WebSocket library keeps only what the returned
	// reader has buffered, so buffer them there.
	early, _ := brw.Reader.Peek(brw.Reader.Buffered())
	conn := wsconn.New(raw)
	if w.onClose != nil {
		conn.OnClose(w.onClose)
	}
	br := bufio.NewReaderSize(io.MultiReader(bytes.NewReader(bytes.Clone(early)), conn), max(hijackBufferSize, len(early)))
	if _, err := br.Peek(len(early)); err != nil {
		conn.Close()
		return nil, nil, fmt.Errorf("hijack: keep early bytes: %w", err)
	}
	w.conn = conn
	return conn, bufio.NewReadWriter(br, bufio.NewWriterSize(conn, hijackBufferSize)), nil
}
